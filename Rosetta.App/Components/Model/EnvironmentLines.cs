namespace Rosetta.App.Components.Model;

/// <summary>
/// A software's fixed environment as its form shows it: one <c>NAME=value</c> per line, the way
/// <c>docker run --env-file</c> reads them: the value is everything after the first '=', spaces included,
/// and a line starting with '#' is a comment.
/// </summary>
public static class EnvironmentLines
{
    /// <summary>The variables as lines; null when a value spans lines, which lines cannot show (the API can set such a value).</summary>
    public static string? Format(IReadOnlyDictionary<string, string> env) =>
        env.Values.Any(v => v.Contains('\n') || v.Contains('\r')) ? null : string.Join('\n', env.Select(kv => $"{kv.Key}={kv.Value}"));

    /// <summary>
    /// The lines as variables, blank lines and comments skipped. <paramref name="problem"/> names the first line that is
    /// not <c>NAME=value</c> or sets a variable again; whether a name is a valid one is the catalogue's check.
    /// </summary>
    public static Dictionary<string, string> Parse(string? text, out string? problem)
    {
        problem = null;
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        var lines = (text ?? "").Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            if (string.IsNullOrWhiteSpace(line) || line.TrimStart().StartsWith('#')) continue;
            var equals = line.IndexOf('=');
            var name = equals < 0 ? "" : line[..equals].Trim();
            if (name.Length == 0)
            {
                problem = $"Line {i + 1} is not NAME=value: write one variable per line, such as OMP_NUM_THREADS=4.";
                return env;
            }
            if (!env.TryAdd(name, line[(equals + 1)..]))
            {
                problem = $"Line {i + 1} sets {name} again; each variable once.";
                return env;
            }
        }
        return env;
    }
}
