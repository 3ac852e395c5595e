namespace Rosetta.Core.Storages;

/// <summary>A write to a read-only storage; the API answers 403 with the message.</summary>
public sealed class ReadOnlyStorageException(string storageName)
    : Exception($"The storage '{storageName}' is read-only: files can be browsed and downloaded, not changed.");

/// <summary>An upload over the size limit or the quota; the API answers 413 with the message.</summary>
public sealed class StorageLimitException(string message) : Exception(message);

/// <summary>The path names nothing in the storage; the API answers 404 with the message.</summary>
public sealed class StorageEntryNotFoundException(string message) : Exception(message);

/// <summary>
/// The caller may not do this: the host refused a file operation (permissions there), or the storage
/// is not theirs to change. The API answers 403 with the message.
/// </summary>
public sealed class StorageAccessDeniedException(string message) : Exception(message);
