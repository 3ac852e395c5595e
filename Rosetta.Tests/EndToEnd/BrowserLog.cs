using Microsoft.Playwright;

namespace Rosetta.Tests.EndToEnd;

/// <summary>
/// What the browser saw on the way, for every page a test watches (console, failed loads, failed
/// requests, WebSockets), each line named after its page: a failure message then tells the owner's
/// page from a guest's, and a test can ask whether a given page saw something (a load aborted by a
/// network change) without another page's line answering for it.
/// </summary>
internal sealed class BrowserLog
{
    private readonly List<string> _lines = [];

    public void Watch(IPage page, string who)
    {
        page.Console += (_, m) => Add($"[{who}] console {m.Type}: {m.Text}");
        page.FrameNavigated += (_, frame) => { if (frame.ParentFrame is null) Add($"[{who}] navigated to {frame.Url}"); };
        page.Load += (_, _) => Add($"[{who}] loaded");
        page.Response += (_, r) => { if (r.Status >= 400) Add($"[{who}] HTTP {r.Status} {r.Url}"); };
        page.RequestFailed += (_, r) => Add($"[{who}] request failed {r.Failure} {r.Url}");
        page.WebSocket += (_, ws) =>
        {
            Add($"[{who}] websocket open {ws.Url}");
            ws.SocketError += (_, error) => Add($"[{who}] websocket error {error} {ws.Url}");
            ws.Close += (_, _) => Add($"[{who}] websocket closed {ws.Url}");
        };
    }

    public void Add(string line)
    {
        lock (_lines) _lines.Add(line);
    }

    /// <summary>Whether a line of <paramref name="who"/>'s page, or any line when null, contains the text.</summary>
    public bool Saw(string text, string? who = null)
    {
        var prefix = who is null ? "" : $"[{who}] ";
        lock (_lines) return _lines.Any(line => line.StartsWith(prefix, StringComparison.Ordinal) && line.Contains(text, StringComparison.Ordinal));
    }

    /// <summary>How many lines there are so far: a mark for <see cref="SawSince"/>.</summary>
    public int Count
    {
        get { lock (_lines) return _lines.Count; }
    }

    /// <summary>Whether a line of <paramref name="who"/>'s page added after the mark <paramref name="since"/> contains the text.</summary>
    public bool SawSince(int since, string text, string who)
    {
        lock (_lines) return _lines.Skip(since).Any(line => line.StartsWith($"[{who}] ", StringComparison.Ordinal) && line.Contains(text, StringComparison.Ordinal));
    }

    public override string ToString()
    {
        lock (_lines) return string.Join("\n", _lines);
    }
}
