using System.Net;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace Rosetta.App.Proxy;

/// <summary>
/// Opens both legs of a relayed WebSocket as plain streams, the way YARP does for upgrades: the
/// interface's server answers the browser's own key, so the frames on both legs are valid for the
/// other side and can be copied without re-framing. No extension is asked for (frames stay
/// uncompressed and readable by the relay), and none of the browser's other headers (cookies, the
/// platform's Authorization) reach the task.
/// </summary>
public static class RawWebSocketUpgrade
{
    public sealed record Upstream(Stream Stream, string Accept, string? SubProtocol) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Stream.DisposeAsync();
    }

    /// <summary>The key the browser sent, or a fresh one for a WebSocket over HTTP/2 (RFC 8441), which has none.</summary>
    public static string KeyOf(HttpContext ctx) =>
        ctx.Request.Headers[HeaderNames.SecWebSocketKey] is [{ Length: > 0 } key] ? key : Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));

    /// <summary>The upgraded connection to <paramref name="uri"/> (http), or null with the server's status when it refuses.</summary>
    public static async Task<(Upstream? Upstream, HttpStatusCode Status)> ConnectAsync(HttpMessageInvoker invoker, Uri uri, string key,
        IEnumerable<string> subProtocols, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, uri)
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.Connection.Add("Upgrade");
        request.Headers.Upgrade.Add(new System.Net.Http.Headers.ProductHeaderValue("websocket"));
        request.Headers.TryAddWithoutValidation(HeaderNames.SecWebSocketKey, key);
        request.Headers.TryAddWithoutValidation(HeaderNames.SecWebSocketVersion, "13");
        var protocols = string.Join(", ", subProtocols);
        if (protocols.Length > 0) request.Headers.TryAddWithoutValidation(HeaderNames.SecWebSocketProtocol, protocols);

        var response = await invoker.SendAsync(request, ct);
        if (response.StatusCode != HttpStatusCode.SwitchingProtocols)
        {
            response.Dispose();
            return (null, response.StatusCode);
        }
        var accept = response.Headers.TryGetValues(HeaderNames.SecWebSocketAccept, out var a) ? a.First() : "";
        var protocol = response.Headers.TryGetValues(HeaderNames.SecWebSocketProtocol, out var p) ? p.First() : null;
        // After a 101 the content is the connection itself, readable and writable.
        var stream = await response.Content.ReadAsStreamAsync(ct);
        return (new Upstream(stream, accept, protocol), response.StatusCode);
    }

    /// <summary>Completes the browser's upgrade (HTTP/1.1) or extended CONNECT (HTTP/2) with the server's answer.</summary>
    public static async Task<Stream?> AcceptAsync(HttpContext ctx, Upstream upstream)
    {
        if (upstream.SubProtocol is { } protocol) ctx.Response.Headers[HeaderNames.SecWebSocketProtocol] = protocol;
        if (ctx.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } upgrade)
        {
            ctx.Response.Headers[HeaderNames.Connection] = HeaderNames.Upgrade;
            ctx.Response.Headers[HeaderNames.Upgrade] = "websocket";
            ctx.Response.Headers[HeaderNames.SecWebSocketAccept] = upstream.Accept;
            return await upgrade.UpgradeAsync();
        }
        if (ctx.Features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true } connect)
            return await connect.AcceptAsync();
        return null;
    }
}
