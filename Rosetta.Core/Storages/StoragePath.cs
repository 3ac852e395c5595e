using System.Text;
using Rosetta.Core.Domain;
using Rosetta.Core.Validation;

namespace Rosetta.Core.Storages;

/// <summary>
/// A path inside a storage, relative to its root, as validated segments. Every path a client sends
/// goes through <see cref="Parse"/> before any file system call, so nothing it names can climb out
/// of the storage by its spelling: no <c>..</c> or <c>.</c>, no leading <c>/</c>, no backslash, no
/// NUL or control characters, no empty or over-long segments. (Symbolic links are the file
/// system's part; <see cref="ConfinedDirectory"/> resolves them.)
/// </summary>
public sealed class StoragePath : IEquatable<StoragePath>
{
    /// <summary>Linux's NAME_MAX: the longest file name, in UTF-8 bytes.</summary>
    public const int MaxNameBytes = 255;
    /// <summary>Linux's PATH_MAX, for the whole relative path.</summary>
    public const int MaxPathLength = 4096;
    /// <summary>The most levels of folders a path may have: as deep as the platform deletes, copies and archives.</summary>
    public const int MaxDepth = AnchoredFiles.AnchoredFolder.MaxDepth;

    private StoragePath(IReadOnlyList<string> segments) => Segments = segments;

    public static StoragePath Root { get; } = new([]);

    public IReadOnlyList<string> Segments { get; }
    public bool IsRoot => Segments.Count == 0;
    /// <summary>The last segment; empty for the root.</summary>
    public string Name => IsRoot ? "" : Segments[^1];
    public StoragePath Parent => IsRoot ? this : new StoragePath(Segments.Take(Segments.Count - 1).ToArray());

    public StoragePath Child(string name, string field = "name")
    {
        CheckName(name, field);
        return new StoragePath([.. Segments, name]);
    }

    /// <summary>Refuses a copy whose target cannot be made: the root, the source itself, or a place inside the folder being copied.</summary>
    public static void EnsureCopyable(StoragePath from, StoragePath to)
    {
        if (to.IsRoot) throw ValidationException.For("to", "is the storage's root, which exists already.");
        if (from.Equals(to)) throw new ConflictException($"'{to}' exists already: a copy needs another name.");
        if (from.Contains(to)) throw ValidationException.For("to", $"is inside '{from}', which is being copied.");
    }

    /// <summary>Refuses a move that cannot be made: the root either way, onto itself, or into the folder being moved.</summary>
    public static void EnsureMovable(StoragePath from, StoragePath to)
    {
        if (from.IsRoot) throw ValidationException.For("from", "The storage's root cannot be moved.");
        if (to.IsRoot) throw ValidationException.For("to", "is the storage's root, which exists already.");
        if (from.Equals(to)) throw ValidationException.For("to", "is where it is already: give a new name or another folder.");
        if (from.Contains(to)) throw ValidationException.For("to", $"is inside '{from}', which is being moved.");
    }

    /// <summary>True when <paramref name="other"/> is this path or lies below it.</summary>
    public bool Contains(StoragePath other) =>
        other.Segments.Count >= Segments.Count && Segments.SequenceEqual(other.Segments.Take(Segments.Count), StringComparer.Ordinal);

    /// <summary>The form clients send and receive: segments joined by '/', empty for the root.</summary>
    public override string ToString() => string.Join('/', Segments);

    /// <summary>
    /// Parses a client's path (already URL-decoded once by the framework: <c>%2e%2e%2f</c> arrives
    /// as <c>../</c> and is refused here; a double-encoded one is just an odd but harmless name).
    /// Null, empty and a lone trailing '/' are allowed; everything else hostile is a 400 on <paramref name="field"/>.
    /// </summary>
    public static StoragePath Parse(string? text, string field = "path")
    {
        if (string.IsNullOrEmpty(text)) return Root;
        if (text.Length > MaxPathLength) throw Invalid(field, $"is longer than {MaxPathLength} characters.");
        // A drive ("C:", "C:/…"), not a name that starts with a letter and ':' ("t:1.log", as a task may write one).
        if (text[0] is '/' or '\\' || (text.Length >= 2 && text[1] == ':' && char.IsAsciiLetter(text[0]) && (text.Length == 2 || text[2] is '/' or '\\')))
            throw Invalid(field, "must be relative to the storage's root, e.g. 'results/run1.txt' (no leading '/' and no drive letter such as 'C:'; empty for the root).");
        if (text.EndsWith('/')) text = text[..^1];
        var segments = text.Split('/');
        // Deeper trees could be made, but never deleted, copied or archived here (AnchoredFolder.MaxDepth).
        if (segments.Length > MaxDepth) throw Invalid(field, $"has more than {MaxDepth} levels of folders; the platform handles trees up to that depth.");
        foreach (var segment in segments)
        {
            if (segment.Length == 0) throw Invalid(field, "has an empty segment ('//'); separate folders with a single '/'.");
            CheckSegment(segment, field);
        }
        return new StoragePath(segments);
    }

