using System.IO.Pipelines;
using System.Net.WebSockets;
using Rosetta.App.Proxy;

namespace Rosetta.Tests.Unit;

/// <summary>
/// The VNC relay's framing: frames it writes are read back by .NET's own WebSocket, frames pass
/// through chunked at any point, and a keep-alive ping only ever lands between two frames.
/// </summary>
public sealed class WebSocketRelayTests
{
    [Theory]
    [InlineData(0, false)]
    [InlineData(125, true)]
    [InlineData(126, false)]
    [InlineData(65_535, true)]
    [InlineData(65_536, false)]
    [InlineData(300_000, true)]
    public async Task FramesWrittenByTheRelayAreReadByDotNetsWebSocketAndBack(int length, bool masked)
    {
        var payload = Enumerable.Range(0, length).Select(i => (byte)(i * 7)).ToArray();
        var wire = new MemoryStream();
        await WebSocketFrames.WriteAsync(wire, WebSocketFrames.Binary, payload, masked, CancellationToken.None);

        // Masked frames are a client's, read by a server; unmasked ones a server's, read by a client.
        wire.Position = 0;
        using var reader = WebSocket.CreateFromStream(new ReadOnlyDuplex(wire), new WebSocketCreationOptions { IsServer = masked });
        var received = new byte[length + 1];
        var total = 0;
        ValueWebSocketReceiveResult result;
        do
        {
            result = await reader.ReceiveAsync(received.AsMemory(total), CancellationToken.None);
            total += result.Count;
        } while (!result.EndOfMessage);
        Assert.Equal(WebSocketMessageType.Binary, result.MessageType);
        Assert.Equal(payload, received[..total]);

        wire.Position = 0;
        var frame = await WebSocketFrames.ReadAsync(wire, int.MaxValue, CancellationToken.None);
        Assert.True(frame.Fin);
        Assert.Equal(WebSocketFrames.Binary, frame.Opcode);
        Assert.Equal(payload, frame.Payload);
        Assert.Equal(wire.Length, wire.Position); // exactly one frame consumed, nothing read ahead
    }

    [Fact]
    public async Task AFrameLargerThanAllowedIsRefusedBeforeItsPayloadIsRead()
    {
        var wire = new MemoryStream();
        await WebSocketFrames.WriteAsync(wire, WebSocketFrames.Binary, new byte[70_000], masked: true, CancellationToken.None);
        wire.Position = 0;
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => WebSocketFrames.ReadAsync(wire, 64 * 1024, CancellationToken.None));
        Assert.Contains("70000", e.Message);
    }

    [Fact]
    public async Task FrameBoundariesAreFoundWhateverTheChunking()
    {
        var wire = new MemoryStream();
        var sizes = new[] { 0, 1, 125, 126, 127, 65_535, 65_536, 200_000 };
        var ends = new HashSet<long>();
        foreach (var (size, i) in sizes.Select((s, i) => (s, i)))
        {
            await WebSocketFrames.WriteAsync(wire, WebSocketFrames.Binary, new byte[size], masked: i % 2 == 0, CancellationToken.None);
            ends.Add(wire.Length);
        }
        var bytes = wire.ToArray();
        foreach (var chunk in new[] { 1, 2, 3, 7, 14, 1000, 65_537, bytes.Length })
        {
            var boundaries = new WebSocketPassThrough.FrameBoundaries();
            for (var at = 0; at < bytes.Length; at += chunk)
            {
                var end = Math.Min(bytes.Length, at + chunk);
                Assert.Equal(ends.Contains(end), boundaries.Advance(bytes.AsSpan(at, end - at)));
            }
        }
    }

    [Fact]
    public async Task AnIdleLegIsPingedOnlyBetweenFramesAndTheBytesPassUntouched()
    {
        // A frame whose header arrives, then nothing for several keep-alive intervals, then its payload.
        var source = new Pipe();
        var destination = new Pipe();
        var relay = new WebSocketPassThrough(destination.Writer.AsStream());
        using var stop = new CancellationTokenSource();
        var copy = relay.CopyFromAsync(source.Reader.AsStream(), stop.Token);

        var frame = new MemoryStream();
        await WebSocketFrames.WriteAsync(frame, WebSocketFrames.Binary, new byte[1000], masked: false, CancellationToken.None);
        var bytes = frame.ToArray();
        var output = destination.Reader.AsStream();

        await source.Writer.WriteAsync(bytes.AsMemory(0, 100));
        Assert.Equal(bytes[..100], await ReadExactlyWithinAsync(output, 100)); // the header and part of the payload, passed at once
        // Pinging starts once the relay is inside the frame: an idle start (a slow machine before the first
        // write) may rightly be pinged, and a ping there would shift what the checks below read.
        var keepAlive = relay.KeepAliveAsync(TimeSpan.FromMilliseconds(40), stop.Token);
        await Task.Delay(200); // five intervals in mid-frame: no ping may be written now
        await source.Writer.WriteAsync(bytes.AsMemory(100));
        var rest = await ReadExactlyWithinAsync(output, bytes.Length - 100);
        Assert.Equal(bytes[100..], rest);

        // Between frames and idle: a ping (FIN, opcode 9, empty, unmasked) follows within a few intervals.
        Assert.Equal(new byte[] { 0x89, 0x00 }, await ReadExactlyWithinAsync(output, 2));

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => copy);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => keepAlive);
    }

    private static async Task<byte[]> ReadExactlyWithinAsync(Stream stream, int count)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var buffer = new byte[count];
        await stream.ReadExactlyAsync(buffer, timeout.Token);
        return buffer;
    }

    /// <summary>A stream that reads from a buffer and discards writes (the reading WebSocket may answer).</summary>
    private sealed class ReadOnlyDuplex(Stream inner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) { }
    }
}
