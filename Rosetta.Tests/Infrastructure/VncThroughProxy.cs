using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Text;

namespace Rosetta.Tests.Infrastructure;

/// <summary>
/// An RFB client on a desktop task's WebSocket through the proxy, with only the owner's credentials:
/// the proxy offers "None" and answers the VNC challenge itself.
/// </summary>
public static class VncThroughProxy
{
    /// <summary>Runs the handshake up to ServerInit and returns the desktop's size.</summary>
    public static async Task<(int Width, int Height)> HandshakeAsync(RosettaAppFactory app, string token, string taskId)
    {
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");
        socket.Options.AddSubProtocol("binary");
        await socket.ConnectAsync(new Uri($"ws://{app.BaseAddress.Authority}/t/{taskId}/websockify"), CancellationToken.None);
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
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        return (BinaryPrimitives.ReadUInt16BigEndian(init.AsSpan(0, 2)), BinaryPrimitives.ReadUInt16BigEndian(init.AsSpan(2, 2)));
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
