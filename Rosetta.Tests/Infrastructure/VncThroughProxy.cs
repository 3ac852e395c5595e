using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Text;

namespace Rosetta.Tests.Infrastructure;

/// <summary>
/// An RFB client on a desktop task's WebSocket through the proxy, with only the credentials of the
/// owner or a share-link holder: the proxy offers "None" and answers the VNC challenge itself.
/// </summary>
public static class VncThroughProxy
{
    /// <summary>Runs the handshake up to ServerInit with the owner's token and returns the desktop's size.</summary>
    public static async Task<(int Width, int Height)> HandshakeAsync(RosettaAppFactory app, string token, string taskId)
    {
        await using var session = await Session.OpenAsync(app, taskId, o => o.SetRequestHeader("Authorization", $"Bearer {token}"));
        return (session.Width, session.Height);
    }

    /// <summary>A connection past ServerInit, to send client messages and wait until the server has handled them.</summary>
    public sealed class Session : IAsyncDisposable
    {
        private const byte Fence = 248, Bell = 2, ServerCutText = 3, EndOfContinuousUpdates = 150;
        private const uint FenceRequest = 0x80000000, FenceBlockBefore = 1;
        private readonly ClientWebSocket _socket;
        private readonly List<byte> _buffer = [];

        private Session(ClientWebSocket socket) => _socket = socket;

        public int Width { get; private set; }
        public int Height { get; private set; }

        /// <param name="shared">ClientInit's flag: false asks the server to disconnect everyone else.</param>
        public static async Task<Session> OpenAsync(RosettaAppFactory app, string taskId, Action<ClientWebSocketOptions> credentials, bool shared = true) =>
            await TryOpenAsync(ProxiedUri(app, taskId), credentials, vncPassword: null, shared)
            ?? throw new InvalidDataException("the desktop refused the proxy's VNC password");

        /// <summary>Opens the desktop's WebSocket, reads the server's version and leaves without logging in.</summary>
        public static async Task LeaveBeforeLoginAsync(RosettaAppFactory app, string taskId, Action<ClientWebSocketOptions> credentials)
        {
            using var socket = new ClientWebSocket();
            credentials(socket.Options);
            socket.Options.AddSubProtocol("binary");
            await socket.ConnectAsync(ProxiedUri(app, taskId), CancellationToken.None);
            await using var session = new Session(socket);
            Assert.Equal("RFB 003.008\n", Encoding.ASCII.GetString(await session.ReadAsync(12)));
        }

        public static Uri ProxiedUri(RosettaAppFactory app, string taskId) => new($"ws://{app.BaseAddress.Authority}/t/{taskId}/websockify");

        /// <summary>
        /// Connects and logs in: with <paramref name="vncPassword"/> null the server must offer only "None" (the proxy
        /// answers the VNC challenge); with a password, it must offer VNC authentication, answered here (a desktop
        /// reached directly). Null when the server refuses the login (SecurityResult "failed").
        /// </summary>
        /// <param name="rfb37">Speak RFB 3.7, where a client that chose None gets no SecurityResult.</param>
        public static async Task<Session?> TryOpenAsync(Uri websocket, Action<ClientWebSocketOptions> credentials, string? vncPassword, bool shared = true, bool rfb37 = false)
        {
            var socket = new ClientWebSocket();
            credentials(socket.Options);
            socket.Options.AddSubProtocol("binary");
            await socket.ConnectAsync(websocket, CancellationToken.None);
            var session = new Session(socket);
            Assert.Equal("RFB 003.008\n", Encoding.ASCII.GetString(await session.ReadAsync(12)));
            await session.SendAsync(Encoding.ASCII.GetBytes(rfb37 ? "RFB 003.007\n" : "RFB 003.008\n"));
            var count = (await session.ReadAsync(1))[0];
            var types = await session.ReadAsync(count);
            if (vncPassword is null)
            {
                Assert.Equal([(byte)1], types); // only "None": the proxy answers the VNC challenge
                await session.SendAsync([1]);
            }
            else
            {
                Assert.Contains((byte)2, types);
                await session.SendAsync([2]);
                await session.SendAsync(Rosetta.App.Proxy.VncAuthentication.Respond(await session.ReadAsync(16), vncPassword));
            }
            if (!(rfb37 && vncPassword is null) && BinaryPrimitives.ReadUInt32BigEndian(await session.ReadAsync(4)) != 0) // SecurityResult
            {
                await session.DisposeAsync();
                return null;
            }
            await session.SendAsync([shared ? (byte)1 : (byte)0]); // ClientInit
            var init = await session.ReadAsync(24);
            session.Width = BinaryPrimitives.ReadUInt16BigEndian(init.AsSpan(0, 2));
            session.Height = BinaryPrimitives.ReadUInt16BigEndian(init.AsSpan(2, 2));
            await session.ReadAsync((int)BinaryPrimitives.ReadUInt32BigEndian(init.AsSpan(20, 4))); // the desktop's name
            // SetEncodings: Raw, ExtendedDesktopSize (-308: the server answers a resize with it, and drops a
            // client that cannot take the answer), Fence (-312, for the barrier).
            await session.SendAsync([2, 0, 0, 3, 0, 0, 0, 0, 0xFF, 0xFF, 0xFE, 0xCC, 0xFF, 0xFF, 0xFE, 0xC8]);
            return session;
        }

