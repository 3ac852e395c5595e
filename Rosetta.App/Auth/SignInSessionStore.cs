using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Rosetta.Core.Accounts;
using Rosetta.Core.Persistence;
using Rosetta.Core.Security;

namespace Rosetta.App.Auth;

/// <summary>
/// Keeps dashboard sessions on the server (the cookie handler's session store): the cookie carries
/// only a random key. Logging out deletes the session, so a copy of the cookie (another tab, a stolen
/// one) stops working with it, and ends what the session keeps open (<see cref="SessionEnds"/>). The
/// sessions survive a restart (the database), encrypted with the platform's data protection keys, and
/// are read through a short cache: the cookie is checked on every request, proxied ones included.
/// A session is named elsewhere by its id, the SHA-256 of its key: the key itself stays in the cookie.
/// </summary>
public sealed class SignInSessionStore(IDbContextFactory<RosettaDbContext> dbFactory, IDataProtectionProvider protection,
    SessionEnds ends, TimeProvider time) : ITicketStore
{
    /// <summary>The claim that gives the session's id on its principal (what it opens ties itself to it).</summary>
    public const string SessionIdClaim = "rosetta:session";

    private readonly IDataProtector _protector = protection.CreateProtector("Rosetta.Auth.SignInSessions");
    private readonly ShortLivedCache<string, AuthenticationTicket> _cache = new(TimeSpan.FromMinutes(5), time);

    public async Task<string> StoreAsync(AuthenticationTicket ticket)
    {
        var key = TaskSecrets.Generate();
        var named = Named(ticket, IdOf(key));
        await using var db = await dbFactory.CreateDbContextAsync();
        var now = time.GetUtcNow().UtcDateTime;
        // Sessions whose cookies ran out are of no use to anyone: gone with each new sign-in, and what they hold open
        // (a WebSocket lets in once) with them.
        var expired = db.SignInSessions.Where(s => s.ExpiresAt < now);
        var ended = await expired.Select(s => s.KeyHash).ToListAsync();
        await expired.ExecuteDeleteAsync();
        foreach (var id in ended) ends.End(id);
        db.SignInSessions.Add(new SignInSession
        {
            KeyHash = IdOf(key), UserId = named.Principal.UserId() ?? "", Ticket = Protect(named), CreatedAt = now, ExpiresAt = ExpiryOf(named),
        });
        await db.SaveChangesAsync();
        return key;
    }

    /// <summary>
    /// A sliding renewal (or a refreshed sign-in of the same user). A session never passes to another user:
    /// sign-ins start new sessions (the login page is served signed out), and a renewal for someone else
    /// ends the session instead, so the cookie it writes opens nothing.
    /// </summary>
    public async Task RenewAsync(string key, AuthenticationTicket ticket)
    {
        var id = IdOf(key);
        var named = Named(ticket, id);
        await using var db = await dbFactory.CreateDbContextAsync();
        var owner = await db.SignInSessions.Where(s => s.KeyHash == id).Select(s => s.UserId).FirstOrDefaultAsync();
        if (owner is null) return; // logged out meanwhile: it stays ended
        if (owner != named.Principal.UserId())
        {
            await RemoveAsync(key);
            return;
        }
        // One statement: a log-out deleting the row meanwhile leaves nothing to update, rather than a conflict.
        var (ticketBytes, expires) = (Protect(named), ExpiryOf(named));
        await db.SignInSessions.Where(s => s.KeyHash == id)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.Ticket, ticketBytes).SetProperty(x => x.ExpiresAt, expires));
        _cache.Invalidate(id);
    }

    public Task<AuthenticationTicket?> RetrieveAsync(string key) => TicketAsync(IdOf(key));

    /// <summary>Whether the session with this id is still signed in, as <paramref name="userId"/> (for what it handed on, such as a task host's cookie).</summary>
    public async Task<bool> IsLiveAsync(string sessionId, string userId) => (await TicketAsync(sessionId))?.Principal.UserId() == userId;

    public async Task RemoveAsync(string key)
    {
        var id = IdOf(key);
        _cache.Invalidate(id);
        await using var db = await dbFactory.CreateDbContextAsync();
        await db.SignInSessions.Where(s => s.KeyHash == id).ExecuteDeleteAsync();
        _cache.Invalidate(id); // again: a read between the first and the deletion may have cached it
        ends.End(id);
    }

    /// <summary>
    /// Ends every session of <paramref name="userId"/>, with what they keep open:
    /// after a password change or reset, or a change of role. The new security stamp refuses their next requests
    /// anyway; a WebSocket or a download they opened before makes none, and would go on (a stolen cookie's kernel
    /// channel, say, after its owner changed the password to be rid of it).
    /// </summary>
    public async Task EndAllOfAsync(string userId)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        var ids = await db.SignInSessions.Where(s => s.UserId == userId).Select(s => s.KeyHash).ToListAsync();
        // By the ids read: a session signed in meanwhile is not deleted without being ended.
        await db.SignInSessions.Where(s => ids.Contains(s.KeyHash)).ExecuteDeleteAsync();
        foreach (var id in ids)
        {
            _cache.Invalidate(id);
            ends.End(id);
        }
    }

    private Task<AuthenticationTicket?> TicketAsync(string id) => _cache.GetOrCreateAsync(id, async () =>
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        var session = await db.SignInSessions.AsNoTracking().FirstOrDefaultAsync(s => s.KeyHash == id);
        if (session is null || session.ExpiresAt < time.GetUtcNow().UtcDateTime) return null;
        try
        {
            return TicketSerializer.Default.Deserialize(_protector.Unprotect(session.Ticket));
        }
        catch (CryptographicException)
        {
            return null; // written with keys this platform no longer has: the user signs in again
        }
    });

    /// <summary>The ticket with the claim that names its session (a renewal's new ticket may not have it yet).</summary>
    private static AuthenticationTicket Named(AuthenticationTicket ticket, string id)
    {
        if (ticket.Principal.FindFirstValue(SessionIdClaim) == id) return ticket;
        var identities = ticket.Principal.Identities.Select(i => i.Clone()).ToList();
        foreach (var identity in identities)
            foreach (var stale in identity.FindAll(SessionIdClaim).ToList()) identity.RemoveClaim(stale);
        identities[0].AddClaim(new Claim(SessionIdClaim, id));
        return new AuthenticationTicket(new ClaimsPrincipal(identities), ticket.Properties, ticket.AuthenticationScheme);
    }

    private byte[] Protect(AuthenticationTicket ticket) => _protector.Protect(TicketSerializer.Default.Serialize(ticket));

    private DateTime ExpiryOf(AuthenticationTicket ticket) =>
        (ticket.Properties.ExpiresUtc ?? time.GetUtcNow() + TimeSpan.FromDays(1)).UtcDateTime;

    private static string IdOf(string key) => TaskSecrets.HashOf(key);
}
