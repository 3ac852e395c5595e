using Rosetta.App.Auth;
using Rosetta.Core.Accounts;
using Rosetta.Core.Backends;
using Rosetta.Core.Domain;
using Rosetta.Core.Monitoring;
using Rosetta.Core.Security;
using Rosetta.Core.Sharing;
using Yarp.ReverseProxy.Forwarder;

namespace Rosetta.App.Proxy;

/// <summary>
/// Sends one already-authorised request to a task's interface: HTTP and WebSocket through YARP's
/// direct forwarder, noVNC WebSockets through the VNC relay. Shared by path mode (<c>/t/{id}/</c>,
/// <see cref="TaskProxy"/>) and per-task host names (<see cref="TaskHostProxy"/>).
/// </summary>
public static class TaskForwarding
{
    /// <summary>
    /// The path the software expects, as the browser sent it (still percent-encoded: an encoded '/' in a
    /// name, RabbitMQ's <c>%2F</c> vhost, reaches the software as it was, not decoded and encoded again
    /// as <c>%252F</c>). Software served under a prefix (Jupyter's base_url) always gets <c>/t/{id}/…</c>:
    /// in path mode the request already has it; on a task host it is added unless the browser followed one
    /// of the interface's own absolute links, which already carry it. Other software is served at <c>/</c>:
    /// path mode strips the prefix, a task host has none.
    /// </summary>
    /// <param name="requestPath">The request's path as sent, percent-encoded (<see cref="RequestedPath"/>).</param>
    public static string UpstreamPath(TaskRecord task, string requestPath, bool onTaskHost)
    {
        var prefix = ContainerSpecFactory.ProxyPath(task.Id).TrimEnd('/');
        var underPrefix = requestPath == prefix || requestPath.StartsWith(prefix + "/", StringComparison.Ordinal);
        if (task.ProxyKeepsPrefix) return !onTaskHost || underPrefix ? requestPath : prefix + requestPath;
        if (onTaskHost) return requestPath;
        return underPrefix ? requestPath.Length > prefix.Length ? requestPath[prefix.Length..] : "/" : requestPath;
    }

    /// <summary>
    /// The request's path as the browser sent it, still percent-encoded, when it spells the path the proxy
    /// was routed and authorised by (<paramref name="expectedPrefix"/>: the task's <c>/t/{id}</c> in path
    /// mode); else (dot segments, an encoded prefix) the decoded path, encoded again: what was authorised
    /// is what is sent on.
    /// </summary>
    public static string RequestedPath(HttpContext ctx, string? expectedPrefix)
    {
        var decoded = ctx.Request.Path.ToUriComponent();
        if (Hosting.RequestTarget.RawPath(ctx) is not { } raw) return decoded;
        if (raw.Split('/').Any(segment => segment is "." or ".." || segment.Contains("%2e", StringComparison.OrdinalIgnoreCase))) return decoded;
        if (expectedPrefix is not null && raw != expectedPrefix && !raw.StartsWith(expectedPrefix + "/", StringComparison.Ordinal)) return decoded;
        return raw;
    }

    /// <summary>What the browser sees as the interface's root, for <c>X-Forwarded-Prefix</c> ("" = the host's root).</summary>
    public static string ForwardedPrefix(TaskRecord task, bool onTaskHost) =>
        onTaskHost && !task.ProxyKeepsPrefix ? "" : ContainerSpecFactory.ProxyPath(task.Id).TrimEnd('/');

    /// <summary>
    /// The desktop refused its view-only password: its image predates <c>VNC_VIEW_ONLY_PASSWORD</c> (an old or
    /// pinned build, a remote host not yet updated). From now on its view-only guests log in with the full password,
    /// held back by the relay's filter alone, as before the second layer existed; retrying would only fail again,
    /// and each failure counts towards the VNC server's block of its one client address (websockify), owner included.
    /// </summary>
    private static async Task ForgetViewOnlyPasswordAsync(TaskMonitor monitor, TaskRecord task, ILogger logger)
    {
        logger.LogWarning("The desktop of task {TaskId} refused its view-only VNC password: its image may predate VNC_VIEW_ONLY_PASSWORD (rebuild it with ./rosetta.sh infra). Its view-only guests now log in with the full password, held back by the relay's filter alone.", task.Id);
        try
        {
            await monitor.UpdateAsync(task.Id, t =>
            {
                if (!t.HasViewOnlyPassword) return false;
                t.HasViewOnlyPassword = false;
                return true;
            }, CancellationToken.None);
        }
        catch (Exception e)
        {
            // The database is away: the next guest is refused once more and this is tried again.
            logger.LogWarning(e, "Task {TaskId}: could not record that its desktop has no view-only password", task.Id);
        }
    }

