using System.Globalization;
using System.Text;

namespace Rosetta.Core.Backends;

/// <summary>
/// Turns a byte stream into lines. Engine log frames are not line-aligned and may split a UTF-8
/// character, so bytes go through a stateful decoder and a partial-line buffer; one assembler per
/// stream (stdout, stderr) keeps their partial lines apart.
/// </summary>
public sealed class LogLineAssembler(LogStream stream, bool timestamps)
{
    private readonly Decoder _decoder = new UTF8Encoding(false, false).GetDecoder();
    private readonly StringBuilder _partial = new();
    private char[] _chars = new char[4096];

    /// <summary>Appends bytes and returns the lines they complete (possibly none).</summary>
    public IReadOnlyList<LogLine> Append(ReadOnlySpan<byte> bytes)
    {
        var needed = _decoder.GetCharCount(bytes, flush: false);
        if (needed > _chars.Length) _chars = new char[Math.Max(needed, _chars.Length * 2)];
        var count = _decoder.GetChars(bytes, _chars, flush: false);

        List<LogLine>? lines = null;
        var start = 0;
        for (var i = 0; i < count; i++)
        {
            if (_chars[i] != '\n') continue;
            AppendCapped(_chars.AsSpan(start, i - start), ref lines);
            (lines ??= []).Add(MakeLine(_partial, endedByNewline: true));
            _partial.Clear();
            start = i + 1;
        }
        AppendCapped(_chars.AsSpan(start, count - start), ref lines);
        return lines ?? (IReadOnlyList<LogLine>)[];
    }

    /// <summary>
    /// The longest line kept whole: a program that never writes a newline (a progress bar redrawn with '\r' for a day,
    /// a JSON document of megabytes on one line) would otherwise grow one line without end, held in memory by every
    /// reader and sent to a browser in one piece. Longer text goes on as more lines, nothing of it dropped.
    /// </summary>
    public const int MaxLineLength = 64 * 1024;

    private void AppendCapped(ReadOnlySpan<char> chars, ref List<LogLine>? lines)
    {
        while (_partial.Length + chars.Length > MaxLineLength)
        {
            var room = MaxLineLength - _partial.Length;
            if (room > 1 && char.IsHighSurrogate(chars[room - 1])) room--; // a character is not cut in two
            _partial.Append(chars[..room]);
            (lines ??= []).Add(MakeLine(_partial, endedByNewline: false));
            _partial.Clear();
            chars = chars[room..];
        }
        _partial.Append(chars);
    }

    /// <summary>At end of stream: the last line if it had no newline.</summary>
    public LogLine? Flush()
    {
        var tail = _decoder.GetCharCount([], flush: true);
        if (tail > 0)
        {
            var chars = new char[tail];
            _decoder.GetChars([], chars, flush: true);
            _partial.Append(chars);
        }
        if (_partial.Length == 0) return null;
        var line = MakeLine(_partial, endedByNewline: false);
        _partial.Clear();
        return line;
    }

    /// <summary>
    /// Set while a line longer than <see cref="MaxLineLength"/> goes on: its later pieces carry no timestamp prefix of
    /// their own (the engine wrote one per line), so their text is never parsed as one; they take the first piece's.
    /// </summary>
    private bool _continuing;
    private DateTime? _continuingAt;

    private LogLine MakeLine(StringBuilder text, bool endedByNewline)
    {
        var length = text.Length;
        if (endedByNewline && length > 0 && text[length - 1] == '\r') length--; // CRLF from programs with a tty habit
        var line = text.ToString(0, length);
        var made = !timestamps ? new LogLine(null, stream, line)
            : _continuing ? new LogLine(_continuingAt, stream, line)
            : WithEngineTimestamp(line);
        _continuing = !endedByNewline;
        _continuingAt = made.Timestamp;
        return made;
    }

    /// <summary>The engine prefixes each line with an RFC 3339 timestamp and one space.</summary>
    private LogLine WithEngineTimestamp(string line)
    {
        var space = line.IndexOf(' ');
        if (space > 0 && DateTime.TryParse(line.AsSpan(0, space), CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var at))
        {
            return new LogLine(at, stream, line[(space + 1)..]);
        }
        return new LogLine(null, stream, line);
    }
}