    /// <summary>
    /// Refuses a path that would pass the system's PATH_MAX below <paramref name="root"/>: the limit
    /// counts the whole path in bytes, the storage's own folder included.
    /// </summary>
    public void EnsureFitsUnder(string root, string field = "path")
    {
        if (Encoding.UTF8.GetByteCount(root) + 1 + Encoding.UTF8.GetByteCount(ToString()) < MaxPathLength) return;
        var text = ToString();
        var shown = text.Length > 80 ? $"{text[..40]}…{text[^30..]}" : text;
        throw Invalid(field, $"'{shown}' is too long: with the storage's own folder it passes the system's limit of {MaxPathLength} bytes. Use shorter names or fewer folders.");
    }

    /// <summary>A single file or folder name (an uploaded file's name, a new folder): the segment rules, and no '/'.</summary>
    public static void CheckName(string? name, string field = "name")
    {
        if (string.IsNullOrEmpty(name)) throw Invalid(field, "is required.");
        if (name.Contains('/')) throw Invalid(field, "A name cannot contain '/': it names one file or folder, not a path.");
        CheckSegment(name, field);
    }

    private static void CheckSegment(string segment, string field)
    {
        if (segment is "." or "..")
            throw Invalid(field, "cannot contain '.' or '..' segments: paths stay inside the storage.");
        // Uploads in progress are written under such names, hidden from listings and from the quota.
        if (segment.StartsWith(ConfinedDirectory.UploadPrefix, StringComparison.Ordinal))
            throw Invalid(field, $"A name cannot start with '{ConfinedDirectory.UploadPrefix}': the platform keeps such names for uploads in progress.");
        foreach (var c in segment)
        {
            if (c == '\0') throw Invalid(field, "contains a NUL character.");
            if (char.IsControl(c)) throw Invalid(field, $"contains a control character (U+{(int)c:X4}).");
            if (c == '\\') throw Invalid(field, "contains '\\'; separate folders with '/'.");
        }
        // A lone surrogate cannot become a file name (it would silently turn into U+FFFD).
        if (!TextRules.IsWellFormed(segment))
            throw Invalid(field, "is not valid Unicode text.");
        if (Encoding.UTF8.GetByteCount(segment) > MaxNameBytes) throw Invalid(field, $"A file or folder name can be at most {MaxNameBytes} bytes long (in UTF-8); this one has {Encoding.UTF8.GetByteCount(segment)}.");
    }

    /// <summary>
    /// For names the platform makes (an upload, a new folder, a move's or a copy's target): no text-direction overrides,
    /// as display names have none. "evil" + U+202E + "txt.exe" lists as "evilexe.txt" to everyone sharing the storage.
    /// Names already there (a task's) are not refused by <see cref="Parse"/>: they stay reachable, to be renamed.
    /// </summary>
    public void EnsureNoDirectionOverrides(string field)
    {
        if (Segments.Any(segment => segment.Any(TextRules.IsDirectionOverride)))
            throw Invalid(field, "A new name must not contain text-direction overrides (U+202A–U+202E, U+2066–U+2069): they make a name read as another, and what follows it in a list too.");
    }

    private static ValidationException Invalid(string field, string message) => ValidationException.For(field, message);

    public bool Equals(StoragePath? other) => other is not null && Segments.SequenceEqual(other.Segments, StringComparer.Ordinal);
    public override bool Equals(object? obj) => Equals(obj as StoragePath);
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(ToString());
}
