using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Net.Http.Headers;
using Rosetta.App.Auth;

namespace Rosetta.App.Proxy;

/// <summary>
/// The cookie that keeps a browser signed in to one task host after the hand-off: a
/// <see cref="TaskHostGrant"/> encrypted and authenticated with Data Protection (so it survives
/// platform restarts and cannot be forged or moved to another task), valid for <see cref="Lifetime"/>.
/// Host-only (no Domain), Path=/, HttpOnly, SameSite=Lax, Secure over HTTPS, where it is also named
/// with the browser's <c>__Host-</c> prefix so a sibling task host cannot plant one with a Domain.
/// A platform cookie: the proxy never forwards it to the interface.
/// </summary>
public sealed class TaskHostSessions(IDataProtectionProvider dataProtection, TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(8);
    private const string Name = PlatformCookies.Prefix + "task";
    private readonly IDataProtector _protector = dataProtection.CreateProtector("Rosetta.TaskHostSession.v1");

    private sealed record Payload(string TaskId, string? UserId, string? ShareSecret, string DashboardOrigin, DateTimeOffset Expires, string? SecurityStamp, string? SessionId = null);

    public static string CookieName(HttpRequest request) => request.IsHttps ? "__Host-" + Name : Name;

    public void SignIn(HttpContext ctx, TaskHostGrant grant)
    {
        var payload = new Payload(grant.TaskId, grant.UserId, grant.ShareSecret, grant.DashboardOrigin, time.GetUtcNow() + Lifetime, grant.SecurityStamp, grant.SessionId);
        ctx.Response.Cookies.Append(CookieName(ctx.Request), _protector.Protect(JsonSerializer.Serialize(payload)), new CookieOptions
        {
            Path = "/", HttpOnly = true, SameSite = Microsoft.AspNetCore.Http.SameSiteMode.Lax, Secure = ctx.Request.IsHttps, IsEssential = true,
        });
    }

    /// <summary>
    /// The unexpired grants the request's session cookies carry. Every cookie of the name counts, not only
    /// the first: a cookie planted by a sibling host cannot shadow the real one (over plain HTTP, where
    /// <c>__Host-</c> is unavailable).
    /// </summary>
    public IEnumerable<TaskHostGrant> Read(HttpRequest request)
    {
        if (!CookieHeaderValue.TryParseList(request.Headers.Cookie.OfType<string>().ToList(), out var cookies)) yield break;
        var name = CookieName(request);
        foreach (var cookie in cookies)
        {
            if (cookie.Name != name) continue;
            Payload? payload;
            try
            {
                payload = JsonSerializer.Deserialize<Payload>(_protector.Unprotect(cookie.Value.ToString()));
            }
            catch (Exception e) when (e is CryptographicException or JsonException or FormatException)
            {
                continue; // forged, from another key ring, or damaged
            }
            if (payload is not null && payload.Expires > time.GetUtcNow())
                yield return new TaskHostGrant(payload.TaskId, payload.UserId, payload.ShareSecret, payload.DashboardOrigin, payload.SecurityStamp, payload.SessionId);
        }
    }
}