    /// <param name="share">
    /// The share link that let the request in, null for the owner. The connection ends with the owner's
    /// account (a disabled owner's links open nothing either) and with the link.
    /// </param>
    /// <param name="session">The owner's dashboard session that let the request in (none for an API token or
    /// a share link): the connection ends with it too, when the owner logs out.</param>
    /// <param name="apiToken">The owner's API token that let the request in: the connection ends when it is revoked.</param>
    public static async Task ForwardAsync(HttpContext ctx, TaskRecord task, bool onTaskHost, ShareLink? share, string? session, string? apiToken = null)
    {
        var services = ctx.RequestServices;
        // Checked once per request, so a WebSocket (or a long download) would outlive a link's revocation
        // or expiry, or its owner's account being disabled: it is cut then instead.
        var accountEnd = services.GetRequiredService<AccountEnds>().EndOf(task.OwnerId);
        if (accountEnd.IsCancellationRequested)
        {
            TaskProxy.MarkAccessEnded(ctx.Response);
            await Results.Problem(statusCode: 403, title: "The task's owner is disabled.",
                detail: "This task's interface opens again if an admin enables its owner's account.").ExecuteAsync(ctx);
            return;
        }
        using var credentialsEnded = CredentialEnds.Register(services, task.OwnerId, session, apiToken, ctx.Abort);
        using var linkEnded = share is null ? default : services.GetRequiredService<ShareLinkService>().EndOf(share).Register(ctx.Abort);
        var monitor = services.GetRequiredService<TaskMonitor>();
        var loggers = services.GetRequiredService<ILoggerFactory>();
        if (monitor.InterfaceOf(task) is not { } endpoint)
        {
            ctx.Response.Headers.RetryAfter = "2";
            await Results.Problem(statusCode: 503, title: "The task's interface is not available.",
                detail: task.Status == TaskState.Running
                    ? $"Task '{task.Name}' is running, but the platform has not reached its computing resource '{task.ComputingId}' since it started; its interface opens as soon as it does."
                    : $"Task '{task.Name}' is {task.Status.ToWire()}; its interface is reachable only while it is running.").ExecuteAsync(ctx);
            return;
        }

        if (task.InterfaceProtocol != InterfaceProtocol.Http)
        {
            await Results.Problem(statusCode: 409, title: "The task's interface is not a web page.",
                detail: $"Task '{task.Name}' serves {task.InterfaceProtocol.ToString().ToUpperInvariant()}, not HTTP: connect with a client to the host and port in the task's 'interface' (GET /api/v1/tasks/{task.Id}).").ExecuteAsync(ctx);
            return;
        }

        var path = UpstreamPath(task, RequestedPath(ctx, onTaskHost ? null : ContainerSpecFactory.ProxyPath(task.Id).TrimEnd('/')), onTaskHost);
        var vncPassword = task.ProxyAuthorizationScheme == Software.VncAuthorization && ctx.WebSockets.IsWebSocketRequest ? monitor.SecretOf(task) : null;
        var viewOnly = share is { ViewOnly: true };
        // Any upgrade, not only what ASP.NET calls a WebSocket: YARP would tunnel an "Upgrade: websocket" with
        // an older version or an odd key too, and websockify takes those, straight past the relay.
        var upgrade = ctx.WebSockets.IsWebSocketRequest || ctx.Request.Headers.Upgrade.Count > 0;
        if (viewOnly && (upgrade ? vncPassword is null : !(HttpMethods.IsGet(ctx.Request.Method) || HttpMethods.IsHead(ctx.Request.Method))))
        {
            // Only the VNC relay can hold a guest's input back; the desktop's page itself is only read.
            await Results.Problem(statusCode: 403, title: "This share link is view-only.",
                detail: "It shows the desktop but does not control it: its pages load, and its screen is sent to you, but nothing else reaches the task. Ask the task's owner for a full link to work in it.").ExecuteAsync(ctx);
            return;
        }
        // A link needs no account: the WebSockets open through it are bounded (the owner's are not).
        var connections = services.GetRequiredService<ShareLinkConnections>();
        using var held = share is not null && upgrade ? connections.TryOpen(share) : null;
        if (share is not null && upgrade && held is null)
        {
            await Results.Problem(statusCode: 429, title: "This share link has as many connections open as it may.",
                detail: $"One link may hold {connections.Limit} open at once (notebook channels, desktop screens). Close a tab that uses it and try again, or ask the task's owner for a link of your own.").ExecuteAsync(ctx);
            return;
        }
        if (vncPassword is not null)
        {
            // A desktop that knows a view-only password gets that from a view-only guest: then the VNC server
            // itself ignores the guest's input too, should anything ever pass the relay's filter.
            var relayLogger = loggers.CreateLogger(typeof(VncWebSocketProxy));
            Func<Task>? viewOnlyRefused = null;
            if (viewOnly && task.HasViewOnlyPassword)
            {
                vncPassword = TaskSecrets.ViewOnlyOf(vncPassword);
                viewOnlyRefused = () => ForgetViewOnlyPasswordAsync(monitor, task, relayLogger);
            }
            var upstream = new Uri($"http://{endpoint.Host}:{endpoint.Port}{path}{ctx.Request.QueryString}");
            await VncWebSocketProxy.RunAsync(ctx, services.GetRequiredService<HttpMessageInvoker>(), upstream, vncPassword, viewOnly, relayLogger, viewOnlyRefused);
            return;
        }
        var secret = task.ProxyAuthorizationScheme is { } scheme && scheme != Software.VncAuthorization ? monitor.SecretOf(task) : null;
        var transformer = new TaskProxyTransformer(path, ForwardedPrefix(task, onTaskHost),
            authorization: secret is null ? null : $"{task.ProxyAuthorizationScheme} {secret}", secret);
        // Uploads to the interface (notebooks, data files) stream through without the platform's body-size limit.
        if (ctx.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = null;
        var destination = $"http://{endpoint.Host}:{endpoint.Port}";
        var config = ctx.WebSockets.IsWebSocketRequest ? WebSocketConfig : ForwarderRequestConfig.Empty;
        var forwarder = services.GetRequiredService<IHttpForwarder>();
        var error = await forwarder.SendAsync(ctx, destination, services.GetRequiredService<HttpMessageInvoker>(), config, transformer);
        if (error != ForwarderError.None && !ctx.Response.HasStarted)
        {
            var failure = ctx.Features.Get<IForwarderErrorFeature>()?.Exception;
            var logger = loggers.CreateLogger(typeof(TaskForwarding));
            if (ctx.RequestAborted.IsCancellationRequested)
            {
                // The browser left first (a reload, a closed tab, a page's own cancelled request): nothing
                // failed, and nobody is there to read an answer.
                logger.LogDebug(failure, "Proxying to task {TaskId} ended: the client went away ({Error})", task.Id, error);
                return;
            }
            logger.LogWarning(failure, "Proxying to task {TaskId} failed: {Error}", task.Id, error);
            if (monitor.UnavailableReason(task.ComputingId) is { } unreachable)
            {
                // The interface is behind a resource the platform cannot reach (a host down, its key changed): that is the news.
                ctx.Response.Headers.RetryAfter = "10";
                await Results.Problem(statusCode: 503, title: "The task's computing resource cannot be reached.",
                    detail: $"Task '{task.Name}' runs on a computing resource the platform cannot reach now: {unreachable} Its interface comes back with the resource.").ExecuteAsync(ctx);
                return;
            }
            // YARP sets the status (502, 504) and leaves the body empty.
            await Results.Problem(statusCode: ctx.Response.StatusCode, title: "The task's interface did not answer.",
                detail: $"Task '{task.Name}' is running but its interface on port {endpoint.Port} {(error == ForwarderError.RequestTimedOut ? "took too long to answer" : "refused or dropped the request")}: it may still be starting, or the software may have stopped listening; its logs say more.").ExecuteAsync(ctx);
        }
    }

    /// <summary>
    /// A WebSocket may sit idle for hours (a desktop nobody touches, a kernel waiting): YARP's default
    /// 100 s activity timeout would cut it, so upgraded connections get a day.
    /// </summary>
    private static readonly ForwarderRequestConfig WebSocketConfig = new() { ActivityTimeout = TimeSpan.FromDays(1) };
}
