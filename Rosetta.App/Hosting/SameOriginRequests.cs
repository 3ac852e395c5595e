using Rosetta.App.Auth;

namespace Rosetta.App.Hosting;

/// <summary>
/// Changes and WebSockets that ride on the browser's cookies come only from the dashboard's own
/// pages. With per-task host names a task's page is another origin but the same site, so the
/// SameSite=Lax session cookie goes along with its form posts and WebSockets (the task hub, the
/// body-less stop and key-rotation endpoints, a desktop's relay): those are refused here by their
/// Origin. API clients (a Bearer token, no ambient credentials) and requests without an Origin (not
/// sent by a browser) pass; the antiforgery token and authorization still apply to them.
/// </summary>
public static class SameOriginRequests
{
    public static IApplicationBuilder UseSameOriginRequests(this IApplicationBuilder app) => app.Use(async (ctx, next) =>
    {
        var request = ctx.Request;
        if (ChangesOrUpgrades(request) && request.Cookies.Count > 0 && !ApiTokenAuthenticationHandler.HasBearer(request)
            && request.Headers.Origin.ToString() is { Length: > 0 } origin && !IsDashboard(ctx, origin))
        {
            await Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Cross-origin request refused.",
                detail: "Requests that change something, and WebSockets, are accepted with the dashboard's cookie only from the dashboard's own pages; API clients authenticate with a Bearer token.")
                .ExecuteAsync(ctx);
            return;
        }
        await next();
    });

    /// <summary>A request a page of another origin must not send with the browser's cookies: not a plain read, or a WebSocket.</summary>
    public static bool ChangesOrUpgrades(HttpRequest request) =>
        !(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method))
        || request.Headers.Upgrade.Count > 0;

    /// <summary>
    /// Whether <paramref name="origin"/> is the dashboard's: the request's own origin (on the loopback also with the
    /// scheme it came with, which an https public URL changes), or the public URL's (behind a TLS-terminating
    /// proxy the request's own scheme is not the browser's).
    /// </summary>
    private static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || System.Net.IPAddress.TryParse(host.Trim('[', ']'), out var address) && System.Net.IPAddress.IsLoopback(address);

    public static bool IsDashboard(HttpContext ctx, string origin)
    {
        if (string.Equals(origin, $"{ctx.Request.Scheme}://{ctx.Request.Host}", StringComparison.OrdinalIgnoreCase)) return true;
        // Plain http to the app's own port on this machine (a tunnel to localhost): behind a TLS proxy every request
        // arrives as http, and a page on http://{the public host} (anyone on the way can serve one) is not the dashboard.
        if (IsLoopback(ctx.Request.Host.Host)
            && string.Equals(origin, $"{PublicUrlScheme.ArrivedAs(ctx)}://{ctx.Request.Host}", StringComparison.OrdinalIgnoreCase)) return true;
        var publicUrl = ctx.RequestServices.GetRequiredService<IConfiguration>()["Rosetta:PublicUrl"];
        return Uri.TryCreate(publicUrl, UriKind.Absolute, out var url)
            && string.Equals(origin, url.GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase);
    }
}
