using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Integration;

/// <summary>
/// An idle WebSocket through the proxy is not cut (a desktop or kernel nobody touches for a while).
/// YARP's default activity timeout is 100 s; this socket stays silent for longer, with no pings either
/// way (rosetta/hello's echo mode never sends unprompted, the client's keep-alive is off), then must
/// still echo. Slow (~2 minutes), so it is its own class with its own platform: xunit runs it in
/// parallel with the other collections.
/// </summary>
public sealed class IdleWebSocketTests(PlatformFixture platform) : IClassFixture<PlatformFixture>
{
    private static readonly TimeSpan Silence = TimeSpan.FromSeconds(110);

    [Fact]
    public async Task AProxiedWebSocketSilentForMoreThan100SecondsStillWorks()
    {
        using var client = await platform.App.NewUserClientAsync();
        var registered = await client.PostAsJsonAsync("/api/v1/software", new
        {
            name = "WebSocket echo", image = "rosetta/hello", interfacePort = 8080, env = new Dictionary<string, string> { ["HELLO_WEBSOCKET_ECHO"] = "1" },
        });
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        var software = (string)(await registered.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
        var id = (string)(await TaskApi.StartAsync(client, new { software, computing = "local" }))["id"]!;
        await TaskApi.WaitForStatusAsync(client, id, "running");

        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", client.DefaultRequestHeaders.Authorization!.ToString());
        socket.Options.KeepAliveInterval = TimeSpan.Zero; // no pings: nothing may cross the proxy while idle
        await socket.ConnectAsync(new Uri($"ws://{platform.App.BaseAddress.Authority}/t/{id}/echo"), CancellationToken.None);
        Assert.Equal("before the silence", await EchoAsync(socket, "before the silence"));

        await Task.Delay(Silence);

        Assert.Equal(WebSocketState.Open, socket.State);
        Assert.Equal("after the silence", await EchoAsync(socket, "after the silence"));
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        await TaskApi.StopAndDeleteAsync(client, id);
    }

    private static async Task<string> EchoAsync(ClientWebSocket socket, string message)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await socket.SendAsync(Encoding.UTF8.GetBytes(message), WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
        var buffer = new byte[1024];
        var received = new StringBuilder();
        WebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer, timeout.Token);
            Assert.Equal(WebSocketMessageType.Text, result.MessageType);
            received.Append(Encoding.UTF8.GetString(buffer, 0, result.Count));
        } while (!result.EndOfMessage);
        return received.ToString();
    }
}
