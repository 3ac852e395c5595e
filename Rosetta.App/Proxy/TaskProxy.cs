using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Authentication;
using Rosetta.App.Auth;
using Rosetta.Core.Monitoring;
using Rosetta.Core.Sharing;
using Yarp.ReverseProxy.Forwarder;

namespace Rosetta.App.Proxy;

/// <summary>
/// The interface proxy at <c>/t/{id}/…</c>: HTTP and WebSocket, forwarded with YARP's direct
/// forwarder to wherever the task monitor says the task's interface is. The monitor's live state is
/// the route table, so routes appear and disappear with tasks and survive restarts with nothing to sync.
/// </summary>
public static class TaskProxy
{
    public static IServiceCollection AddTaskProxy(this IServiceCollection services)
    {
        services.AddHttpForwarder();
        services.AddSingleton(new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            EnableMultipleHttp2Connections = true,
            ActivityHeadersPropagator = new ReverseProxyPropagator(DistributedContextPropagator.Current),
            ConnectTimeout = TimeSpan.FromSeconds(15),
        }));
        return services;
    }

    public static void MapTaskProxy(this WebApplication app)
    {
        // The catch-all also matches "/t/{id}" without the trailing slash; ForwardAsync redirects that.
        app.Map("/t/{taskId}/{**rest}", ForwardAsync).ExcludeFromDescription();
        app.MapGet($"{Api.ShareEndpoints.OpenPath}/{{secret}}", OpenShareAsync).AllowAnonymous().ExcludeFromDescription();
    }

    /// <summary>
    /// Opens a share link: the secret from the URL becomes an HttpOnly cookie valid only under the
    /// task's path, and the browser is sent on to the interface, so the secret leaves the address bar.
    /// </summary>
    private static async Task<IResult> OpenShareAsync(string secret, HttpContext ctx, ShareLinkService shares)
    {
        if (await shares.TaskForSecretAsync(secret, ctx.RequestAborted) is not { } taskId)
            return Results.Problem(statusCode: 404, title: "Not found.", detail: "This share link is unknown, expired or revoked. Ask its owner for a new one.");
        ctx.Response.Cookies.Append(ShareCookie(taskId), secret, new CookieOptions
        {
            Path = $"/t/{taskId}/", HttpOnly = true, SameSite = SameSiteMode.Lax, Secure = ctx.Request.IsHttps, IsEssential = true,
        });
        ctx.Response.Headers.CacheControl = "no-store";
        ctx.Response.Headers["Referrer-Policy"] = "no-referrer";
        return Results.Redirect($"/t/{taskId}/");
    }

    private static async Task<bool> HoldsShareAsync(HttpContext ctx, ShareLinkService shares, string taskId) =>
        ctx.Request.Cookies.TryGetValue(ShareCookie(taskId), out var secret)
        && await shares.TaskForSecretAsync(secret, ctx.RequestAborted) == taskId;

    /// <summary>The cookie that carries a share link for one task (a platform cookie: never forwarded).</summary>
    public static string ShareCookie(string taskId) => $"{PlatformCookies.Prefix}share.{taskId}";

    private static async Task ForwardAsync(string taskId, HttpContext ctx, TaskMonitor monitor, ShareLinkService shares)
    {
        // Authorization first, before anything about the task is revealed or touched:
        // the owner, or the holder of a valid share link for this very task.
        var auth = await ctx.AuthenticateAsync();
        var task = monitor.Get(taskId);
        var allowed = task is not null && ((auth.Succeeded && task.OwnerId == auth.Principal.UserId()) || await HoldsShareAsync(ctx, shares, task.Id));
        if (task is null || !allowed)
        {
            if (!auth.Succeeded) await ctx.ChallengeAsync();
            else await WriteProblemAsync(ctx, 404, "Not found.", "You have no task with this address.");
            return;
        }
        if (!ctx.Request.Path.Value!.EndsWith('/') && ctx.Request.Path.Equals($"/t/{task.Id}"))
        {
            // Relative links of the interface resolve against the directory: it needs the trailing slash.
            ctx.Response.Redirect($"/t/{task.Id}/{ctx.Request.QueryString}");
            return;
        }
        await TaskForwarding.ForwardAsync(ctx, task, onTaskHost: false);
    }

    private static Task WriteProblemAsync(HttpContext ctx, int status, string title, string detail) =>
        Results.Problem(statusCode: status, title: title, detail: detail).ExecuteAsync(ctx);
}
