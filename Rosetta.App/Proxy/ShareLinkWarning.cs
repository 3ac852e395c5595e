using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Rosetta.App.Auth;

namespace Rosetta.App.Proxy;

/// <summary>
/// In path mode a shared task's page runs on the dashboard's own origin: a visitor signed in to the
/// dashboard lends it the session cookie, with which it can reach the visitor's own task interfaces
/// (<c>/t/{id}/</c> opens with it). So a share link opened by someone signed in as another user first
/// says so, and offers to sign out before opening (or a private window); so does the task's page when
/// its guest has signed in since. The owner and anonymous visitors go straight through; with per-task host names every task has an origin of its own and
/// nothing needs saying.
/// </summary>
public static class ShareLinkWarning
{
    public const string SignOutField = "signOut";

    /// <summary>The signed-in user who is not <paramref name="ownerId"/>, or null when the link may open at once.</summary>
    public static async Task<string?> SignedInOtherUserAsync(HttpContext ctx, string ownerId)
    {
        var session = await ctx.AuthenticateAsync(IdentityConstants.ApplicationScheme);
        return session.Succeeded && session.Principal.UserId() is { } visitor && visitor != ownerId
            ? session.Principal.Identity?.Name ?? "another user" : null;
    }

    /// <summary>The visitor chose to sign out and open the link (a form post of this page, antiforgery-checked).</summary>
    public static async Task<bool> ConfirmedAsync(HttpContext ctx)
    {
        if (!HttpMethods.IsPost(ctx.Request.Method) || !ctx.Request.HasFormContentType) return false;
        // Without this page's token (another site posting, a stale page) the page is shown again.
        return await ctx.RequestServices.GetRequiredService<IAntiforgery>().IsRequestValidAsync(ctx)
            && (await ctx.Request.ReadFormAsync(ctx.RequestAborted)).ContainsKey(SignOutField);
    }

    /// <summary>The browser loading a page (not a script's request or a subresource): where the warning can be shown.</summary>
    public static bool IsPageLoad(HttpRequest request) =>
        request.Headers["Sec-Fetch-Dest"].ToString() is { Length: > 0 } destination
            ? destination == "document"
            : HttpMethods.IsGet(request.Method) && request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);

    /// <param name="shareSecret">The link's secret: the sign-out form posts to the link itself, which signs out and opens the task.</param>
    public static IResult Page(HttpContext ctx, string visitor, string shareSecret)
    {
        var action = $"{Api.ShareEndpoints.OpenPath}/{shareSecret}";
        var tokens = ctx.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(ctx);
        var html = HtmlEncoder.Default;
        ctx.Response.Headers.CacheControl = "no-store";
        return Results.Content($$"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1.0">
            <title>Shared task · Rosetta</title><link rel="stylesheet" href="/app.css"></head>
            <body><div class="auth-page"><main class="auth-card" data-test="share-warning">
            <h1>Shared task</h1>
            <p class="auth-sub">You are signed in to Rosetta as <strong>{{html.Encode(visitor)}}</strong>, and this task belongs to someone else.</p>
            <p>Its page runs at this platform's own address, so while you are signed in here it could reach your own tasks' interfaces.
            Sign out to open it, or open the link in a private window.</p>
            <form method="post" action="{{html.Encode(action)}}">
            <input type="hidden" name="{{html.Encode(tokens.FormFieldName)}}" value="{{html.Encode(tokens.RequestToken ?? "")}}">
            <button type="submit" name="{{SignOutField}}" value="1" data-test="share-sign-out">Sign out and open the task</button>
            </form>
            <p><a href="/">Back to the dashboard</a></p>
            </main></div></body></html>
            """, "text/html; charset=utf-8");
    }
}
