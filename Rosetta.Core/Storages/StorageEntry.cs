namespace Rosetta.Core.Storages;

/// <summary>One item of a folder listing. <see cref="Kind"/>: <c>file</c>, <c>folder</c> or <c>link</c> (a symbolic link, never followed in listings).</summary>
public sealed record StorageEntry(string Name, string Path, string Kind, long? Size, DateTime Modified);

/// <summary>How a listing is ordered; folders always come first.</summary>
public enum StorageSort
{
    Name,
    Size,
    Modified,
}
