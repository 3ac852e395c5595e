namespace Rosetta.Core.Domain;

/// <summary>
/// A place where a user's files live, shown in the file manager and bound into the tasks of one
/// computing resource. <see cref="BasePath"/> may hold <c>$USER</c> (the platform user) and
/// <c>$SSH_USER</c> (the login on the computing resource), substituted per user.
/// </summary>
public sealed class Storage
{
    public required string Id { get; set; }
    public required string Name { get; set; }
    public StorageKind Kind { get; set; }
    /// <summary>
    /// The computing resource whose tasks get this storage bound: for <c>local</c> storages the
    /// platform host's engine (<c>local</c>), for <c>sftp</c> storages the SSH host the files live on.
    /// </summary>
    public required string ComputingId { get; set; }
    /// <summary>Absolute folder on the platform host (local) or the remote host (sftp), with variables.</summary>
    public required string BasePath { get; set; }
    /// <summary>Absolute path inside every task on <see cref="ComputingId"/>, e.g. <c>/storages/personal</c>.</summary>
    public required string BindPath { get; set; }
    public bool ReadOnly { get; set; }
    /// <summary>
    /// Bound into tasks at <see cref="BindPath"/>. A storage can exist only to be browsed: a login's home, which
    /// a resource comes with, holds its SSH keys, which a task (and whoever it is shared with) must not read
    /// unless its owner binds it on purpose.
    /// </summary>
    public bool Bound { get; set; } = true;
    /// <summary>Shown in the file manager; a storage can exist only to be bound into tasks.</summary>
    public bool Browsable { get; set; } = true;
    /// <summary>Owner's user id; null for platform-wide storages.</summary>
    public string? OwnerId { get; set; }
    public DateTime CreatedAt { get; set; } = DateTime.UtcNow;
}

public enum StorageKind
{
    /// <summary>A folder on the platform host, read and written by the platform itself.</summary>
    Local,
    /// <summary>A folder on an SSH computing resource, reached with SFTP over the resource's connection.</summary>
    Sftp,
}
