using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Rosetta.Core.Security;

namespace Rosetta.App.Proxy;

/// <summary>
/// Who may open one task on its own host: the owner (<see cref="UserId"/>) or the holder of a share link
/// (<see cref="ShareSecret"/>), checked again on every request. <see cref="DashboardOrigin"/> is the
/// origin allowed to frame the interface (the embedded desktop view).
/// </summary>
/// <param name="SessionId">The owner's dashboard session it came from (<see cref="Auth.SignInSessionStore"/>): logging out
/// there ends it too. Null in cookies made before sessions were kept on the server.</param>
public sealed record TaskHostGrant(string TaskId, string? UserId, string? ShareSecret, string DashboardOrigin, string? SecurityStamp = null, string? SessionId = null);

/// <summary>
/// The hand-off from the dashboard to a task host, whose browser has none of the dashboard's cookies
/// (as JupyterHub and Coder do it): the dashboard issues a random one-time code valid for
/// <see cref="Lifetime"/>, the browser carries it in the URL to the task host, which redeems it once for
/// a host-only cookie and redirects the code out of the address bar. Codes live only in memory, as hashes.
/// </summary>
public sealed class TaskHostTickets(TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(30);
    private const string Prefix = "rht_";
    private readonly ConcurrentDictionary<string, (TaskHostGrant Grant, string ReturnPath, DateTimeOffset Expires)> _open = new();
    private long _lastSweepTicks;

    /// <summary>A new code for <paramref name="grant"/>; <paramref name="returnPath"/> (path and query on the task host) is where redeeming it leads.</summary>
    public string Issue(TaskHostGrant grant, string returnPath)
    {
        var now = time.GetUtcNow();
        // Expired codes go at most once a second: sweeping on every issue made a burst of hand-offs
        // (anyone with a share link can cause them) cost the square of its size.
        var last = Interlocked.Read(ref _lastSweepTicks);
        if (now.UtcTicks - last >= TimeSpan.TicksPerSecond && Interlocked.CompareExchange(ref _lastSweepTicks, now.UtcTicks, last) == last)
        {
            foreach (var (hash, ticket) in _open) if (ticket.Expires <= now) _open.TryRemove(hash, out _);
        }
        var code = Prefix + TaskSecrets.Base64Url(RandomNumberGenerator.GetBytes(32));
        _open[Hash(code)] = (grant, returnPath.StartsWith('/') ? returnPath : "/", now + Lifetime);
        return code;
    }

    /// <summary>
    /// The grant of a code issued for <paramref name="taskId"/>, at most once: a code is gone after its
    /// first use, whether or not that use was for the right task and in time.
    /// </summary>
    public (TaskHostGrant Grant, string ReturnPath)? Redeem(string? code, string taskId)
    {
        if (code is null || !code.StartsWith(Prefix, StringComparison.Ordinal) || code.Length > 100) return null;
        if (!_open.TryRemove(Hash(code), out var ticket)) return null;
        if (ticket.Expires <= time.GetUtcNow() || ticket.Grant.TaskId != taskId) return null;
        return (ticket.Grant, ticket.ReturnPath);
    }

    private static string Hash(string code) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(code)));
}
