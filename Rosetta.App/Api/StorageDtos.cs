using Rosetta.Core.Domain;
using Rosetta.Core.Storages;

namespace Rosetta.App.Api;

/// <summary>
/// A storage as the API shows it. <c>basePath</c> is the template (with $USER), as configured; <c>owner</c> the
/// owner's user id (null for a platform-wide one), so an admin, who sees everyone's, can tell whose it is.
/// </summary>
public sealed record StorageDto(
    string Id, string Name, string Kind, string Computing, string BasePath, string BindPath, bool ReadOnly, bool Browsable, bool PlatformWide,
    bool Bound, string? Owner)
{
    public static StorageDto From(Storage s) => new(s.Id, s.Name, s.Kind.ToString().ToLowerInvariant(), s.ComputingId, s.BasePath,
        s.BindPath, s.ReadOnly, s.Browsable, s.OwnerId is null, s.Bound, s.OwnerId);
}

/// <summary>One folder's content. Entries: <c>name</c>, <c>path</c> (relative to the storage's root), <c>kind</c> (file, folder, link), <c>size</c> (files), <c>modified</c>.</summary>
public sealed record FolderDto(string Storage, string Path, bool ReadOnly, IReadOnlyList<StorageEntry> Entries);

/// <summary>Bytes in the storage's files and its quota; both null where no quota applies.</summary>
public sealed record StorageUsageDto(long? UsedBytes, long? QuotaBytes);

/// <summary>A file stored by an upload.</summary>
public sealed record UploadedDto(string Path, long Size);

/// <summary><c>{"path"}</c>: the folder to create (missing parents are created too).</summary>
public sealed record FolderBody(string? Path);

/// <summary><c>{"from","to"}</c>: paths relative to the storage's root.</summary>
public sealed record FromToBody(string? From, string? To);
