using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Rosetta.Core.Backends.Ssh;
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
/// With per-task host names (<see cref="TaskHostNames"/>) browsers are handed over to the task's own
/// host instead, and only API clients (Bearer token, no ambient credentials) are proxied here.
/// </summary>
public static class TaskProxy
{
    public static IServiceCollection AddTaskProxy(this IServiceCollection services)
    {
        services.AddHttpForwarder();
        services.AddSingleton(provider =>
        {
            var tunnels = provider.GetRequiredService<TunnelAdmission>();
            return new HttpMessageInvoker(new SocketsHttpHandler
            {
                // Connections to SSH tunnels go to them one at a time (see TunnelAdmission).
                ConnectCallback = async (context, ct) => new NetworkStream(
                    await tunnels.ConnectAsync(context.DnsEndPoint.Host, context.DnsEndPoint.Port, ct), ownsSocket: true),
                UseProxy = false,
                AllowAutoRedirect = false,
                AutomaticDecompression = DecompressionMethods.None,
                UseCookies = false,
                EnableMultipleHttp2Connections = true,
                ActivityHeadersPropagator = new ReverseProxyPropagator(DistributedContextPropagator.Current),
                ConnectTimeout = TimeSpan.FromSeconds(15),
            });
        });
        services.AddSingleton<TaskHostNames>();
        services.AddSingleton<TaskHostTickets>();
        services.AddSingleton<TaskHostSessions>();
        return services;
    }

    public static void MapTaskProxy(this WebApplication app)
    {
        // The catch-all also matches "/t/{id}" without the trailing slash; ForwardAsync redirects that.
        app.Map("/t/{taskId}/{**rest}", ForwardAsync).ExcludeFromDescription();
        app.MapMethods($"{Api.ShareEndpoints.OpenPath}/{{secret}}", [HttpMethods.Get, HttpMethods.Post], OpenShareAsync)
            .AllowAnonymous().DisableAntiforgery() // ShareLinkWarning checks its own form's token
            .ExcludeFromDescription();
    }

    /// <summary>
    /// Opens a share link: the secret from the URL becomes an HttpOnly cookie valid only under the
    /// task's path (or, with task hosts, a session on the task's host), and the browser is sent on to the
    /// interface, so the secret leaves the address bar.
    /// </summary>
    private static async Task<IResult> OpenShareAsync(string secret, HttpContext ctx, ShareLinkService shares, TaskHostNames hosts, TaskHostTickets tickets, TaskMonitor monitor)
    {
        if (await shares.ValidLinkAsync(secret, ctx.RequestAborted) is not { } link || monitor.Get(link.TaskId) is not { } task)
            return Results.Problem(statusCode: 404, title: "Not found.", detail: "This share link is unknown, expired or revoked. Ask its owner for a new one.");
        var taskId = task.Id;
        ctx.Response.Headers.CacheControl = "no-store";
        ctx.Response.Headers["Referrer-Policy"] = "no-referrer";
        // A view-only guest's noVNC is told so (and to scale the picture rather than resize the owner's
        // screen); the relay enforces it whatever the page does.
        var landing = link.ViewOnly ? ViewOnlyLanding : "";
        if (hosts.Enabled)
            return Results.Redirect(HandOffUrl(ctx, hosts, tickets, new TaskHostGrant(taskId, null, secret, hosts.DashboardOrigin(ctx.Request)), $"/{landing}"));
        if (await ShareLinkWarning.SignedInOtherUserAsync(ctx, task.OwnerId) is { } visitor)
        {
            if (!await ShareLinkWarning.ConfirmedAsync(ctx)) return ShareLinkWarning.Page(ctx, visitor, secret);
            await ctx.SignOutAsync(Microsoft.AspNetCore.Identity.IdentityConstants.ApplicationScheme);
        }
        ctx.Response.Cookies.Append(ShareCookie(taskId), secret, new CookieOptions
        {
            Path = $"/t/{taskId}/", HttpOnly = true, SameSite = SameSiteMode.Lax, Secure = ctx.Request.IsHttps, IsEssential = true,
        });
        return Results.Redirect($"/t/{taskId}/{landing}");
    }

    /// <summary>noVNC's own settings for a view-only guest: passed on by the desktop image's start page to vnc.html.</summary>
    public const string ViewOnlyLanding = "?view_only=1&resize=scale";

    /// <summary>
    /// For a guest whose link was revoked or ran out, as for anyone anonymous (a browser to the login
    /// page, a program 401), but saying what happened: the guest has no account to log in with.
    /// </summary>
    public static Task EndedShareLinkAsync(HttpContext ctx, string? dashboardBase, string returnPath)
    {
        if (dashboardBase is not null && HttpMethods.IsGet(ctx.Request.Method) && AuthenticationSetup.IsBrowserNavigation(ctx.Request))
        {
            ctx.Response.Redirect($"{dashboardBase}/login?notice={LoginNotices.ShareLinkEnded}&ReturnUrl={Uri.EscapeDataString(returnPath)}");
            return Task.CompletedTask;
        }
        return Problem(ctx, 401, "This share link no longer works.", LoginNotices.ShareLinkEndedText);
    }

    private static async Task<(ShareLink Link, string Secret)?> ShareLinkAsync(HttpContext ctx, ShareLinkService shares, string taskId) =>
        ctx.Request.Cookies.TryGetValue(ShareCookie(taskId), out var secret)
        && await shares.ValidLinkAsync(secret, ctx.RequestAborted) is { } link && link.TaskId == taskId ? (link, secret) : null;

