using System.Net.WebSockets;

namespace Rosetta.App.Proxy;

/// <summary>
/// Proxies a noVNC WebSocket and performs the VNC password handshake itself: the browser is offered
/// "no authentication", the server gets the task's VNC password. The owner never sees or types it,
/// and the password never reaches the browser. After the handshake bytes flow unchanged both ways.
/// </summary>
public static class VncWebSocketProxy
{
    private const byte SecurityNone = 1;
    private const byte SecurityVncAuth = 2;

    public static async Task RunAsync(HttpContext ctx, Uri upstreamUri, string password, ILogger logger)
    {
        using var upstream = new ClientWebSocket();
        foreach (var protocol in ctx.WebSockets.WebSocketRequestedProtocols) upstream.Options.AddSubProtocol(protocol);
        upstream.Options.KeepAliveInterval = TimeSpan.FromSeconds(20);
        try
        {
            await upstream.ConnectAsync(upstreamUri, ctx.RequestAborted);
        }
        catch (WebSocketException e)
        {
            logger.LogWarning(e, "The desktop's VNC WebSocket did not answer at {Uri}", upstreamUri);
            ctx.Response.StatusCode = StatusCodes.Status502BadGateway;
            return;
        }
        using var browser = await ctx.WebSockets.AcceptWebSocketAsync(upstream.SubProtocol);
        var fromServer = new WebSocketByteReader(upstream);
        var fromBrowser = new WebSocketByteReader(browser);
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted);
        var ct = abort.Token;
        try
        {
            // ProtocolVersion, both ways. Only RFB 3.7/3.8 negotiate security types as below.
            var serverVersion = await fromServer.ReadExactlyAsync(12, ct);
            await SendAsync(browser, serverVersion, ct);
            var clientVersion = await fromBrowser.ReadExactlyAsync(12, ct);
            await SendAsync(upstream, clientVersion, ct);
            var version = System.Text.Encoding.ASCII.GetString(clientVersion);
            if (version is "RFB 003.008\n" or "RFB 003.007\n")
            {
                var count = (await fromServer.ReadExactlyAsync(1, ct))[0];
                if (count == 0)
                {
                    // The server refuses: pass its reason on untouched.
                    await SendAsync(browser, [0], ct);
                }
                else
                {
                    var types = await fromServer.ReadExactlyAsync(count, ct);
                    if (Array.IndexOf(types, SecurityVncAuth) >= 0)
                    {
                        await SendAsync(browser, [1, SecurityNone], ct);
                        await fromBrowser.ReadExactlyAsync(1, ct); // the browser's choice: None
                        await SendAsync(upstream, [SecurityVncAuth], ct);
                        var challenge = await fromServer.ReadExactlyAsync(VncAuthentication.ChallengeLength, ct);
                        await SendAsync(upstream, VncAuthentication.Respond(challenge, password), ct);
                    }
                    else
                    {
                        await SendAsync(browser, [count, .. types], ct);
                    }
                }
            }
            // From here on: a transparent pipe (SecurityResult, init and the session itself).
            await Task.WhenAny(RelayAsync(fromServer, upstream, browser, ct), RelayAsync(fromBrowser, browser, upstream, ct));
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or EndOfStreamException)
        {
            logger.LogDebug(e, "VNC WebSocket closed");
        }
        finally
        {
            await abort.CancelAsync();
            await CloseQuietlyAsync(browser);
            await CloseQuietlyAsync(upstream);
        }
    }

    /// <summary>
    /// Forwards whatever the handshake left buffered, then frames as they arrive, from one reused
    /// buffer (desktop updates are megabytes a second: no copy per frame).
    /// </summary>
    private static async Task RelayAsync(WebSocketByteReader leftover, WebSocket from, WebSocket to, CancellationToken ct)
    {
        if (leftover.TakeBuffered() is { Length: > 0 } pending) await SendAsync(to, pending, ct);
        var buffer = new byte[256 * 1024];
        while (true)
        {
            var received = await from.ReceiveAsync(buffer, ct);
            if (received.MessageType == WebSocketMessageType.Close) return;
            await to.SendAsync(buffer.AsMemory(0, received.Count), WebSocketMessageType.Binary, received.EndOfMessage, ct);
        }
    }

    private static Task SendAsync(WebSocket socket, byte[] bytes, CancellationToken ct) =>
        socket.SendAsync(bytes, WebSocketMessageType.Binary, endOfMessage: true, ct);

    private static async Task CloseQuietlyAsync(WebSocket socket)
    {
        try
        {
            if (socket.State == WebSocketState.Open)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    /// <summary>Reads a WebSocket as a byte stream: RFB messages do not follow WebSocket message boundaries.</summary>
    private sealed class WebSocketByteReader(WebSocket socket)
    {
        private readonly byte[] _buffer = new byte[64 * 1024];
        private int _start, _end;

        public async Task<byte[]> ReadExactlyAsync(int count, CancellationToken ct)
        {
            var result = new byte[count];
            var filled = 0;
            while (filled < count)
            {
                if (_start == _end && !await FillAsync(ct)) throw new EndOfStreamException();
                var n = Math.Min(count - filled, _end - _start);
                Array.Copy(_buffer, _start, result, filled, n);
                _start += n;
                filled += n;
            }
            return result;
        }

        /// <summary>The bytes read from the socket but not consumed yet (possibly none).</summary>
        public byte[] TakeBuffered()
        {
            var chunk = _buffer[_start.._end];
            _start = _end = 0;
            return chunk;
        }

        private async Task<bool> FillAsync(CancellationToken ct)
        {
            _start = _end = 0;
            while (true)
            {
                var received = await socket.ReceiveAsync(_buffer, ct);
                if (received.MessageType == WebSocketMessageType.Close) return false;
                if (received.Count == 0) continue;
                _end = received.Count;
                return true;
            }
        }
    }
}
