namespace Rosetta.App.Hosting;

/// <summary>
/// Response headers that keep task interfaces and the dashboard apart. The dashboard (everything
/// outside <c>/t/</c>) may not be framed at all, so a task's page cannot frame it to trick the user;
/// task interfaces may be framed only by the platform's own pages (the embedded desktop view), not
/// by other sites.
/// </summary>
public static class SecurityHeaders
{
    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use(async (ctx, next) =>
    {
        var taskInterface = ctx.Request.Path.StartsWithSegments("/t");
        ctx.Response.OnStarting(() =>
        {
            var headers = ctx.Response.Headers;
            if (taskInterface)
            {
                // The interface's own CSP stays (Jupyter sends one); framing by other sites does not.
                if (!headers.ContainsKey("Content-Security-Policy")) headers["Content-Security-Policy"] = "frame-ancestors 'self'";
                headers.Remove("X-Frame-Options");
                headers["X-Frame-Options"] = "SAMEORIGIN";
            }
            else
            {
                headers["X-Frame-Options"] = "DENY";
                // A response with its own policy (a file preview's sandbox) keeps it, with framing still refused.
                headers["Content-Security-Policy"] = headers.ContentSecurityPolicy is { Count: > 0 } own ? $"{own}; frame-ancestors 'none'" : "frame-ancestors 'none'";
                headers["X-Content-Type-Options"] = "nosniff";
            }
            headers["Referrer-Policy"] = "same-origin";
            return Task.CompletedTask;
        });
        await next();
    });
}
