using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Rosetta.Core.Domain;
using Rosetta.Core.Monitoring;
using Rosetta.Core.Persistence;
using Rosetta.Core.Security;
using Rosetta.Core.Validation;

namespace Rosetta.Core.Sharing;

/// <summary>A link that lets someone without an account reach one task's interface until it expires or is revoked.</summary>
public sealed class ShareLink
{
    public required string Id { get; set; }
    public required string TaskId { get; set; }
    public required string OwnerId { get; set; }
    public required string Name { get; set; }
    /// <summary>SHA-256 of the link's secret; the secret itself is shown once.</summary>
    public required string Hash { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime ExpiresAt { get; set; }
    public DateTime? RevokedAt { get; set; }
    /// <summary>
    /// The holder sees a desktop but cannot control it: no input, clipboard or screen size reaches the VNC
    /// server, and no request but GET and HEAD (and the WebSocket through the VNC relay) reaches the
    /// interface. Only for desktop (VNC) tasks.
    /// </summary>
    public bool ViewOnly { get; set; }
}

/// <summary>
/// Share links: created by a task's owner, scoped to that task, expiring, revocable. Valid links
/// are kept in memory so the proxy checks one on every request and WebSocket upgrade without a
/// database round trip; a revocation takes effect on the next request, and connections already open
/// with the link (a kernel's or a desktop's WebSocket) end with it (<see cref="EndOf"/>).
/// </summary>
public sealed class ShareLinkService(IDbContextFactory<RosettaDbContext> dbFactory, TaskMonitor monitor, TimeProvider time) : IDisposable
{
    public const string Prefix = "rss_";
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(30);
    /// <summary>How often links with open connections are checked for expiry.</summary>
    public static readonly TimeSpan ExpirySweepInterval = TimeSpan.FromSeconds(2);
    private readonly ConcurrentDictionary<string, ShareLink> _valid = new();
    /// <summary>Per link hash, cancelled when the link ends; only for links that have open connections.</summary>
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _ends = new();
    private ITimer? _expirySweep;
    private readonly SemaphoreSlim _loadGate = new(1, 1);
    private bool _loaded;

    public sealed record Issued(ShareLink Link, string Secret);

