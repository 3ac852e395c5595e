namespace Rosetta.Core.Storages;

/// <summary>
/// A storage's files, wherever they are (<see cref="ConfinedDirectory"/> on the platform host,
/// <see cref="SftpFolder"/> on an SSH resource). Paths arrive validated; each implementation keeps
/// them inside its root against links.
/// </summary>
public interface IStorageFolder
{
    IReadOnlyList<StorageEntry> List(StoragePath path, StorageSort sort, bool descending);
    void CreateFolder(StoragePath path, bool existingIsFine = false);
    void Move(StoragePath from, StoragePath to);
    void Copy(StoragePath from, StoragePath to, long? allowedBytes, Func<long, Exception> tooLarge);
    void Delete(StoragePath path);
    /// <summary>Writes to a temporary name and renames it over the target once complete.</summary>
    Task<long> WriteAsync(StoragePath path, Stream content, long limit, Func<long, Exception> tooLarge, CancellationToken ct);
    /// <summary>Whether <paramref name="path"/> (which must exist) is a folder.</summary>
    bool IsFolder(StoragePath path);
    Stream OpenRead(StoragePath path);
    /// <summary>Streams a folder as a zip archive (links skipped).</summary>
    Task WriteZipAsync(StoragePath path, Stream output, CancellationToken ct);
    /// <summary>Bytes stored, for the quota; null where no quota applies.</summary>
    long? Usage();
}
