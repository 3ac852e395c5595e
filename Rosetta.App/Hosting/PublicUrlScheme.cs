namespace Rosetta.App.Hosting;

/// <summary>
/// <c>Rosetta:PublicUrl</c> with https says the platform is reached over TLS, which a proxy in front of it ends:
/// every request then counts as https, whether or not the proxy says so (<c>X-Forwarded-Proto</c>, honoured only
/// with <c>ASPNETCORE_FORWARDEDHEADERS_ENABLED</c>). So cookies are <c>Secure</c> (the session's and the
/// antiforgery token's are <c>__Host-</c> cookies, which the browser takes only as such), redirects stay on
/// https, and a task hears <c>X-Forwarded-Proto: https</c>.
/// </summary>
public static class PublicUrlScheme
{
    public static bool IsHttps(IConfiguration configuration) =>
        Uri.TryCreate(configuration["Rosetta:PublicUrl"], UriKind.Absolute, out var url) && url.Scheme == Uri.UriSchemeHttps;

    public static IApplicationBuilder UsePublicUrlScheme(this IApplicationBuilder app)
    {
        if (!IsHttps(app.ApplicationServices.GetRequiredService<IConfiguration>())) return app;
        return app.Use((ctx, next) =>
        {
            ctx.Items[ArrivedAsKey] = ctx.Request.Scheme;
            ctx.Request.Scheme = Uri.UriSchemeHttps;
            return next(ctx);
        });
    }

    private static readonly object ArrivedAsKey = new();

    /// <summary>The scheme the request really came with (plain http from a tunnel to the app's own port, say).</summary>
    public static string ArrivedAs(HttpContext ctx) => ctx.Items[ArrivedAsKey] as string ?? ctx.Request.Scheme;
}
