using Microsoft.AspNetCore.Identity;
using Rosetta.App.Auth;
using Rosetta.Core.Domain;
using Rosetta.Core.Monitoring;
using Rosetta.Core.Sharing;

namespace Rosetta.App.Proxy;

/// <summary>
/// Answers every request addressed to a task host (<c>{id}.tasks.example.org</c>, see
/// <see cref="TaskHostNames"/>): the hand-off endpoint that turns a one-time code into a session cookie,
/// and otherwise the task's interface at the host's root, for a browser whose session is for this very
/// task and still allowed (owner, or a share link that is neither expired nor revoked). Nothing of the
/// dashboard (pages, API, hub, login) answers on a task host.
/// </summary>
public static class TaskHostProxy
{
    /// <summary>The one path a task host keeps for itself: where the dashboard's one-time code is redeemed.</summary>
    public const string TicketPath = "/_rosetta/ticket";

    /// <summary>Must run after UseWebSockets (the VNC relay accepts WebSockets) and before the dashboard's middleware.</summary>
    public static void UseTaskHosts(this WebApplication app)
    {
        var names = app.Services.GetRequiredService<TaskHostNames>();
        if (!names.Enabled) return;
        app.Use(async (ctx, next) =>
        {
            if (names.TryMatch(ctx.Request.Host, out var taskId)) await ServeAsync(ctx, taskId, names);
            else if (names.IsUnderTaskDomain(ctx.Request.Host))
                await Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "No task has this address.",
                    detail: $"'{ctx.Request.Host.Host}' is a name of the task hosts' domain, but names no task: open the task from the dashboard.").ExecuteAsync(ctx);
            else await next(ctx);
        });
    }

    private static async Task ServeAsync(HttpContext ctx, string taskId, TaskHostNames names)
    {
        string? dashboardOrigin = null;
        ctx.Response.OnStarting(() =>
        {
            SetFramingHeaders(ctx.Response.Headers, dashboardOrigin);
            return Task.CompletedTask;
        });
        if (ctx.Request.Path == TicketPath)
        {
            await RedeemAsync(ctx, taskId);
            return;
        }

        var task = ctx.RequestServices.GetRequiredService<TaskMonitor>().Get(taskId);
        TaskHostGrant? grant = null;
        ShareLink? share = null;
        var heldShareLink = false;
        if (task is not null)
            foreach (var candidate in ctx.RequestServices.GetRequiredService<TaskHostSessions>().Read(ctx.Request))
            {
                if (await AdmitAsync(ctx, candidate, task) is { } admitted) { (grant, share) = (candidate, admitted.Share); break; }
                heldShareLink |= candidate.TaskId == task.Id && candidate.UserId is null;
            }
        if (grant is null) TaskProxy.MarkAccessEnded(ctx.Response);
        if (grant is null && heldShareLink)
        {
            await TaskProxy.EndedShareLinkAsync(ctx, names.DashboardBase, $"{names.DashboardPath}/t/{taskId}/");
            return;
        }
        if (grant is null && IsCrossSiteFrame(ctx.Request))
        {
            // The dashboard's desktop view frames the task. On a dashboard of another site the browser keeps the session
            // cookie the hand-off sets in that frame out (it is SameSite=Lax), so the frame comes back without it; sent on
            // to the dashboard it would be refused (the dashboard is never framed), and a page of this host not framed by
            // the dashboard is blocked: the frame stayed blank. Said in the frame instead (a page with nothing to click
            // but a new tab, so any page may frame it), with the way that works: the task in a tab of its own.
            dashboardOrigin = names.PublicOrigin ?? "*";
            var ownTab = names.DashboardEntry(taskId, ctx.Request);
            await Results.Problem(statusCode: 403, title: "Open this task in its own tab",
                detail: "The browser did not send this task's sign-in inside the dashboard's frame: it never does when the dashboard and its tasks " +
                        "are on different sites (Rosetta:PublicUrl and Rosetta:Proxy:TaskHost), nor once the sign-in has ended. " +
                        (ownTab is null ? "Open it in a tab of its own with the Own tab button above this frame: there it signs in as usual."
                                        : "Opened in a tab of its own, the task signs in as usual."),
                extensions: ownTab is null ? null : new Dictionary<string, object?> { [Hosting.HtmlProblemPages.OpenInNewTab] = ownTab }).ExecuteAsync(ctx);
            return;
        }
        if (grant is null)
        {
            // A person's browser starts over at the dashboard (login, then a fresh hand-off) when its URL is known.
            if (HttpMethods.IsGet(ctx.Request.Method) && AuthenticationSetup.IsBrowserNavigation(ctx.Request) && names.DashboardEntry(taskId, ctx.Request) is { } entry)
                ctx.Response.Redirect(entry);
            else
                await Problem(ctx, 404, "Not found.", "Open this task from the platform's dashboard: this address needs a session for this task.");
            return;
        }
        if (IsCrossOriginWrite(ctx.Request))
        {
            // The session cookie is SameSite=Lax and sibling task hosts are the same site: refuse what another
            // task's page could send with it (form posts, fetches, WebSockets) before it reaches the interface.
            await Problem(ctx, 403, "Cross-origin request refused.", "Task interfaces accept changes and WebSockets only from their own pages.");
            return;
        }
        dashboardOrigin = grant.DashboardOrigin;
        await TaskForwarding.ForwardAsync(ctx, task!, onTaskHost: true, share, grant.SessionId);
    }

    /// <summary>One-time code → session cookie, then a redirect that takes the code out of the address bar.</summary>
    private static async Task RedeemAsync(HttpContext ctx, string taskId)
    {
        ctx.Response.Headers.CacheControl = "no-store";
        ctx.Response.Headers["Referrer-Policy"] = "no-referrer";
        var redeemed = HttpMethods.IsGet(ctx.Request.Method)
            ? ctx.RequestServices.GetRequiredService<TaskHostTickets>().Redeem(ctx.Request.Query["code"], taskId)
            : null;
        if (redeemed is not { } ticket)
        {
            await Problem(ctx, 404, "Not found.", "This link has expired or was already used. Open the task again from the platform's dashboard.");
            return;
        }
        ctx.RequestServices.GetRequiredService<TaskHostSessions>().SignIn(ctx, ticket.Grant);
        // Absolute, on this very host: a return path such as "//elsewhere" stays a path here.
        ctx.Response.Redirect($"{ctx.Request.Scheme}://{ctx.Request.Host}{ticket.ReturnPath}");
    }

    /// <summary>
    /// Whether the grant is for this task and still holds: its owner (an enabled account whose password and roles
    /// have not changed since: the session's security stamp is still the account's; and still signed in to the
    /// dashboard session it came from), or a live share link.
    /// </summary>
    private static async Task<Admission?> AdmitAsync(HttpContext ctx, TaskHostGrant grant, TaskRecord task)
    {
        if (grant.TaskId != task.Id) return null;
        var services = ctx.RequestServices;
        if (grant.UserId is { } userId)
            return task.OwnerId == userId && await AuthenticationSetup.IsCurrentAsync(userId, grant.SecurityStamp, services)
                && (grant.SessionId is null || await services.GetRequiredService<SignInSessionStore>().IsLiveAsync(grant.SessionId, userId))
                ? new Admission(null) : null;
        return grant.ShareSecret is { } secret
            && await services.GetRequiredService<ShareLinkService>().ValidLinkAsync(secret, ctx.RequestAborted) is { } link && link.TaskId == task.Id
            ? new Admission(link) : null;
    }

    /// <summary>A grant that holds: the owner's (no link) or a live share link's.</summary>
    private sealed record Admission(ShareLink? Share);

    /// <summary>
    /// A page loaded into a frame of another site (fetch metadata; browsers without it are served as before). On the
    /// same site the session a hand-off sets in a frame is kept, so such a frame goes through the dashboard as a tab does.
    /// </summary>
    private static bool IsCrossSiteFrame(HttpRequest request) =>
        HttpMethods.IsGet(request.Method) && request.Headers["Sec-Fetch-Dest"].ToString() is "iframe" or "frame"
        && request.Headers["Sec-Fetch-Site"] == "cross-site";

    /// <summary>A state-changing request or WebSocket upgrade whose Origin is not this task host.</summary>
    private static bool IsCrossOriginWrite(HttpRequest request)
    {
        if (!Hosting.SameOriginRequests.ChangesOrUpgrades(request)) return false;
        var origin = request.Headers.Origin.ToString();
        return origin.Length > 0 && !string.Equals(origin, $"{request.Scheme}://{request.Host}", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// The interface may be framed by its own pages and the dashboard (the embedded desktop view), by no
    /// other site; an interface's own Content-Security-Policy is kept, as in path mode.
    /// </summary>
    private static void SetFramingHeaders(IHeaderDictionary headers, string? dashboardOrigin)
    {
        headers.Remove("X-Frame-Options");
        if (headers.ContainsKey("Content-Security-Policy")) headers["X-Frame-Options"] = "SAMEORIGIN";
        else headers["Content-Security-Policy"] = dashboardOrigin is null ? "frame-ancestors 'none'" : $"frame-ancestors 'self' {dashboardOrigin}";
        // The task's address stays out of other sites' logs (the code-redeeming redirect sends none at all).
        if (headers["Referrer-Policy"] != "no-referrer") headers["Referrer-Policy"] = "same-origin";
    }

    private static Task Problem(HttpContext ctx, int status, string title, string detail) =>
        Results.Problem(statusCode: status, title: title, detail: detail).ExecuteAsync(ctx);
}
