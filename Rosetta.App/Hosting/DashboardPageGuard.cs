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
    public static IApplicationBuilder UseDashboardPageGuard(this IApplicationBuilder app)
    {
        var session = PlatformCookies.Named(PlatformCookies.Auth, PlatformCookies.HostOnly(app.ApplicationServices.GetRequiredService<IConfiguration>()));
        return app.Use((ctx, next) => Guard(ctx, next, session));
    }

    /// <param name="session">The session cookie's name (<c>__Host-</c> when served over https).</param>
    private static Task Guard(HttpContext ctx, Func<Task> next, string session)
    {
        var request = ctx.Request;
        var planted = HasPlantedSession(request.Headers.Cookie, session);
        if (planted) ExpirePlantedSessions(ctx, session);
        if (request.Headers.Cookie.Count > 0
            && (IsDashboardPage(request.Path) && request.Headers["Sec-Fetch-Dest"].ToString() is { Length: > 0 } destination && destination != "document"
                || planted
                || request.Path.Equals(LoginPath, StringComparison.OrdinalIgnoreCase)))
        {
            request.Headers.Cookie = WithoutSession(request.Headers.Cookie, session);
        }
        return next();
    }

    /// <summary>
    /// A planted session cookie stays in the browser: until it went, every page under its path was served
    /// signed out, and signing in again did not help. The real cookie is host-only with the path '/', and a
    /// script cannot shadow an HttpOnly cookie of the same name, domain and path, so the planted one has a
    /// longer path, or a Domain attribute (the host's or a parent domain's, set by a sibling task host):
    /// each one that can match this address is expired, and the next request carries the real cookie alone.
    /// Paths are the address as the browser sent it (cookie paths match it encoded), up to the first segment
    /// a cookie attribute cannot carry.
    /// </summary>
    private static void ExpirePlantedSessions(HttpContext ctx, string session)
    {
        var target = RequestTarget.RawPath(ctx) ?? ctx.Request.Path.ToUriComponent();
        var paths = new List<string>();
        var path = "";
        foreach (var segment in target.Split('/', StringSplitOptions.RemoveEmptyEntries).Take(8))
        {
            if (!segment.All(IsCookiePathCharacter)) break;
            path += "/" + segment;
            paths.Add(path);
            paths.Add(path + "/");
        }
        var host = ctx.Request.Host.Host;
        var cookies = paths.Select(p => (Domain: (string?)null, Path: p)).ToList(); // host-only: never '/', the real cookie's
        if (!System.Net.IPAddress.TryParse(host, out _) && host.All(IsCookiePathCharacter))
        {
            var labels = host.Split('.');
            for (var i = 0; i < labels.Length - 1; i++)
            {
                var domain = string.Join('.', labels[i..]);
                cookies.AddRange(paths.Prepend("/").Select(p => ((string?)domain, p)));
            }
        }
        foreach (var (domain, cookiePath) in cookies)
        {
            ctx.Response.Headers.Append("Set-Cookie", new Microsoft.Net.Http.Headers.SetCookieHeaderValue(session, "")
            {
                Path = cookiePath, Domain = domain, Expires = DateTimeOffset.UnixEpoch,
            }.ToString());
        }
    }

    /// <summary>What a Set-Cookie path (or domain) may hold as it is: printable ASCII but ';', ',', spaces and quotes.</summary>
    private static bool IsCookiePathCharacter(char c) => c is > ' ' and < '\x7f' and not (';' or ',' or '"' or '\\');

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
    private static bool HasPlantedSession(Microsoft.Extensions.Primitives.StringValues cookieHeaders, string session) =>
        PlatformCookies.Parts(cookieHeaders).Count(c => c.Name == session) > 1;

    /// <summary>
    /// Everything but the task proxy and share links (task pages), the API and the hub (which take the
    /// cookie only with a dashboard token) and the circuit's own endpoints (which start only from a page's descriptors).
    /// </summary>
    private static bool IsDashboardPage(PathString path) =>
        !(path.StartsWithSegments("/t") || path.StartsWithSegments(Api.ShareEndpoints.OpenPath) || path.StartsWithSegments("/api")
          || path.StartsWithSegments("/hubs") || path.StartsWithSegments("/_blazor"));

    /// <summary>The Cookie header without the session cookie (and its chunks, <c>rosetta.authC1</c>…).</summary>
    private static string WithoutSession(Microsoft.Extensions.Primitives.StringValues cookieHeaders, string session) => string.Join("; ",
        PlatformCookies.Parts(cookieHeaders).Where(c => !c.Name.StartsWith(session, StringComparison.Ordinal)).Select(c => c.Part));
}
