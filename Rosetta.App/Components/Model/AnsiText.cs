namespace Rosetta.App.Components.Model;

/// <summary>One run of text with the same ANSI style.</summary>
public readonly record struct AnsiSegment(string Text, string? CssClass);

/// <summary>
/// Splits a log line at ANSI SGR escape sequences (ESC [ … m) into styled segments. Only colours
/// and bold are kept; every other escape sequence is dropped so it never shows as garbage.
/// Output is text plus a CSS class: nothing from the log is ever rendered as markup.
/// </summary>
public static class AnsiText
{
    public static IReadOnlyList<AnsiSegment> Parse(string line)
    {
        if (line.IndexOf('\u001b') < 0) return [new AnsiSegment(line, null)];
        var segments = new List<AnsiSegment>();
        int? foreground = null;
        var bold = false;
        var start = 0;
        var i = 0;
        while (i < line.Length)
        {
            if (line[i] != '\u001b') { i++; continue; }
            if (i > start) segments.Add(new AnsiSegment(line[start..i], ClassOf(foreground, bold)));
            var end = SequenceEnd(line, i);
            if (end > i + 1 && line[i + 1] == '[' && line[end - 1] == 'm')
            {
                foreach (var part in line[(i + 2)..(end - 1)].Split(';'))
                {
                    var code = part.Length == 0 ? 0 : int.TryParse(part, out var c) ? c : -1;
                    switch (code)
                    {
                        case 0: foreground = null; bold = false; break;
                        case 1: bold = true; break;
                        case 22: bold = false; break;
                        case 39: foreground = null; break;
                        case >= 30 and <= 37: foreground = code - 30; break;
                        case >= 90 and <= 97: foreground = code - 90 + 8; break;
                    }
                }
            }
            i = start = end;
        }
        if (start < line.Length) segments.Add(new AnsiSegment(line[start..], ClassOf(foreground, bold)));
        return segments;
    }

    private static int SequenceEnd(string line, int escape)
    {
        if (escape + 1 >= line.Length) return line.Length;
        if (line[escape + 1] != '[') return Math.Min(escape + 2, line.Length);
        var j = escape + 2;
        while (j < line.Length && line[j] is >= '0' and <= '?') j++; // parameter bytes
        while (j < line.Length && line[j] is >= ' ' and <= '/') j++; // intermediate bytes
        return Math.Min(j + 1, line.Length); // final byte
    }

    private static string? ClassOf(int? foreground, bool bold) => (foreground, bold) switch
    {
        (null, false) => null,
        (null, true) => "ansi-bold",
        ({ } f, false) => $"ansi-fg-{f}",
        ({ } f, true) => $"ansi-fg-{f} ansi-bold",
    };
}
