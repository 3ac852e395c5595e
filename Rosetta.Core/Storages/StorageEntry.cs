namespace Rosetta.Core.Storages;

/// <summary>
/// One item of a folder listing. <see cref="Kind"/>: <c>file</c>, <c>folder</c>, <c>link</c> (a symbolic
/// link, never followed in listings) or <c>invalid-name</c> (<see cref="UnnameableKind"/>).
/// </summary>
public sealed record StorageEntry(string Name, string Path, string Kind, long? Size, DateTime Modified)
{
    /// <summary>
    /// An entry whose name is not UTF-8 (shown with U+FFFD for its odd bytes), which the platform cannot
    /// name to act on: it is listed, deleted with its folder, and renamed from inside a task or on the host.
    /// </summary>
    public const string UnnameableKind = "invalid-name";

    /// <summary>A listing in the order asked for, folders first (the sort is stable, so each group keeps that order).</summary>
    public static IReadOnlyList<StorageEntry> Order(IEnumerable<StorageEntry> entries, StorageSort sort, bool descending)
    {
        IEnumerable<StorageEntry> ordered = sort switch
        {
            StorageSort.Size => descending ? entries.OrderByDescending(e => e.Size ?? 0) : entries.OrderBy(e => e.Size ?? 0),
            StorageSort.Modified => descending ? entries.OrderByDescending(e => e.Modified) : entries.OrderBy(e => e.Modified),
            _ => descending ? entries.OrderByDescending(e => e.Name, StringComparer.Ordinal) : entries.OrderBy(e => e.Name, StringComparer.Ordinal),
        };
        return ordered.OrderBy(e => e.Kind == "folder" ? 0 : 1).ToList();
    }
}

/// <summary>How a listing is ordered; folders always come first.</summary>
public enum StorageSort
{
    Name,
    Size,
    Modified,
}
