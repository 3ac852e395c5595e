namespace Rosetta.Core.Storages;

/// <summary>A write to a read-only storage; the API answers 403 with the message.</summary>
public sealed class ReadOnlyStorageException(string storageName)
    : Exception($"The storage '{storageName}' is read-only: files can be browsed and downloaded, not changed.");

/// <summary>An upload over the size limit or the quota; the API answers 413 with the message.</summary>
public sealed class StorageLimitException(string message) : Exception(message)
{
    /// <summary>The host's file system (not the storage's quota) has no room, or no inodes left: said as such, not a 500.</summary>
    public static StorageLimitException HostDiskFull() =>
        new("The platform host's disk that holds this storage is full (no room, or no file entries left): what could not be written was not kept. Delete files to make room, or tell an admin.");
}

/// <summary>The path names nothing in the storage; the API answers 404 with the message.</summary>
public sealed class StorageEntryNotFoundException(string message) : Exception(message);

/// <summary>
/// The caller may not do this: the host refused a file operation (permissions there), or the storage
/// is not theirs to change. The API answers 403 with the message.
/// </summary>
public sealed class StorageAccessDeniedException(string message) : Exception(message);
