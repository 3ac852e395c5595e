using System.Collections.Concurrent;

namespace Rosetta.Core.Accounts;

/// <summary>
/// Per user, a token cancelled when the account is disabled (and, at start, for every account disabled before). Credentials are checked when a request
/// or a connection starts; what stays open after that (a task interface's WebSocket, a task-hub
/// connection, a dashboard circuit) ties itself to this token so it does not outlive the account.
/// </summary>
public sealed class AccountEnds
{
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _ends = new();

    public CancellationToken EndOf(string userId) => _ends.GetOrAdd(userId, _ => new CancellationTokenSource()).Token;

    /// <summary>
    /// Ends what is open for the user. The cancelled source stays until <see cref="Resume"/>, so a
    /// connection whose credentials were checked just before ties itself to it and ends at once.
    /// </summary>
    public void End(string userId) => _ends.GetOrAdd(userId, _ => new CancellationTokenSource()).Cancel();

    /// <summary>The account is enabled again: what opens from now on stays open.</summary>
    public void Resume(string userId)
    {
        if (_ends.TryGetValue(userId, out var ended) && ended.IsCancellationRequested)
            _ends.TryRemove(KeyValuePair.Create(userId, ended));
    }
}
