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
/// stamp of their sessions, so a password or role change retires it with the sessions.
/// </summary>
public sealed class DashboardRequestTokens(IDataProtectionProvider dataProtection, IServiceProvider services)
{
    public const string QueryName = "dashboardToken";
    private readonly IDataProtector _protector = dataProtection.CreateProtector("Rosetta.DashboardRequest.v1");

    public string Issue(ClaimsPrincipal session) =>
        _protector.Protect($"{session.UserId()}\n{AuthenticationSetup.SecurityStampOf(session, services)}");

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
        return issuedFor.Length == 2 && issuedFor[0] == ctx.User.UserId()
            && issuedFor[1] == AuthenticationSetup.SecurityStampOf(ctx.User, ctx.RequestServices);
    }

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
/// the URL with the session's <see cref="DashboardRequestTokens"/> token. One per circuit.
/// </summary>
public sealed class DashboardApiLinks(AuthenticationStateProvider authentication, DashboardRequestTokens tokens)
{
    private string? _token;

    public string For(string url)
    {
        _token ??= Token();
        return _token is null ? url : $"{url}{(url.Contains('?') ? '&' : '?')}{DashboardRequestTokens.QueryName}={Uri.EscapeDataString(_token)}";
    }

    private string? Token()
    {
        // The circuit's state is known from its start (a completed task); a link made before has no token and gets a 401.
        var state = authentication.GetAuthenticationStateAsync();
        return state.IsCompletedSuccessfully && state.Result.User.UserId() is not null ? tokens.Issue(state.Result.User) : null;
    }
}
