using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Rosetta.App.Proxy;

/// <summary>
/// RFC 6455 framing, only as much as the VNC relay needs while it rewrites the handshake. Frames are
/// read exactly (no read-ahead), so after the last one the stream sits on a frame boundary and the
/// relay can hand the rest of the connection over as raw bytes.
/// </summary>
public static class WebSocketFrames
{
    public const byte Continuation = 0x0;
    public const byte Binary = 0x2;
    public const byte Close = 0x8;
    public const byte Ping = 0x9;
    public const byte Pong = 0xA;

    public readonly record struct Frame(bool Fin, byte Opcode, byte[] Payload)
    {
        public bool IsControl => Opcode >= Close;
    }

    /// <summary>Reads one frame and unmasks its payload. Larger payloads than <paramref name="maxPayload"/> are refused.</summary>
    public static async Task<Frame> ReadAsync(Stream stream, int maxPayload, CancellationToken ct)
    {
        var head = new byte[8];
        await stream.ReadExactlyAsync(head.AsMemory(0, 2), ct);
        if ((head[0] & 0x70) != 0) throw new InvalidDataException("A WebSocket frame uses an extension that was not negotiated.");
        var fin = (head[0] & 0x80) != 0;
        var opcode = (byte)(head[0] & 0x0F);
        var masked = (head[1] & 0x80) != 0;
        long length = head[1] & 0x7F;
        if (length == 126)
        {
            await stream.ReadExactlyAsync(head.AsMemory(0, 2), ct);
            length = BinaryPrimitives.ReadUInt16BigEndian(head);
        }
        else if (length == 127)
        {
            await stream.ReadExactlyAsync(head.AsMemory(0, 8), ct);
            length = (long)BinaryPrimitives.ReadUInt64BigEndian(head);
        }
        if (length < 0 || length > maxPayload) throw new InvalidDataException($"A WebSocket frame of {length} bytes is larger than the {maxPayload} allowed here.");
        var mask = new byte[4];
        if (masked) await stream.ReadExactlyAsync(mask, ct);
        var payload = new byte[length];
        await stream.ReadExactlyAsync(payload, ct);
        if (masked) ApplyMask(payload, mask);
        return new Frame(fin, opcode, payload);
    }

    /// <summary>
    /// Writes one final frame. Frames from a client must be masked (RFC 6455 §5.3); a server's never are.
    /// </summary>
    public static async Task WriteAsync(Stream stream, byte opcode, ReadOnlyMemory<byte> payload, bool masked, CancellationToken ct)
    {
        var headerLength = 2 + (payload.Length < 126 ? 0 : payload.Length <= ushort.MaxValue ? 2 : 8) + (masked ? 4 : 0);
        var frame = new byte[headerLength + payload.Length];
        frame[0] = (byte)(0x80 | opcode);
        var at = 2;
        if (payload.Length < 126)
        {
            frame[1] = (byte)payload.Length;
        }
        else if (payload.Length <= ushort.MaxValue)
        {
            frame[1] = 126;
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), (ushort)payload.Length);
            at = 4;
        }
        else
        {
            frame[1] = 127;
            BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(2), (ulong)payload.Length);
            at = 10;
        }
        payload.Span.CopyTo(frame.AsSpan(headerLength));
        if (masked)
        {
            frame[1] |= 0x80;
            var mask = frame.AsSpan(at, 4);
            RandomNumberGenerator.Fill(mask);
            ApplyMask(frame.AsSpan(headerLength), mask);
        }
        await stream.WriteAsync(frame, ct);
        await stream.FlushAsync(ct);
    }

    private static void ApplyMask(Span<byte> payload, ReadOnlySpan<byte> mask)
    {
        for (var i = 0; i < payload.Length; i++) payload[i] ^= mask[i & 3];
    }
}
