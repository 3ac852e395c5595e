using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Rosetta.App.Proxy;

namespace Rosetta.Tests.Integration;

/// <summary>
/// The VNC relay bounds what a client of a desktop (a share-link holder needs no account) can make it hold
/// during the handshake it takes part in: time, and the bytes of a message fragmented without end. Two real
/// Kestrel hosts on loopback: a desktop that speaks RFB 3.8 with a VNC password behind websockify, and the
/// relay in front of it; the client is .NET's own WebSocket.
/// </summary>
public sealed class VncRelayLimitsTests : IAsyncLifetime
{
    private WebApplication _desktop = null!;
    private WebApplication _relay = null!;
    private readonly HttpMessageInvoker _invoker = new(new SocketsHttpHandler { UseProxy = false });

    public async Task InitializeAsync()
    {
        _desktop = Loopback();
        _desktop.UseWebSockets();
        _desktop.Map("/websockify", ServeDesktopAsync);
        await _desktop.StartAsync();

        _relay = Loopback();
        _relay.UseWebSockets();
        var upstream = new Uri(_desktop.Urls.Single() + "/websockify");
        // The deadline is short where a test waits for it, and long where it must not be what ends the connection.
        _relay.Map("/quick", ctx => VncWebSocketProxy.RunAsync(ctx, _invoker, upstream, "secret", viewOnly: false, NullLogger.Instance,
            handshakeTimeout: TimeSpan.FromSeconds(1)));
        _relay.Map("/patient", ctx => VncWebSocketProxy.RunAsync(ctx, _invoker, upstream, "secret", viewOnly: false, NullLogger.Instance,
            handshakeTimeout: TimeSpan.FromMinutes(5)));
        await _relay.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _relay.DisposeAsync();
        await _desktop.DisposeAsync();
        _invoker.Dispose();
    }

    [Fact]
    public async Task AClientThatNeverAnswersTheHandshakeIsCutOffAtTheDeadline()
    {
        using var client = await ConnectAsync("/quick");
        Assert.Equal("RFB 003.008\n", System.Text.Encoding.ASCII.GetString(await ReceiveMessageAsync(client)));
        // The client says nothing more: the relay ends the connection (and its own to the desktop) on its own.
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        Assert.True(await EndsAsync(client, wait.Token), "the relay held the silent client's connection past its handshake deadline");
    }

    [Fact]
    public async Task AClientWhoseMessageNeverEndsIsCutOffBeforeTheRelayHoldsMoreThanAMebibyte()
    {
        using var client = await ConnectAsync("/patient");
        await ReceiveMessageAsync(client);
        await client.SendAsync("RFB 003.008\n"u8.ToArray(), WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
        Assert.Equal([1, 1], await ReceiveMessageAsync(client)); // the relay offers "no authentication"
        // The choice of "None" starts a message that never ends: 64 KiB fragments, 4 MiB in all.
        var fragment = new byte[64 * 1024];
        var cutOff = false;
        try
        {
            await client.SendAsync(new byte[] { 1 }, WebSocketMessageType.Binary, endOfMessage: false, CancellationToken.None);
            for (var sent = 0; sent < 4 * 1024 * 1024; sent += fragment.Length)
                await client.SendAsync(fragment, WebSocketMessageType.Binary, endOfMessage: false, CancellationToken.None);
        }
        catch (WebSocketException)
        {
            cutOff = true;
        }
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        Assert.True(cutOff || await EndsAsync(client, wait.Token), "the relay went on reading a handshake message beyond its limit");
    }

    /// <summary>A desktop as websockify and TigerVNC present it: RFB 3.8, the VNC password asked for and accepted.</summary>
    private static async Task ServeDesktopAsync(HttpContext ctx)
    {
        using var socket = await ctx.WebSockets.AcceptWebSocketAsync();
        var buffer = new byte[64 * 1024];
        await socket.SendAsync("RFB 003.008\n"u8.ToArray(), WebSocketMessageType.Binary, true, ctx.RequestAborted);
        await ReceiveBytesAsync(12);
        await socket.SendAsync(new byte[] { 1, 2 }, WebSocketMessageType.Binary, true, ctx.RequestAborted); // VncAuth
        await ReceiveBytesAsync(1);
        await socket.SendAsync(new byte[16], WebSocketMessageType.Binary, true, ctx.RequestAborted); // the challenge
        await ReceiveBytesAsync(16);
        await socket.SendAsync(new byte[4], WebSocketMessageType.Binary, true, ctx.RequestAborted); // SecurityResult: OK
        while (socket.State == WebSocketState.Open && (await socket.ReceiveAsync(buffer, ctx.RequestAborted)).MessageType != WebSocketMessageType.Close)
        {
        }

        async Task ReceiveBytesAsync(int count)
        {
            for (var got = 0; got < count;) got += (await socket.ReceiveAsync(buffer, ctx.RequestAborted)).Count;
        }
    }

    private async Task<ClientWebSocket> ConnectAsync(string path)
    {
        var client = new ClientWebSocket();
        await client.ConnectAsync(new Uri(_relay.Urls.Single().Replace("http://", "ws://") + path), CancellationToken.None);
        return client;
    }

    private static async Task<byte[]> ReceiveMessageAsync(ClientWebSocket client)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var buffer = new byte[1024];
        var message = new List<byte>();
        WebSocketReceiveResult result;
        do
        {
            result = await client.ReceiveAsync(buffer, timeout.Token);
            message.AddRange(buffer.AsSpan(0, result.Count));
        }
        while (!result.EndOfMessage);
        return [.. message];
    }

    /// <summary>Whether the relay ends the connection (a close, or the socket dropped) before <paramref name="ct"/> fires.</summary>
    private static async Task<bool> EndsAsync(ClientWebSocket client, CancellationToken ct)
    {
        var buffer = new byte[1024];
        try
        {
            while ((await client.ReceiveAsync(buffer, ct)).MessageType != WebSocketMessageType.Close)
            {
            }
            return true;
        }
        catch (WebSocketException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static WebApplication Loopback()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        return builder.Build();
    }
}
