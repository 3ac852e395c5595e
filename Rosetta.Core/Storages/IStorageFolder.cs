namespace Rosetta.Core.Storages;

/// <summary>
/// A storage's files, wherever they are (<see cref="ConfinedDirectory"/> on the platform host,
/// <see cref="SftpFolder"/> on an SSH resource). Paths arrive validated; each implementation keeps
/// them inside its root against links.
/// </summary>
public interface IStorageFolder
{
    /// <summary>Where the storage's files are (on the platform host or on the remote host).</summary>
    string Root { get; }
    /// <summary>
    /// The folder's entries, hidden transfers left out. <paramref name="removeAbandonedTransfers"/>
    /// also removes those a stopped platform left behind (<see cref="ConfinedDirectory.AbandonedAfter"/>).
    /// </summary>
    IReadOnlyList<StorageEntry> List(StoragePath path, StorageSort sort, bool descending, bool removeAbandonedTransfers);
    void CreateFolder(StoragePath path, bool existingIsFine = false);
    void Move(StoragePath from, StoragePath to);
    /// <param name="hold">
    /// Given the copy's size once it is measured, holds that much of the quota until the copy is in place (or throws when
    /// it does not fit): copies side by side cannot together pass the quota. Null: none is held.
    /// </param>
    void Copy(StoragePath from, StoragePath to, long? allowedBytes, Func<long, Exception> tooLarge, Func<long, IDisposable?>? hold = null);
    void Delete(StoragePath path);
    /// <summary>
    /// Writes to a temporary name and renames it over the target once complete. Just before, <paramref name="beforeReplacing"/>
    /// is given the bytes written and those of the file about to be replaced (0 for none), and may refuse with an exception.
    /// </summary>
    Task<long> WriteAsync(StoragePath path, Stream content, long limit, Func<long, Exception> tooLarge, CancellationToken ct,
        Func<long, long, Exception?>? beforeReplacing = null);
    /// <summary>Whether <paramref name="path"/> (which must exist) is a folder.</summary>
    bool IsFolder(StoragePath path);
    /// <summary>Opens a file for reading at any position (ranged downloads).</summary>
    Stream OpenRead(StoragePath path);
    /// <summary>
    /// Writes a whole file, the fastest way the storage has, to the stream <paramref name="start"/>
    /// returns when given the file's length (SFTP keeps many reads in flight, where a stream reads one
    /// block per round trip).
    /// </summary>
    Task DownloadAsync(StoragePath path, Func<long, Stream> start, CancellationToken ct);
    /// <summary>Streams a folder as a zip archive (links skipped).</summary>
    Task WriteZipAsync(StoragePath path, Stream output, CancellationToken ct);
    /// <summary>Bytes stored, for the quota; null where no quota applies.</summary>
    long? Usage();
    /// <summary>For the quota: the bytes of the file an upload to <paramref name="path"/> would replace (0 for none, or where no quota applies).</summary>
    long ReplacedBytes(StoragePath path);
}
