namespace Rosetta.App.Proxy;

/// <summary>
/// Reads a WebSocket's data frames as one byte stream, for the VNC relay's handshake (RFB messages do not
/// follow WebSocket message boundaries), answering pings on the way. Everything it holds is bounded: a frame
/// by <see cref="MaxFrame"/>, the rest of a fragmented message by <see cref="MaxRestOfMessage"/>; the peer may
/// be a share-link holder, who needs no account.
/// </summary>
internal sealed class WebSocketByteReader(Stream stream, bool answerPingsMasked)
{
    public const int MaxFrame = 64 * 1024;
    /// <summary>
    /// Far more than the handshake ever leaves of a message (websockify and noVNC end each message with its
    /// frame); a sender that goes on fragmenting one message without end is cut off here.
    /// </summary>
    public const int MaxRestOfMessage = 1024 * 1024;

    private byte[] _payload = [];
    private int _start;
    private bool _inMessage;

    public async Task<byte[]> ReadExactlyAsync(int count, CancellationToken ct)
    {
        var result = new byte[count];
        var filled = 0;
        while (filled < count)
        {
            if (_start == _payload.Length) await NextDataFrameAsync(ct);
            var n = Math.Min(count - filled, _payload.Length - _start);
            Array.Copy(_payload, _start, result, filled, n);
            _start += n;
            filled += n;
        }
        return result;
    }

    /// <summary>
    /// The bytes read but not consumed, plus the rest of a message the sender split into fragments, so the
    /// stream is left on a message boundary.
    /// </summary>
    /// <exception cref="InvalidDataException">The rest of the message is longer than <see cref="MaxRestOfMessage"/>.</exception>
    public async Task<byte[]> TakeRestOfMessageAsync(CancellationToken ct)
    {
        var rest = new List<byte>(_payload[_start..]);
        while (_inMessage)
        {
            await NextDataFrameAsync(ct);
            if (rest.Count + _payload.Length > MaxRestOfMessage)
                throw new InvalidDataException($"A WebSocket message of the VNC handshake went on beyond {MaxRestOfMessage} bytes.");
            rest.AddRange(_payload);
        }
        _payload = [];
        _start = 0;
        return [.. rest];
    }

    private async Task NextDataFrameAsync(CancellationToken ct)
    {
        while (true)
        {
            var frame = await WebSocketFrames.ReadAsync(stream, MaxFrame, ct);
            if (frame.Opcode == WebSocketFrames.Close) throw new EndOfStreamException("The WebSocket was closed during the VNC handshake.");
            if (frame.Opcode == WebSocketFrames.Ping)
            {
                await WebSocketFrames.WriteAsync(stream, WebSocketFrames.Pong, frame.Payload, answerPingsMasked, ct);
                continue;
            }
            if (frame.IsControl) continue;
            _inMessage = !frame.Fin;
            _payload = frame.Payload;
            _start = 0;
            return;
        }
    }
}
