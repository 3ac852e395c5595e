using System.Buffers.Binary;
using System.Net;

namespace Rosetta.App.Proxy;

/// <summary>
/// Proxies a noVNC WebSocket and performs the VNC password handshake itself: the browser is offered
/// "no authentication", the server gets the task's VNC password. The owner never sees or types it,
/// and the password never reaches the browser. After the handshake bytes flow unchanged both ways, but
/// for a view-only guest, whose messages are filtered (<see cref="RfbViewOnlyFilter"/>).
/// </summary>
public static class VncWebSocketProxy
{
    private const byte SecurityNone = 1;
    private const byte SecurityVncAuth = 2;
    /// <summary>How long the browser's leg may stay silent before the relay pings it.</summary>
    public static readonly TimeSpan KeepAliveInterval = TimeSpan.FromSeconds(20);
    /// <summary>
    /// How long the relay waits for both sides to get through the handshake it takes part in: a client that opens
    /// the WebSocket and sends nothing (a link holder needs no account) would otherwise hold a connection to the
    /// desktop for ever, as no HTTP timeout applies to an upgraded connection.
    /// </summary>
    public static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(30);

    /// <param name="viewOnly">
    /// For a view-only share link: the browser's messages then pass through <see cref="RfbViewOnlyFilter"/>,
    /// so the guest sees the desktop but sends it no input, no clipboard and no new screen size.
    /// </param>
    /// <param name="passwordRefused">
    /// Called when the server refuses <paramref name="password"/> (SecurityResult "failed"); the refusal still
    /// reaches the browser. Null: not watched.
    /// </param>
    /// <param name="handshakeTimeout"><see cref="HandshakeTimeout"/> unless given (tests).</param>
    public static async Task RunAsync(HttpContext ctx, HttpMessageInvoker invoker, Uri upstreamUri, string password, bool viewOnly, ILogger logger,
        Func<Task>? passwordRefused = null, TimeSpan? handshakeTimeout = null)
    {
        RawWebSocketUpgrade.Upstream? server;
        HttpStatusCode status;
        try
        {
            (server, status) = await RawWebSocketUpgrade.ConnectAsync(invoker, upstreamUri, RawWebSocketUpgrade.KeyOf(ctx),
                ctx.WebSockets.WebSocketRequestedProtocols, ctx.RequestAborted);
        }
        catch (Exception e) when (e is HttpRequestException || (e is OperationCanceledException && !ctx.RequestAborted.IsCancellationRequested))
        {
            (server, status) = (null, HttpStatusCode.BadGateway);
            logger.LogWarning(e, "The desktop's VNC WebSocket did not answer at {Uri}", upstreamUri);
        }
        if (server is null)
        {
            await Results.Problem(statusCode: StatusCodes.Status502BadGateway, title: "The desktop did not accept the connection.",
                detail: $"Its VNC WebSocket answered {(int)status} instead of switching protocols.").ExecuteAsync(ctx);
            return;
        }
        await using var _ = server;
        await using var browser = await RawWebSocketUpgrade.AcceptAsync(ctx, server);
        if (browser is null)
        {
            ctx.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted);
        var fromServer = new WebSocketByteReader(server.Stream, answerPingsMasked: true);
        var fromBrowser = new WebSocketByteReader(browser, answerPingsMasked: false);
        try
        {
            using var handshake = CancellationTokenSource.CreateLinkedTokenSource(abort.Token);
            handshake.CancelAfter(handshakeTimeout ?? HandshakeTimeout);
            var ct = handshake.Token;
            // ProtocolVersion, both ways. Only RFB 3.7/3.8 negotiate security types as below.
            var serverVersion = await fromServer.ReadExactlyAsync(12, ct);
            await ToBrowserAsync(browser, serverVersion, ct);
            var clientVersion = await fromBrowser.ReadExactlyAsync(12, ct);
            await ToServerAsync(server.Stream, clientVersion, ct);
            var version = System.Text.Encoding.ASCII.GetString(clientVersion);
            var answeredByRelay = false;
            if (version is "RFB 003.008\n" or "RFB 003.007\n")
            {
                var count = (await fromServer.ReadExactlyAsync(1, ct))[0];
                if (count == 0)
                {
                    // The server refuses: pass its reason on untouched.
                    await ToBrowserAsync(browser, [0], ct);
                }
                else
                {
                    var types = await fromServer.ReadExactlyAsync(count, ct);
                    if (Array.IndexOf(types, SecurityVncAuth) >= 0)
                    {
                        await ToBrowserAsync(browser, [1, SecurityNone], ct);
                        await fromBrowser.ReadExactlyAsync(1, ct); // the browser's choice: None
                        await ToServerAsync(server.Stream, [SecurityVncAuth], ct);
                        var challenge = await fromServer.ReadExactlyAsync(VncAuthentication.ChallengeLength, ct);
                        await ToServerAsync(server.Stream, VncAuthentication.Respond(challenge, password), ct);
                        answeredByRelay = true;
                        // A 3.7 refusal ends here (3.7 has no way to tell a client that chose None); a 3.8 one goes on to the browser.
                        if (await PasswordRefusedAsync(fromServer, browser, version, ct) && passwordRefused is not null) await passwordRefused();
                    }
                    else
                    {
                        await ToBrowserAsync(browser, [count, .. types], ct);
                    }
                }
            }
            // Only after the relay's own security handshake does the browser's next byte start ClientInit,
            // where the filter must begin reading.
            if (viewOnly && !answeredByRelay) throw new InvalidDataException("The desktop did not ask for its VNC password: a view-only guest is not let in.");
            // From here on the server's frames pass untouched (SecurityResult, init and the session itself),
            // and so do the browser's unless it is a view-only guest.
            var toBrowser = new WebSocketPassThrough(browser);
            var fromBrowserLeftover = await fromBrowser.TakeRestOfMessageAsync(ct);
            var fromServerLeftover = await fromServer.TakeRestOfMessageAsync(ct);
            var session = abort.Token;
            await Task.WhenAny(
                RelayAsync(fromServerLeftover, masked: false, toBrowser, browser, server.Stream, session),
                viewOnly
                    ? FilterAsync(fromBrowserLeftover, browser, server.Stream, logger, session)
                    : RelayAsync(fromBrowserLeftover, masked: true, new WebSocketPassThrough(server.Stream), server.Stream, browser, session),
                KeepAliveAsync(toBrowser, session));
        }
        catch (InvalidDataException e)
        {
            logger.LogInformation("A desktop connection was ended during the VNC handshake: {Reason}", e.Message);
        }
        catch (OperationCanceledException) when (!abort.IsCancellationRequested)
        {
            logger.LogInformation("A desktop connection was ended: its VNC handshake took longer than {Timeout}", handshakeTimeout ?? HandshakeTimeout);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            logger.LogDebug(e, "VNC WebSocket closed");
        }
        finally
        {
            await abort.CancelAsync();
        }
    }

