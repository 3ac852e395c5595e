using System.Buffers.Binary;
using System.Diagnostics;

namespace Rosetta.App.Proxy;

/// <summary>
/// Copies WebSocket frames from one connection to another without decoding them: payloads, masked or
/// not, pass through as they are, so a desktop's megabytes of screen updates cost one read and one
/// write per chunk. Only frame headers are followed, to know where a frame ends: between two frames
/// (and only there) <see cref="KeepAliveAsync"/> may slip in a ping while nothing else flows.
/// </summary>
public sealed class WebSocketPassThrough(Stream destination)
{
    private readonly SemaphoreSlim _betweenFrames = new(1, 1);
    private long _lastWrite = Stopwatch.GetTimestamp();

    /// <summary>Copies until <paramref name="source"/> ends; <paramref name="source"/> must sit on a frame boundary.</summary>
    public async Task CopyFromAsync(Stream source, CancellationToken ct)
    {
        var buffer = new byte[256 * 1024];
        var frames = new FrameBoundaries();
        var holding = false;
        try
        {
            while (true)
            {
                var read = await source.ReadAsync(buffer, ct);
                if (read == 0) return;
                if (!holding)
                {
                    await _betweenFrames.WaitAsync(ct);
                    holding = true;
                }
                await destination.WriteAsync(buffer.AsMemory(0, read), ct);
                await destination.FlushAsync(ct);
                Volatile.Write(ref _lastWrite, Stopwatch.GetTimestamp());
                if (frames.Advance(buffer.AsSpan(0, read)))
                {
                    _betweenFrames.Release();
                    holding = false;
                }
            }
        }
        finally
        {
            if (holding) _betweenFrames.Release();
        }
    }

    /// <summary>
    /// Sends an empty ping (a server's: unmasked) whenever nothing was written for <paramref name="interval"/>,
    /// so an idle desktop keeps its connection through proxies and load balancers that cut silent ones.
    /// The browser's pong travels on to the server, which ignores an unsolicited pong (RFC 6455 §5.5.3).
    /// </summary>
    public async Task KeepAliveAsync(TimeSpan interval, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(interval / 2);
        while (await timer.WaitForNextTickAsync(ct))
        {
            if (Stopwatch.GetElapsedTime(Volatile.Read(ref _lastWrite)) < interval) continue;
            await _betweenFrames.WaitAsync(ct);
            try
            {
                await destination.WriteAsync(EmptyPing, ct);
                await destination.FlushAsync(ct);
                Volatile.Write(ref _lastWrite, Stopwatch.GetTimestamp());
            }
            finally
            {
                _betweenFrames.Release();
            }
        }
    }

    private static readonly byte[] EmptyPing = [0x80 | WebSocketFrames.Ping, 0];

    /// <summary>Follows frame headers through a byte stream to tell when a frame has ended.</summary>
    public sealed class FrameBoundaries
    {
        private readonly byte[] _header = new byte[14];
        private int _headerLength;
        private long _payloadLeft;

        /// <summary>Consumes <paramref name="bytes"/>; true when they end exactly between two frames.</summary>
        public bool Advance(ReadOnlySpan<byte> bytes)
        {
            while (!bytes.IsEmpty)
            {
                if (_payloadLeft > 0)
                {
                    var take = (int)Math.Min(_payloadLeft, bytes.Length);
                    _payloadLeft -= take;
                    bytes = bytes[take..];
                    continue;
                }
                _header[_headerLength++] = bytes[0];
                bytes = bytes[1..];
                if (HeaderComplete() is { } payload)
                {
                    _payloadLeft = payload;
                    _headerLength = 0;
                }
            }
            return _payloadLeft == 0 && _headerLength == 0;
        }

        /// <summary>The payload length once the header read so far is whole, else null.</summary>
        private long? HeaderComplete()
        {
            if (_headerLength < 2) return null;
            var lengthCode = _header[1] & 0x7F;
            var lengthBytes = lengthCode == 126 ? 2 : lengthCode == 127 ? 8 : 0;
            var maskBytes = (_header[1] & 0x80) != 0 ? 4 : 0;
            if (_headerLength < 2 + lengthBytes + maskBytes) return null;
            return lengthBytes switch
            {
                0 => lengthCode,
                2 => BinaryPrimitives.ReadUInt16BigEndian(_header.AsSpan(2)),
                _ => (long)Math.Min(BinaryPrimitives.ReadUInt64BigEndian(_header.AsSpan(2)), long.MaxValue),
            };
        }
    }
}
