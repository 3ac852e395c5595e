using System.Net;
using Microsoft.AspNetCore.Http.Metadata;

namespace Rosetta.App.Hosting;

/// <summary>
/// A problem a person meets in the browser's address bar (a stopped task's <c>/t/{id}/</c>, a revoked
/// share link, a mistyped page) as a small readable page instead of raw JSON. Only for page loads
/// (the browser asks for HTML) outside the API: API clients, and a task page's own scripts, still get
/// <c>application/problem+json</c>.
/// </summary>
public sealed class HtmlProblemPages(Proxy.TaskHostNames taskHosts) : IProblemDetailsWriter
{
    /// <summary>A problem's extension: an absolute http(s) address the page offers to open in a new tab (the way on).</summary>
    public const string OpenInNewTab = "openInNewTab";

    public bool CanWrite(ProblemDetailsContext context)
    {
        var request = context.HttpContext.Request;
        if (request.Path.StartsWithSegments("/api") || request.Path.StartsWithSegments("/hubs") || request.Path.StartsWithSegments("/openapi")) return false;
        var destination = request.Headers["Sec-Fetch-Dest"].ToString();
        return destination.Length > 0
            ? destination is "document" or "iframe" or "frame"
            : request.Headers.Accept.ToString().StartsWith("text/html", StringComparison.OrdinalIgnoreCase); // a browser's navigation puts it first
    }

    public async ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var ctx = context.HttpContext;
        var problem = context.ProblemDetails;
        var title = WebUtility.HtmlEncode(problem.Title ?? ReasonPhrases(problem.Status ?? ctx.Response.StatusCode));
        var detail = WebUtility.HtmlEncode(problem.Detail ?? "");
        // On a task's own host name "/" is the task, not the dashboard.
        var home = taskHosts.TryMatch(ctx.Request.Host, out _) ? "" : """<p><a href="/" target="_top">Open the dashboard</a></p>""";
        if (problem.Extensions.TryGetValue(OpenInNewTab, out var onward) && onward is string address
            && Uri.TryCreate(address, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
            home = $"""<p><a href="{WebUtility.HtmlEncode(uri.AbsoluteUri)}" target="_blank" rel="noopener" data-open-in-new-tab>Open it in its own tab</a></p>""" + home;
        ctx.Response.ContentType = "text/html; charset=utf-8";
        ctx.Response.Headers.Vary = "Accept, Sec-Fetch-Dest";
        await ctx.Response.WriteAsync($"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{title} · Rosetta</title></head>
            <body style="font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;line-height:1.5">
            <h1 style="font-size:1.4rem">{title}</h1>
            <p data-problem-detail>{detail}</p>
            <p style="color:#666">HTTP {problem.Status ?? ctx.Response.StatusCode}</p>
            {home}
            </body></html>
            """, ctx.RequestAborted);
    }

    private static string ReasonPhrases(int status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status);
}
