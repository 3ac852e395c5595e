using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;

namespace Rosetta.App.Auth;

/// <summary>
/// The REST API and the task hub take the dashboard's session cookie only together with a token the
/// dashboard puts into its own links (file downloads, previews, uploads, log downloads). In path mode
/// a task's page runs on the dashboard's origin, so its scripts send the cookie along with every request
/// they make; without the token (which only the dashboard's pages hold, and those are never readable by
/// another page: see <see cref="Hosting.DashboardPageGuard"/>) the cookie opens nothing in the API.
/// API clients use a Bearer token and are not concerned. The token names the user and the security
/// stamp of their sessions, so a password or role change retires it with the sessions, and when it was
/// issued: it is taken for a day (<see cref="Lifetime"/>), so one copied out of a link (browser history,
/// a shared screen) is of no use for long, even together with the cookie.
/// </summary>
public sealed class DashboardRequestTokens(IDataProtectionProvider dataProtection, IServiceProvider services, TimeProvider time)
{
    public const string QueryName = "dashboardToken";

    /// <summary>How long a token is taken. The dashboard's links carry one at most an hour old (<see cref="DashboardApiLinks"/>).</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromDays(1);

    private readonly IDataProtector _protector = dataProtection.CreateProtector("Rosetta.DashboardRequest.v2");

    public string Issue(ClaimsPrincipal session) =>
        _protector.Protect($"{session.UserId()}\n{AuthenticationSetup.SecurityStampOf(session, services)}\n{time.GetUtcNow().ToUnixTimeSeconds()}");

    /// <summary>Whether the request carries a token issued for the session it is authenticated with.</summary>
    public bool Allows(HttpContext ctx)
    {
        var token = ctx.Request.Query[QueryName].ToString();
        if (token.Length == 0) return false;
        string[] issuedFor;
        try
        {
            issuedFor = _protector.Unprotect(token).Split('\n');
        }
        catch (CryptographicException)
        {
            return false; // forged, damaged, or from another key ring
        }
        return issuedFor.Length == 3 && issuedFor[0] == ctx.User.UserId()
            && issuedFor[1] == AuthenticationSetup.SecurityStampOf(ctx.User, ctx.RequestServices)
            && long.TryParse(issuedFor[2], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var issued)
            && time.GetUtcNow() - DateTimeOffset.FromUnixTimeSeconds(issued) is var age && age <= Lifetime && age >= -ClockSkew;
    }

    /// <summary>Tokens issued by another instance behind the same key ring may come from a clock slightly ahead.</summary>
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    /// <summary>Set on a request whose session cookie was not taken (for the 401's explanation).</summary>
    public const string CookieWithoutToken = "rosetta.cookieWithoutDashboardToken";
}

public static class DashboardRequestTokenCheck
{
    /// <summary>
    /// After authentication: a cookie session on the API or the hub without the token counts as no session,
    /// so the endpoint answers 401 (or, for an anonymous one such as POST /tokens, works as for anyone).
    /// </summary>
    public static IApplicationBuilder UseDashboardRequestTokens(this IApplicationBuilder app) => app.Use(async (ctx, next) =>
    {
        var path = ctx.Request.Path;
        if ((path.StartsWithSegments("/api") || path.StartsWithSegments("/hubs"))
            && ctx.User.Identity is { IsAuthenticated: true, AuthenticationType: var scheme } && scheme == IdentityConstants.ApplicationScheme
            && !ctx.RequestServices.GetRequiredService<DashboardRequestTokens>().Allows(ctx))
        {
            ctx.User = new ClaimsPrincipal(new ClaimsIdentity());
            ctx.Items[DashboardRequestTokens.CookieWithoutToken] = true;
        }
        await next();
    });
}

/// <summary>
/// Links the dashboard's components hand to the browser for API calls that ride on the session cookie:
/// the URL with the session's <see cref="DashboardRequestTokens"/> token. One per circuit, which may
/// stay open for days: the token is issued anew when an hour old, so a link rendered any time has
/// most of its token's day ahead of it.
/// </summary>
public sealed class DashboardApiLinks(AuthenticationStateProvider authentication, DashboardRequestTokens tokens, TimeProvider time)
{
    private static readonly TimeSpan RenewAfter = TimeSpan.FromHours(1);
    private string? _token;
    private DateTimeOffset _issuedAt;

    public string For(string url)
    {
        if (_token is null || time.GetUtcNow() - _issuedAt > RenewAfter)
        {
            _issuedAt = time.GetUtcNow();
            _token = Token();
        }
        return _token is null ? url : $"{url}{(url.Contains('?') ? '&' : '?')}{DashboardRequestTokens.QueryName}={Uri.EscapeDataString(_token)}";
    }

    private string? Token()
    {
        // The circuit's state is known from its start (a completed task); a link made before has no token and gets a 401.
        var state = authentication.GetAuthenticationStateAsync();
        return state.IsCompletedSuccessfully && state.Result.User.UserId() is not null ? tokens.Issue(state.Result.User) : null;
    }
}