    /// <summary>
    /// Reads the server's SecurityResult (and, in RFB 3.8, its reason). In 3.8 they go on to the browser as they
    /// came; in 3.7 a client that chose None expects none, so it gets nothing. True when the server refused the
    /// password: a 3.8 failure whose reason is an authentication failure (TigerVNC: "Authentication failure"), not one
    /// for another cause such as a server already in use or too many attempts. A 3.7 failure gives no reason, and a
    /// guest may choose 3.7: it fails that connection and proves nothing.
    /// </summary>
    private static async Task<bool> PasswordRefusedAsync(WebSocketByteReader fromServer, Stream browser, string version, CancellationToken ct)
    {
        var result = await fromServer.ReadExactlyAsync(4, ct);
        var failed = BinaryPrimitives.ReadUInt32BigEndian(result) != 0;
        if (version != "RFB 003.008\n")
        {
            if (failed) throw new InvalidDataException("The desktop refused the login (RFB 3.7 gives no reason).");
            return false;
        }
        await ToBrowserAsync(browser, result, ct);
        if (!failed) return false;
        var length = await fromServer.ReadExactlyAsync(4, ct);
        var size = BinaryPrimitives.ReadUInt32BigEndian(length);
        if (size > 4096) throw new InvalidDataException($"The desktop's reason for refusing the login is {size} bytes long.");
        var reason = await fromServer.ReadExactlyAsync((int)size, ct);
        await ToBrowserAsync(browser, [.. length, .. reason], ct);
        var said = System.Text.Encoding.UTF8.GetString(reason);
        return said.Contains("authentication fail", StringComparison.OrdinalIgnoreCase) && !said.Contains("too many", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Sends what the handshake read of a message but did not use, then copies frames as they come
    /// until the sender closes.
    /// </summary>
    private static async Task RelayAsync(byte[] leftover, bool masked, WebSocketPassThrough to, Stream toStream, Stream from, CancellationToken ct)
    {
        try
        {
            if (leftover.Length > 0) await WebSocketFrames.WriteAsync(toStream, WebSocketFrames.Binary, leftover, masked, ct);
            await to.CopyFromAsync(from, ct);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException)
        {
            // Either side went away: the caller tears both down.
        }
    }

    /// <summary>
    /// A view-only guest's leg: each data frame's payload goes through the filter and what passes goes on as
    /// one frame. Pings and pongs go on as they are: the server's pong to a ping comes back on the other
    /// leg, and the browser's pongs to the relay's keep-alive are unsolicited, which the server ignores.
    /// A close ends the leg; text frames are not RFB.
    /// </summary>
    private static async Task FilterAsync(byte[] leftover, Stream browser, Stream server, ILogger logger, CancellationToken ct)
    {
        var filter = new RfbViewOnlyFilter();
        try
        {
            await ForwardAsync(filter.Pass(leftover));
            while (true)
            {
                var frame = await WebSocketFrames.ReadAsync(browser, MaxGuestFrame, ct);
                switch (frame.Opcode)
                {
                    case WebSocketFrames.Binary or WebSocketFrames.Continuation:
                        await ForwardAsync(filter.Pass(frame.Payload));
                        break;
                    case WebSocketFrames.Ping or WebSocketFrames.Pong:
                        await WebSocketFrames.WriteAsync(server, frame.Opcode, frame.Payload, masked: true, ct);
                        break;
                    case WebSocketFrames.Close:
                        await WebSocketFrames.WriteAsync(server, WebSocketFrames.Close, frame.Payload, masked: true, ct);
                        return;
                    default:
                        throw new InvalidDataException($"A view-only guest sent a WebSocket frame of type {frame.Opcode}, which RFB does not use.");
                }
            }
        }
        catch (InvalidDataException e)
        {
            logger.LogInformation("A view-only guest's desktop connection was ended: {Reason}", e.Message);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The guest went away: the caller tears both down.
        }

        async Task ForwardAsync(byte[] passed)
        {
            if (passed.Length > 0) await ToServerAsync(server, passed, ct);
        }
    }

    /// <summary>
    /// Largest frame taken from a view-only guest: a whole SetEncodings of 65,535 encodings fits (256 KiB);
    /// a view-only noVNC sends a few bytes at a time, and a longer paste only ends the guest's connection.
    /// </summary>
    private const int MaxGuestFrame = 320 * 1024;

    private static async Task KeepAliveAsync(WebSocketPassThrough toBrowser, CancellationToken ct)
    {
        try
        {
            await toBrowser.KeepAliveAsync(KeepAliveInterval, ct);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The browser went away: the relays notice too.
        }
    }

    // A browser is the client of the relay (frames to it are unmasked); the relay is the server's client (masked).
    private static Task ToBrowserAsync(Stream browser, byte[] bytes, CancellationToken ct) =>
        WebSocketFrames.WriteAsync(browser, WebSocketFrames.Binary, bytes, masked: false, ct);

    private static Task ToServerAsync(Stream server, byte[] bytes, CancellationToken ct) =>
        WebSocketFrames.WriteAsync(server, WebSocketFrames.Binary, bytes, masked: true, ct);
}
