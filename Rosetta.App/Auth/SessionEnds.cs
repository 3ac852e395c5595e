using System.Collections.Concurrent;
using System.Security.Claims;
using Rosetta.Core.Accounts;

namespace Rosetta.App.Auth;

/// <summary>
/// Per dashboard session, a token cancelled when the session ends (logging out, or a session found
/// ended). What a session opened and keeps open — a task interface's WebSocket, a task-hub connection,
/// another tab's circuit — ties itself to this token, as <see cref="AccountEnds"/> does per account.
/// </summary>
public sealed class SessionEnds
{
    /// <summary>How long an ended session's cancelled token is kept: a connection whose cookie was
    /// checked just before the end ties itself to it in that time and ends at once.</summary>
    private static readonly TimeSpan KeptAfterEnd = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<string, CancellationTokenSource> _ends = new();
    private readonly ConcurrentDictionary<string, DateTime> _ended = new();

    /// <summary>The token of the session that authenticated <paramref name="user"/>; none for an API token or a share link.</summary>
    public CancellationToken EndOf(ClaimsPrincipal? user) =>
        user?.SessionId() is { } id ? EndOf(id) : CancellationToken.None;

    /// <param name="sessionId">The session's id (<see cref="SignInSessionStore"/>), never its key.</param>
    public CancellationToken EndOf(string sessionId) => _ends.GetOrAdd(sessionId, _ => new CancellationTokenSource()).Token;

    public void End(string sessionId)
    {
        _ends.GetOrAdd(sessionId, _ => new CancellationTokenSource()).Cancel();
        var now = DateTime.UtcNow;
        _ended[sessionId] = now;
        foreach (var (key, at) in _ended)
        {
            // Not disposed: a connection may be registering on it at this moment.
            if (now - at > KeptAfterEnd && _ended.TryRemove(KeyValuePair.Create(key, at))) _ends.TryRemove(key, out _);
        }
    }
}