    /// <summary>
    /// Marks the platform's own refusal of a task's page (no session, a dead share link, no such task), as
    /// opposed to an answer of the interface itself: the bundled desktop and notebook pages, when their
    /// connection ends, load again only for this (images/desktop/access-check.js, images/jupyter/custom.js).
    /// </summary>
    public const string AccessHeader = "X-Rosetta-Access";

    public static void MarkAccessEnded(HttpResponse response) => response.Headers[AccessHeader] = "ended";

    /// <summary>The cookie that carries a share link for one task (a platform cookie: never forwarded).</summary>
    public static string ShareCookie(string taskId) => $"{PlatformCookies.Prefix}share.{taskId}";

    private static async Task ForwardAsync(string taskId, HttpContext ctx, TaskMonitor monitor, ShareLinkService shares,
        TaskHostNames hosts, TaskHostTickets tickets)
    {
        // Authorization first, before anything about the task is revealed or touched:
        // the owner, or the holder of a valid share link for this very task.
        var auth = await ctx.AuthenticateAsync();
        var task = monitor.Get(taskId);
        var owner = task is not null && auth.Succeeded && task.OwnerId == auth.Principal.UserId();
        var share = task is not null && !owner ? await ShareLinkAsync(ctx, shares, task.Id) : null;
        if (task is null || !owner && share is null)
        {
            MarkAccessEnded(ctx.Response);
            if (!auth.Succeeded && ctx.Request.Cookies.ContainsKey(ShareCookie(taskId)))
            {
                // On every reload: the dead cookie stays until the browser closes.
                await EndedShareLinkAsync(ctx, ctx.Request.PathBase, $"{ctx.Request.PathBase}{ctx.Request.Path}{ctx.Request.QueryString}");
            }
            else if (!auth.Succeeded) await ctx.ChallengeAsync();
            else await Problem(ctx, 404, "Not found.", "You have no task with this address.");
            return;
        }
        if (hosts.Enabled && !ApiTokenAuthenticationHandler.HasBearer(ctx.Request))
        {
            await HandOffAsync(ctx, hosts, tickets, new TaskHostGrant(task.Id, owner ? task.OwnerId : null, share?.Secret, hosts.DashboardOrigin(ctx.Request),
                owner ? AuthenticationSetup.SecurityStampOf(auth.Principal!, ctx.RequestServices) : null, owner ? auth.Principal!.SessionId() : null));
            return;
        }
        if (share is not null && ShareLinkWarning.IsPageLoad(ctx.Request) && await ShareLinkWarning.SignedInOtherUserAsync(ctx, task.OwnerId) is { } visitor)
        {
            // A guest who signed in since opening the link: the page would now run beside that session.
            await ShareLinkWarning.Page(ctx, visitor, share.Value.Secret).ExecuteAsync(ctx);
            return;
        }
        if (!ctx.Request.Path.Value!.EndsWith('/') && ctx.Request.Path.Equals($"/t/{task.Id}"))
        {
            // Relative links of the interface resolve against the directory: it needs the trailing slash.
            ctx.Response.Redirect($"/t/{task.Id}/{ctx.Request.QueryString}");
            return;
        }
        await TaskForwarding.ForwardAsync(ctx, task, onTaskHost: false, share?.Link, owner ? auth.Principal!.SessionId() : null,
            owner ? auth.Principal!.ApiTokenId() : null);
    }

    /// <summary>
    /// A browser (cookie session) never gets a task's page on the dashboard's origin when task hosts are
    /// configured: a navigation is redirected to the task's host with a one-time code, keeping the rest of
    /// its path; anything else (a form post, a WebSocket) belongs on the task host already.
    /// </summary>
    private static async Task HandOffAsync(HttpContext ctx, TaskHostNames hosts, TaskHostTickets tickets, TaskHostGrant grant)
    {
        if (!(HttpMethods.IsGet(ctx.Request.Method) || HttpMethods.IsHead(ctx.Request.Method)) || ctx.WebSockets.IsWebSocketRequest)
        {
            await Problem(ctx, 421, "Misdirected request.", $"This platform serves task interfaces on their own host names: use {hosts.OriginOf(grant.TaskId, ctx.Request)}/.");
            return;
        }
        ctx.Request.Path.StartsWithSegments($"/t/{grant.TaskId}", out var rest);
        ctx.Response.Headers.CacheControl = "no-store";
        ctx.Response.Headers["Referrer-Policy"] = "no-referrer";
        ctx.Response.Redirect(HandOffUrl(ctx, hosts, tickets, grant, $"{(rest.HasValue ? rest.ToUriComponent() : "/")}{ctx.Request.QueryString.ToUriComponent()}"));
    }

    private static string HandOffUrl(HttpContext ctx, TaskHostNames hosts, TaskHostTickets tickets, TaskHostGrant grant, string returnPath) =>
        $"{hosts.OriginOf(grant.TaskId, ctx.Request)}{TaskHostProxy.TicketPath}?code={tickets.Issue(grant, returnPath)}";

    private static Task Problem(HttpContext ctx, int status, string title, string detail) =>
        Results.Problem(statusCode: status, title: title, detail: detail).ExecuteAsync(ctx);
}
