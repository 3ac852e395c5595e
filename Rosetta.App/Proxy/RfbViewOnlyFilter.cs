using System.Buffers.Binary;

namespace Rosetta.App.Proxy;

/// <summary>
/// What a view-only guest's browser may send a desktop's VNC server: the messages that shape the guest's
/// own picture (pixel format, encodings, update requests, continuous updates, fences), never input (keys,
/// pointer, clipboard), a new screen size or xvp's shutdown and reboot. The filter reads the RFB client
/// stream after the security handshake (RFC 6143 §7.3.1 onwards, with the community extensions noVNC
/// uses), however the WebSocket cut it, and forces ClientInit's shared flag, so a guest never
/// disconnects the owner. A message it cannot measure ends the connection: guessing its length would
/// let the next bytes be read as anything.
/// </summary>
public sealed class RfbViewOnlyFilter
{
    private const byte SetPixelFormat = 0, SetEncodings = 2, FramebufferUpdateRequest = 3, KeyEvent = 4, PointerEvent = 5, ClientCutText = 6,
        EnableContinuousUpdates = 150, ClientFence = 248, Xvp = 250, SetDesktopSize = 251, Qemu = 255;
    private const byte QemuExtendedKeyEvent = 0;
    private const byte Shared = 1;
    private const int MaxIdleBuffer = 64 * 1024;

    private byte[] _pending = new byte[64];
    private int _pendingLength;
    /// <summary>What is left to discard of a refused message larger than what has arrived (a long clipboard).</summary>
    private long _skip;
    private bool _clientInitSeen;

    /// <summary>Takes the next bytes from the browser and returns those that may go on to the server (often none).</summary>
    public byte[] Pass(ReadOnlySpan<byte> fromBrowser)
    {
        var skipped = (int)Math.Min(_skip, fromBrowser.Length);
        _skip -= skipped;
        Append(fromBrowser[skipped..]);
        var passed = new List<byte>();
        var at = 0;
        if (!_clientInitSeen && _pendingLength > 0)
        {
            passed.Add(Shared);
            _clientInitSeen = true;
            at = 1;
        }
        while (at < _pendingLength)
        {
            var message = _pending.AsSpan(at, _pendingLength - at);
            if (LengthOf(message) is not { } length) break;
            if (IsAllowed(message[0]))
            {
                if (message.Length < length) break; // allowed messages are short (SetEncodings at most 256 KiB): wait for the rest
                passed.AddRange(message[..(int)length]);
                at += (int)length;
            }
            else if (message.Length >= length)
            {
                at += (int)length;
            }
            else
            {
                _skip = length - message.Length;
                at = _pendingLength;
            }
        }
        _pending.AsSpan(at, _pendingLength - at).CopyTo(_pending);
        _pendingLength -= at;
        if (_pendingLength == 0 && _pending.Length > MaxIdleBuffer) _pending = new byte[64]; // after a long refused paste
        return [.. passed];
    }

    private static bool IsAllowed(byte type) =>
        type is SetPixelFormat or SetEncodings or FramebufferUpdateRequest or EnableContinuousUpdates or ClientFence;

    /// <summary>The whole message's length once its header has arrived, else null.</summary>
    private static long? LengthOf(ReadOnlySpan<byte> m) => m[0] switch
    {
        SetPixelFormat => 20,
        SetEncodings => m.Length < 4 ? null : 4 + 4L * BinaryPrimitives.ReadUInt16BigEndian(m[2..]),
        FramebufferUpdateRequest => 10,
        KeyEvent => 8,
        PointerEvent => 6,
        // A negative length is the extended clipboard's (its size is the absolute value).
        ClientCutText => m.Length < 8 ? null : 8 + Math.Abs((long)BinaryPrimitives.ReadInt32BigEndian(m[4..])),
        EnableContinuousUpdates => 10,
        ClientFence => m.Length < 9 ? null : 9 + m[8],
        Xvp => 4,
        SetDesktopSize => m.Length < 7 ? null : 8 + 16L * m[6],
        Qemu => m.Length < 2 ? null : m[1] == QemuExtendedKeyEvent ? 12
            : throw new InvalidDataException($"A view-only guest sent QEMU client message {m[1]}, which the relay does not know."),
        _ => throw new InvalidDataException($"A view-only guest sent RFB client message {m[0]}, which the relay does not know."),
    };

    private void Append(ReadOnlySpan<byte> bytes)
    {
        if (_pendingLength + bytes.Length > _pending.Length)
            Array.Resize(ref _pending, Math.Max(_pending.Length * 2, _pendingLength + bytes.Length));
        bytes.CopyTo(_pending.AsSpan(_pendingLength));
        _pendingLength += bytes.Length;
    }
}
