using System.Globalization;
using System.Text.RegularExpressions;

namespace Rosetta.Core.Validation;

/// <summary>Parsers for the quantities users type: memory sizes and wall-clock limits.</summary>
public static partial class ResourceQuantities
{
    /// <summary>
    /// Parses <c>512M</c>, <c>2G</c>, <c>1.5g</c>, <c>2GiB</c>, <c>1024k</c> or a plain byte count.
    /// Units are binary (1G = 1024³ bytes), as Docker and Slurm read them.
    /// </summary>
    public static bool TryParseMemory(string? text, out long bytes)
    {
        bytes = 0;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var match = MemoryPattern().Match(text.Trim());
        if (!match.Success) return false;
        if (!double.TryParse(match.Groups["n"].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number)) return false;
        var unit = match.Groups["u"].Value.ToUpperInvariant();
        double multiplier = unit switch
        {
            "" or "B" => 1,
            "K" => 1L << 10,
            "M" => 1L << 20,
            "G" => 1L << 30,
            "T" => 1L << 40,
            _ => 0,
        };
        var value = number * multiplier;
        if (multiplier == 0 || value > long.MaxValue / 2) return false;
        bytes = (long)value;
        return true;
    }

    /// <summary>Written as a memory size, whether or not the amount fits (what a refusal then says).</summary>
    public static bool IsMemoryNotation(string text) => MemoryPattern().IsMatch(text.Trim());

    // [0-9], not \d (which takes any script's digits), and \z, not $ (which lets a final newline through).
    [GeneratedRegex(@"^(?<n>[0-9]{1,15}(\.[0-9]{1,6})?)\s*(?<u>[kKmMgGtTbB]?)(i?[bB])?\z")]
    private static partial Regex MemoryPattern();

    /// <summary>Parses <c>HH:MM:SS</c>, <c>MM:SS</c>... as Slurm does; also <c>D-HH:MM:SS</c>.</summary>
    public static bool TryParseWalltime(string? text, out TimeSpan walltime)
    {
        walltime = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var match = WalltimePattern().Match(text); // as given: the same text goes to sbatch
        if (!match.Success) return false;
        int days = match.Groups["d"].Success ? int.Parse(match.Groups["d"].Value, CultureInfo.InvariantCulture) : 0;
        int hours = int.Parse(match.Groups["h"].Value, CultureInfo.InvariantCulture);
        int minutes = int.Parse(match.Groups["m"].Value, CultureInfo.InvariantCulture);
        int seconds = int.Parse(match.Groups["s"].Value, CultureInfo.InvariantCulture);
        if (minutes > 59 || seconds > 59 || (match.Groups["d"].Success && hours > 23)) return false;
        walltime = new TimeSpan(days, hours, minutes, seconds);
        return walltime > TimeSpan.Zero;
    }

    /// <summary>
    /// Why a limit written in the right notation is still refused (zero, a minute of 75); null when the
    /// notation itself is wrong or the limit is fine.
    /// </summary>
    public static string? WalltimeProblem(string text)
    {
        var match = WalltimePattern().Match(text);
        if (!match.Success || TryParseWalltime(text, out _)) return null;
        int Part(string name) => int.Parse(match.Groups[name].Value, CultureInfo.InvariantCulture);
        if (Part("m") > 59 || Part("s") > 59) return "has minutes or seconds over 59; write e.g. 01:30:00 for 90 minutes.";
        if (match.Groups["d"].Success && Part("h") > 23) return "has more than 23 hours after the day; write e.g. 2-01:00:00.";
        return "is zero: give the longest time the task may run, e.g. 02:00:00.";
    }

    [GeneratedRegex(@"^((?<d>[0-9]{1,3})-)?(?<h>[0-9]{1,4}):(?<m>[0-9]{2}):(?<s>[0-9]{2})\z")]
    private static partial Regex WalltimePattern();

    public static string FormatBytes(long bytes) => bytes switch
    {
        >= 1L << 40 => $"{bytes / (double)(1L << 40):0.##} TiB",
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.##} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.##} MiB",
        >= 1L << 10 => $"{bytes / (double)(1L << 10):0.##} KiB",
        _ => $"{bytes} B",
    };
}
