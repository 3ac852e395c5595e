using System.Text.RegularExpressions;

namespace Rosetta.Core.Validation;

/// <summary>Checks shared by every form and API call that takes names and identifiers.</summary>
public static partial class TextRules
{
    public const int MaxDisplayNameLength = 100;

    /// <summary>
    /// Display names may use any alphabet (they never reach a shell or an engine), but are
    /// bounded and free of control characters so lists and logs stay readable.
    /// </summary>
    public static void DisplayName(ValidationErrors errors, string field, string? value, bool required = true)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            if (required) errors.Add(field, "is required.");
            return;
        }
        if (value.Length > MaxDisplayNameLength)
            errors.Add(field, $"is {value.Length} characters long; use at most {MaxDisplayNameLength}.");
        if (value.Any(char.IsControl))
            errors.Add(field, "must not contain control characters such as tabs or line breaks.");
        if (value.Any(IsDirectionOverride))
            errors.Add(field, "must not contain text-direction overrides (U+202A–U+202E, U+2066–U+2069): they make a name read as another, and what follows it in a list too.");
        if (!IsWellFormed(value)) errors.Add(field, BrokenCharacter);
    }

    /// <summary>
    /// Bidirectional embeddings, overrides and isolates: a right-to-left override shows "evil‮txt.exe" as "evilexe.txt".
    /// The marks (U+200E, U+200F) that right-to-left scripts need in mixed text stay allowed.
    /// </summary>
    public static bool IsDirectionOverride(char c) => c is >= '\u202A' and <= '\u202E' or >= '\u2066' and <= '\u2069';

    public const string BrokenCharacter = "holds half of a character (a lone UTF-16 surrogate, as a bad copy and paste leaves): type it again.";

    /// <summary>
    /// False for text that holds half of a surrogate pair: no database, file system or terminal keeps it as typed
    /// (it would be stored as '�', or refused further on), so it is refused where it is typed.
    /// </summary>
    public static bool IsWellFormed(string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            if (!char.IsSurrogate(value[i])) continue;
            if (!char.IsSurrogatePair(value, i)) return false;
            i++; // the pair's low half
        }
        return true;
    }

    /// <summary>Identifiers appear in URLs: lower-case letters, digits and dashes, 2–40 long.</summary>
    public static void Slug(ValidationErrors errors, string field, string? value)
    {
        if (string.IsNullOrEmpty(value)) { errors.Add(field, "is required."); return; }
        if (!SlugPattern().IsMatch(value))
            errors.Add(field, "must be 2 to 40 characters: lower-case letters, digits and dashes, starting with a letter.");
    }

    [GeneratedRegex("^[a-z][a-z0-9-]{1,39}\\z")]
    private static partial Regex SlugPattern();

    /// <summary>POSIX-portable environment variable names, as engines and shells accept them.</summary>
    public static bool IsEnvName(string name) => EnvNamePattern().IsMatch(name);

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,255}\\z")]
    private static partial Regex EnvNamePattern();

    /// <summary>
    /// The longest value, in UTF-8 bytes: docker and podman read an env file (how remote tasks get their environment)
    /// line by line with a 64 KiB limit, and a value of 32 Ki characters may be three times as many bytes.
    /// </summary>
    public const int MaxEnvValueBytes = 32 * 1024;

    /// <summary>
    /// The most of all values together, in UTF-8 bytes: a software entry's environment is read with the catalogue on
    /// every page that lists tasks, and a task's is kept in memory while the platform runs.
    /// </summary>
    public const int MaxEnvTotalBytes = 256 * 1024;

    /// <summary>Checks an environment map; engines reject NUL bytes and '=' in names.</summary>
    public static void Environment(ValidationErrors errors, string field, IReadOnlyDictionary<string, string>? env, ISet<string>? reserved = null)
    {
        if (env is null) return;
        if (env.Count > 200) errors.Add(field, $"has {env.Count} variables; at most 200 are allowed.");
        var total = env.Sum(e => (long)System.Text.Encoding.UTF8.GetByteCount(e.Key) + (e.Value is null ? 0 : System.Text.Encoding.UTF8.GetByteCount(e.Value)));
        if (total > MaxEnvTotalBytes) errors.Add(field, $"holds {total} bytes in all (names and values, in UTF-8); at most {MaxEnvTotalBytes} are allowed.");
        foreach (var (name, value) in env)
        {
            if (!IsEnvName(name))
                errors.Add($"{field}.{Printable(name)}", "is not a valid variable name: use letters, digits and '_', not starting with a digit (at most 256 characters).");
            else if (reserved is not null && reserved.Contains(name))
                errors.Add($"{field}.{name}", "is set by the platform for this software and cannot be overridden.");
            if (value is null)
                errors.Add($"{field}.{Printable(name)}", "must be a string.");
            else if (value.Contains('\0'))
                errors.Add($"{field}.{Printable(name)}", "must not contain NUL characters.");
            else if (!IsWellFormed(value))
                errors.Add($"{field}.{Printable(name)}", BrokenCharacter);
            else if (System.Text.Encoding.UTF8.GetByteCount(value) is var bytes && bytes > MaxEnvValueBytes)
                errors.Add($"{field}.{Printable(name)}", $"is {bytes} bytes long in UTF-8; use at most {MaxEnvValueBytes}.");
        }
    }

    /// <summary>A field name safe to echo back in an error message.</summary>
    private static string Printable(string name)
    {
        var clean = new string(name.Select(c => char.IsControl(c) ? '?' : c).Take(64).ToArray());
        return clean.Length == 0 ? "(empty)" : clean;
    }
}
