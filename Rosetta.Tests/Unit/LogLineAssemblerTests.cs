using System.Text;
using Rosetta.Core.Backends;

namespace Rosetta.Tests.Unit;

public sealed class LogLineAssemblerTests
{
    [Fact]
    public void LinesSplitAcrossFramesAreJoined()
    {
        var assembler = new LogLineAssembler(LogStream.Stdout, timestamps: false);
        Assert.Empty(assembler.Append("hel"u8));
        var lines = assembler.Append("lo\nwor"u8);
        Assert.Equal(["hello"], lines.Select(l => l.Text));
        Assert.Equal(["world", "again"], assembler.Append("ld\nagain\n"u8).Select(l => l.Text));
        Assert.Null(assembler.Flush());
    }

    [Fact]
    public void AMultiByteCharacterSplitBetweenFramesSurvives()
    {
        var bytes = Encoding.UTF8.GetBytes("é→📓\n");
        var assembler = new LogLineAssembler(LogStream.Stderr, timestamps: false);
        var lines = new List<LogLine>();
        foreach (var b in bytes) lines.AddRange(assembler.Append([b])); // one byte per frame
        Assert.Equal("é→📓", Assert.Single(lines).Text);
        Assert.Equal(LogStream.Stderr, lines[0].Stream);
    }

    [Fact]
    public void LastLineWithoutNewlineIsFlushedAndCarriageReturnsDropped()
    {
        var assembler = new LogLineAssembler(LogStream.Stdout, timestamps: false);
        Assert.Equal("windows", Assert.Single(assembler.Append("windows\r\npartial"u8)).Text);
        Assert.Equal("partial", assembler.Flush()!.Text);
    }

    [Fact]
    public void EngineTimestampsAreParsedOffTheLine()
    {
        var assembler = new LogLineAssembler(LogStream.Stdout, timestamps: true);
        var line = Assert.Single(assembler.Append("2026-11-23T00:51:33.619300512Z hello: listening on port 8080\n"u8));
        Assert.Equal("hello: listening on port 8080", line.Text);
        Assert.Equal(new DateTime(2026, 11, 23, 0, 51, 33, DateTimeKind.Utc), line.Timestamp!.Value.AddTicks(-(line.Timestamp.Value.Ticks % TimeSpan.TicksPerSecond)));
        Assert.Equal(DateTimeKind.Utc, line.Timestamp.Value.Kind);
    }

    [Fact]
    public void ALongLineLargerThanTheBufferStaysWhole()
    {
        var assembler = new LogLineAssembler(LogStream.Stdout, timestamps: false);
        var text = new string('x', LogLineAssembler.MaxLineLength);
        Assert.Equal(text, Assert.Single(InPieces(assembler, text + "\n")).Text);
    }

    /// <summary>
    /// Output that never ends its line (a progress bar redrawn with '\r' for hours) goes on as lines of the longest
    /// length kept whole: not one line growing without end in every reader's memory. Nothing of it is dropped, and no
    /// character is cut in two.
    /// </summary>
    [Fact]
    public void AnEndlessLineGoesOnAsLinesOfTheLongestLengthNothingDropped()
    {
        var assembler = new LogLineAssembler(LogStream.Stdout, timestamps: false);
        var text = string.Concat(Enumerable.Repeat("\r 42% |████▌     | \U0001F680", 20_000)); // 500,000 characters, emoji among them
        var lines = InPieces(assembler, text);
        lines.Add(assembler.Flush()!);
        Assert.All(lines, line => Assert.True(line.Text.Length <= LogLineAssembler.MaxLineLength));
        Assert.True(lines.Count >= text.Length / LogLineAssembler.MaxLineLength);
        Assert.Equal(text, string.Concat(lines.Select(l => l.Text)));
        Assert.DoesNotContain(lines, line => char.IsHighSurrogate(line.Text[^1]));
    }

    /// <summary>
    /// The engine writes one timestamp per line: the later pieces of a line cut at the longest length are not read as
    /// starting with one (a piece that happens to begin with a date keeps it in its text) and carry the line's time.
    /// The next line is read afresh.
    /// </summary>
    [Fact]
    public void ThePiecesOfACutLineKeepTheirTextAndTheLinesTime()
    {
        var assembler = new LogLineAssembler(LogStream.Stdout, timestamps: true);
        const string prefix = "2026-11-23T00:51:33Z ";
        var first = new string('x', LogLineAssembler.MaxLineLength - prefix.Length);
        const string second = "2024-01-01 is where the second piece starts";
        var lines = InPieces(assembler, prefix + first + second + "\n" + "2026-11-23T00:51:34Z next\n");
        Assert.Equal(3, lines.Count);
        Assert.Equal(first, lines[0].Text);
        Assert.Equal(second, lines[1].Text);
        Assert.Equal(new DateTime(2026, 11, 23, 0, 51, 33, DateTimeKind.Utc), lines[1].Timestamp);
        Assert.Equal("next", lines[2].Text);
        Assert.Equal(new DateTime(2026, 11, 23, 0, 51, 34, DateTimeKind.Utc), lines[2].Timestamp);
    }

    private static List<LogLine> InPieces(LogLineAssembler assembler, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var lines = new List<LogLine>();
        for (var i = 0; i < bytes.Length; i += 4096) lines.AddRange(assembler.Append(bytes.AsSpan(i, Math.Min(4096, bytes.Length - i))));
        return lines;
    }
}