    /// <summary>A new link to the task's web interface; null when the caller cannot see the task.</summary>
    /// <exception cref="OwnerOnlyException">An admin asked to share another user's task.</exception>
    /// <exception cref="ConflictException">The task's interface is not a web page a link could open.</exception>
    public async Task<Issued?> CreateAsync(Caller caller, string taskId, string? name, TimeSpan lifetime, bool viewOnly, CancellationToken ct)
    {
        if (monitor.Get(taskId) is not { } task || !caller.CanSee(task.OwnerId)) return null;
        if (task.OwnerId != caller.UserId)
            throw new OwnerOnlyException("Only the task's owner can share it. An admin can list and revoke its links.");
        if (task.InterfaceProtocol != InterfaceProtocol.Http)
            throw new ConflictException("This task's interface is not a web page, so a link cannot open it: people reach an SSH task with an SSH client, its address and its own password or key.");
        var errors = new ValidationErrors();
        TextRules.DisplayName(errors, "name", name?.Trim(), required: false);
        if (lifetime <= TimeSpan.Zero || lifetime > MaxLifetime) errors.Add("expiresInMinutes", $"must be between 1 minute and {MaxLifetime.TotalDays} days.");
        if (viewOnly && !CanBeViewOnly(task))
            errors.Add("viewOnly", "is only for desktop tasks: the platform can hold back a desktop's keyboard, mouse and clipboard, but cannot tell which of a web app's requests only look. Share this task with a full link, or not at all.");
        if (!errors.IsValid) throw new ValidationException(errors);
        await EnsureLoadedAsync(ct);

        var secret = Prefix + TaskSecrets.Base64Url(RandomNumberGenerator.GetBytes(32));
        var now = time.GetUtcNow().UtcDateTime;
        var link = new ShareLink
        {
            Id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)), TaskId = taskId, OwnerId = caller.UserId,
            Name = string.IsNullOrWhiteSpace(name) ? "Share link" : name.Trim(), Hash = TaskSecrets.HashOf(secret), CreatedAt = now, ExpiresAt = now + lifetime,
            ViewOnly = viewOnly,
        };
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        db.Set<ShareLink>().Add(link);
        await db.SaveChangesAsync(ct);
        _valid[link.Hash] = link;
        return new Issued(link, secret);
    }

    /// <summary>Whether the task's interface is a desktop whose VNC stream the proxy relays, and so can filter.</summary>
    public static bool CanBeViewOnly(TaskRecord task) => task.ProxyAuthorizationScheme == Software.VncAuthorization;

    /// <summary>The task's links (active and ended), for its owner or an admin; null for a task the caller cannot see.</summary>
    public async Task<IReadOnlyList<ShareLink>?> ListAsync(Caller caller, string taskId, CancellationToken ct)
    {
        if (monitor.Get(taskId) is not { } task || !caller.CanSee(task.OwnerId)) return null;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Set<ShareLink>().AsNoTracking().Where(s => s.TaskId == taskId).OrderByDescending(s => s.CreatedAt).ToListAsync(ct);
    }

    /// <summary>Ends a link at once (its owner or an admin, e.g. for a link that leaked); false when there is no such link the caller can see.</summary>
    public async Task<bool> RevokeAsync(Caller caller, string taskId, string linkId, CancellationToken ct)
    {
        if (monitor.Get(taskId) is not { } task || !caller.CanSee(task.OwnerId)) return false;
        await EnsureLoadedAsync(ct); // a first load running now must not bring the revoked link back
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var link = await db.Set<ShareLink>().FirstOrDefaultAsync(s => s.Id == linkId && s.TaskId == taskId, ct);
        if (link is null) return false;
        link.RevokedAt ??= time.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(ct);
        _valid.TryRemove(link.Hash, out _);
        End(link.Hash);
        return true;
    }

    /// <summary>
    /// A token cancelled when <paramref name="link"/> stops opening its task (revoked,
    /// expired, its task deleted); already cancelled for a link that does not. The proxy ends the
    /// connections it opened with the link through it.
    /// </summary>
    public CancellationToken EndOf(ShareLink link)
    {
        var hash = link.Hash;
        if (!_valid.ContainsKey(hash)) return new CancellationToken(canceled: true);
        var end = _ends.GetOrAdd(hash, _ => new CancellationTokenSource());
        if (!_valid.ContainsKey(hash)) End(hash); // revoked between the two looks
        if (_expirySweep is null)
        {
            var sweep = time.CreateTimer(_ => EndExpired(), null, ExpirySweepInterval, ExpirySweepInterval);
            if (Interlocked.CompareExchange(ref _expirySweep, sweep, null) is not null) sweep.Dispose();
        }
        return end.Token;
    }

    private void EndExpired()
    {
        var now = time.GetUtcNow().UtcDateTime;
        foreach (var hash in _ends.Keys)
        {
            if (_valid.TryGetValue(hash, out var link) && link.ExpiresAt > now) continue;
            _valid.TryRemove(hash, out _);
            End(hash);
        }
    }

    private void End(string hash)
    {
        if (_ends.TryRemove(hash, out var end)) end.Cancel();
    }

    public void Dispose() => _expirySweep?.Dispose();

    /// <summary>The link a secret belongs to (its <see cref="ShareLink.TaskId"/> is what it opens), or null when the secret is unknown, revoked or expired.</summary>
    public async Task<ShareLink?> ValidLinkAsync(string? secret, CancellationToken ct)
    {
        if (secret is null || !secret.StartsWith(Prefix, StringComparison.Ordinal) || secret.Length > 200) return null;
        await EnsureLoadedAsync(ct);
        if (!_valid.TryGetValue(TaskSecrets.HashOf(secret), out var link)) return null;
        if (link.ExpiresAt <= time.GetUtcNow().UtcDateTime)
        {
            _valid.TryRemove(link.Hash, out _);
            return null;
        }
        return link;
    }

    /// <summary>Drops the links of a deleted task.</summary>
    public async Task ForgetAsync(string taskId, CancellationToken ct)
    {
        await EnsureLoadedAsync(ct);
        foreach (var (hash, link) in _valid)
        {
            if (link.TaskId != taskId) continue;
            _valid.TryRemove(hash, out _);
            End(hash);
        }
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.Set<ShareLink>().Where(s => s.TaskId == taskId).ExecuteDeleteAsync(ct);
    }

    private async Task EnsureLoadedAsync(CancellationToken ct)
    {
        if (_loaded) return;
        await _loadGate.WaitAsync(ct);
        try
        {
            if (_loaded) return;
            var now = time.GetUtcNow().UtcDateTime;
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            foreach (var link in await db.Set<ShareLink>().AsNoTracking().Where(s => s.RevokedAt == null && s.ExpiresAt > now).ToListAsync(ct))
                _valid[link.Hash] = link;
            _loaded = true;
        }
        finally
        {
            _loadGate.Release();
        }
    }

}
