using Rosetta.App.Auth;

namespace Rosetta.App.Hosting;

/// <summary>
/// In path mode a task's page runs on the dashboard's origin, so a script there may fetch the dashboard's
/// pages with the visitor's session cookie and read them: every link token
/// (<see cref="DashboardRequestTokens"/>), every component descriptor a circuit starts from. A browser only
/// ever loads a dashboard page as a document (a navigation, <c>Sec-Fetch-Dest: document</c>); a request
/// for one that the browser marks as anything else (a fetch or XHR, a frame, an image) is served as if
/// signed out. Browsers too old to send fetch metadata are served as before. Together with the
/// dashboard's <c>Cross-Origin-Opener-Policy: same-origin</c> (a window a task's page opens is cut off
/// from it) and <c>X-Frame-Options: DENY</c>, a task's page cannot read what the dashboard shows.
/// </summary>
public static class DashboardPageGuard
{
    public static IApplicationBuilder UseDashboardPageGuard(this IApplicationBuilder app) => app.Use((ctx, next) =>
    {
        var request = ctx.Request;
        var planted = HasPlantedSession(request.Headers.Cookie);
        if (planted) ExpirePlantedSessions(ctx);
        if (request.Headers.Cookie.Count > 0
            && (IsDashboardPage(request.Path) && request.Headers["Sec-Fetch-Dest"].ToString() is { Length: > 0 } destination && destination != "document"
                || planted
                || request.Path.Equals(LoginPath, StringComparison.OrdinalIgnoreCase)))
        {
            request.Headers.Cookie = WithoutSession(request.Headers.Cookie);
        }
        return next(ctx);
    });

    /// <summary>
    /// A planted session cookie stays in the browser: until it went, every page under its path was served
    /// signed out, and signing in again did not help. The real cookie's path is '/', so the planted one has
    /// a longer path (the browser cannot let a script shadow an HttpOnly cookie of the same name and path):
    /// each one that can match this address (every folder of it, host-only or for the host and its parent
    /// domains) is expired, and the next request carries the real cookie alone.
    /// </summary>
    private static void ExpirePlantedSessions(HttpContext ctx)
    {
        var segments = ctx.Request.Path.Value?.Split('/', StringSplitOptions.RemoveEmptyEntries) ?? [];
        var paths = new List<string>();
        var path = "";
        foreach (var segment in segments.Take(8))
        {
            path += "/" + segment;
            paths.Add(path);
            paths.Add(path + "/");
        }
        var host = ctx.Request.Host.Host;
        var domains = new List<string?> { null };
        if (!System.Net.IPAddress.TryParse(host, out _))
        {
            var labels = host.Split('.');
            for (var i = 0; i < labels.Length - 1; i++) domains.Add(string.Join('.', labels[i..]));
        }
        foreach (var domain in domains)
        {
            foreach (var cookiePath in paths)
            {
                ctx.Response.Headers.Append("Set-Cookie", new Microsoft.Net.Http.Headers.SetCookieHeaderValue(PlatformCookies.Auth, "")
                {
                    Path = cookiePath, Domain = domain, Expires = DateTimeOffset.UnixEpoch,
                }.ToString());
            }
        }
    }

    /// <summary>
    /// The login page is always served signed out, so a sign-in always starts a new session. Over a session
    /// the request still carried, the cookie handler would renew that one for the person signing in: a
    /// session cookie planted in their browser (a sibling task host can set one for the parent domain) would
    /// then give its planter the signed-in session, and the previous user's open connections would pass on.
    /// </summary>
    private const string LoginPath = "/login";

    /// <summary>
    /// Two session cookies: a script can add one (<c>document.cookie</c>, with a longer path, which the
    /// browser then sends first) next to the real, HttpOnly one, to sign its visitor into another account.
    /// The server sets one only, so a request with two is served as signed out.
    /// </summary>
    private static bool HasPlantedSession(Microsoft.Extensions.Primitives.StringValues cookieHeaders) =>
        PlatformCookies.Parts(cookieHeaders).Count(c => c.Name == PlatformCookies.Auth) > 1;

    /// <summary>
    /// Everything but the task proxy and share links (task pages), the API and the hub (which take the
    /// cookie only with a dashboard token) and the circuit's own endpoints (which start only from a page's descriptors).
    /// </summary>
    private static bool IsDashboardPage(PathString path) =>
        !(path.StartsWithSegments("/t") || path.StartsWithSegments(Api.ShareEndpoints.OpenPath) || path.StartsWithSegments("/api")
          || path.StartsWithSegments("/hubs") || path.StartsWithSegments("/_blazor"));

    /// <summary>The Cookie header without the session cookie (and its chunks, <c>rosetta.authC1</c>…).</summary>
    public static string WithoutSession(Microsoft.Extensions.Primitives.StringValues cookieHeaders) => string.Join("; ",
        PlatformCookies.Parts(cookieHeaders).Where(c => !c.Name.StartsWith(PlatformCookies.Auth, StringComparison.Ordinal)).Select(c => c.Part));
}