        public Task SendAsync(byte[] bytes) => _socket.SendAsync(bytes, WebSocketMessageType.Binary, true, CancellationToken.None);

        /// <summary>SetDesktopSize with one screen of the given size.</summary>
        public Task RequestSizeAsync(int width, int height)
        {
            var message = new byte[8 + 16];
            message[0] = 251;
            BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(2), (ushort)width);
            BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(4), (ushort)height);
            message[6] = 1;
            BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(8 + 8), (ushort)width);
            BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(8 + 10), (ushort)height);
            return SendAsync(message);
        }

        /// <summary>
        /// Returns once the server has handled everything sent before: a fence request (BlockBefore) that it
        /// answers only after the messages ahead of it. No update is ever requested, so nothing else arrives
        /// but the server's own fence, a bell or a clipboard.
        /// </summary>
        public async Task BarrierAsync()
        {
            var mark = Guid.NewGuid().ToByteArray()[..8];
            var fence = new byte[9 + mark.Length];
            fence[0] = Fence; // ClientFence
            BinaryPrimitives.WriteUInt32BigEndian(fence.AsSpan(4), FenceRequest | FenceBlockBefore);
            fence[8] = (byte)mark.Length;
            mark.CopyTo(fence, 9);
            await SendAsync(fence);
            while (true)
            {
                var type = (await ReadAsync(1))[0];
                switch (type)
                {
                    case Fence:
                        var head = await ReadAsync(8);
                        var payload = await ReadAsync(head[7]);
                        if (payload.AsSpan().SequenceEqual(mark)) return;
                        break; // the server's own fence, announcing it has them
                    case Bell or EndOfContinuousUpdates:
                        break;
                    case ServerCutText:
                        var cut = await ReadAsync(7);
                        await ReadAsync(Math.Abs(BinaryPrimitives.ReadInt32BigEndian(cut.AsSpan(3))));
                        break;
                    default:
                        throw new InvalidDataException($"unexpected server message {type} while waiting for a fence");
                }
            }
        }

        private async Task<byte[]> ReadAsync(int count)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            var chunk = new byte[64 * 1024];
            while (_buffer.Count < count)
            {
                var received = await _socket.ReceiveAsync(chunk, timeout.Token);
                if (received.MessageType == WebSocketMessageType.Close) throw new EndOfStreamException("the proxy closed the VNC WebSocket");
                _buffer.AddRange(chunk.AsSpan(0, received.Count).ToArray());
            }
            var result = _buffer.GetRange(0, count).ToArray();
            _buffer.RemoveRange(0, count);
            return result;
        }

        public async ValueTask DisposeAsync()
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                try { await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token); }
                catch (Exception e) when (e is WebSocketException or OperationCanceledException) { }
            }
            _socket.Dispose();
        }
    }
}
