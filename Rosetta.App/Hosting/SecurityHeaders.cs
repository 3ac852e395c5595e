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
                headers["Content-Security-Policy"] = RefuseFraming(headers.ContentSecurityPolicy.ToString());
                headers["X-Content-Type-Options"] = "nosniff";
                // A window a task's page opens on the dashboard (same origin in path mode) is cut off from it.
                headers["Cross-Origin-Opener-Policy"] = "same-origin";
                // And no page of another origin (a task host) embeds the dashboard's answers, e.g. a user's image preview.
                headers["Cross-Origin-Resource-Policy"] = "same-origin";
            }
            headers["Referrer-Policy"] = "same-origin";
            return Task.CompletedTask;
        });
        await next();
    });

    /// <summary>
    /// The policy with its frame-ancestors directive replaced by 'none'. Replaced, not appended: a
    /// browser obeys the first frame-ancestors and ignores later ones, and Blazor puts
    /// "frame-ancestors 'self'" on every page it renders.
    /// </summary>
    public static string RefuseFraming(string policy) =>
        string.Join("; ", policy.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Where(d => !d.Split(' ', 2)[0].Equals("frame-ancestors", StringComparison.OrdinalIgnoreCase))
            .Append("frame-ancestors 'none'"));
}
