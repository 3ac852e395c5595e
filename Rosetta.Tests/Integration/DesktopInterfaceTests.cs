using System.Buffers.Binary;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using Rosetta.App.Proxy;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Integration;

/// <summary>
/// The `desktop` software: noVNC's files and its WebSocket through the proxy, with the VNC password
/// handshake done by the proxy so the owner never types (or receives) the password.
/// </summary>
[Collection("platform")]
public sealed class DesktopInterfaceTests(PlatformFixture platform)
{
    private RosettaAppFactory App => platform.App;

    [Fact]
    public async Task TheVncHandshakeCompletesThroughTheProxyWithOnlyTheOwnersCredentials()
    {
        var token = await App.AdminTokenAsync();
        using var client = App.Client(token);
        var id = (string)(await TaskApi.StartAsync(client, new { software = "desktop", computing = "local" }))["id"]!;
        try
        {
            await TaskApi.WaitForStatusAsync(client, id, "running", seconds: 90);
            var page = await client.GetAsync($"/t/{id}/vnc.html");
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Contains("noVNC", await page.Content.ReadAsStringAsync());
            // The password is not offered to the owner either: the proxy uses it.
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/v1/tasks/{id}/secret")).StatusCode);

            using var socket = new ClientWebSocket();
            socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");
            socket.Options.AddSubProtocol("binary");
            await socket.ConnectAsync(new Uri($"ws://{App.BaseAddress.Authority}/t/{id}/websockify"), CancellationToken.None);
            var rfb = new Rfb(socket);

            Assert.Equal("RFB 003.008\n", Encoding.ASCII.GetString(await rfb.ReadAsync(12)));
            await rfb.SendAsync(Encoding.ASCII.GetBytes("RFB 003.008\n"));
            var count = (await rfb.ReadAsync(1))[0];
            var types = await rfb.ReadAsync(count);
            Assert.Equal([(byte)1], types); // only "None": the proxy answers the VNC challenge
            await rfb.SendAsync([1]);
            Assert.Equal(0u, BinaryPrimitives.ReadUInt32BigEndian(await rfb.ReadAsync(4))); // SecurityResult OK
            await rfb.SendAsync([1]); // ClientInit, shared
            var init = await rfb.ReadAsync(24);
            var width = BinaryPrimitives.ReadUInt16BigEndian(init.AsSpan(0, 2));
            var height = BinaryPrimitives.ReadUInt16BigEndian(init.AsSpan(2, 2));
            Assert.True(width > 0 && height > 0, $"desktop size {width}x{height}");
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        }
        finally
        {
            await TaskApi.StopAndDeleteAsync(client, id);
        }
    }

    [Fact]
    public void VncResponseMatchesTheProtocolsReferenceVector()
    {
        // DES of a zero challenge with password "password" (bit-reversed key), as RFB servers compute it.
        var response = VncAuthentication.Respond(new byte[16], "password");
        Assert.Equal(16, response.Length);
        Assert.Equal(response[..8], response[8..]); // ECB: equal blocks encrypt equally
        Assert.NotEqual(response, VncAuthentication.Respond(new byte[16], "passwork"));
        Assert.Equal(response, VncAuthentication.Respond(new byte[16], "password-and-more")); // only 8 characters count
    }

    private sealed class Rfb(ClientWebSocket socket)
    {
        private readonly List<byte> _buffer = [];

        public async Task<byte[]> ReadAsync(int count)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            var chunk = new byte[64 * 1024];
            while (_buffer.Count < count)
            {
                var received = await socket.ReceiveAsync(chunk, timeout.Token);
                if (received.MessageType == WebSocketMessageType.Close) throw new EndOfStreamException("the proxy closed the VNC WebSocket");
                _buffer.AddRange(chunk.AsSpan(0, received.Count).ToArray());
            }
            var result = _buffer.GetRange(0, count).ToArray();
            _buffer.RemoveRange(0, count);
            return result;
        }

        public Task SendAsync(byte[] bytes) => socket.SendAsync(bytes, WebSocketMessageType.Binary, true, CancellationToken.None);
    }
}
