namespace Rosetta.Core.Storages;

/// <summary>Configuration section <c>Rosetta:Storage</c>.</summary>
public sealed class StorageOptions
{
    /// <summary>
    /// Folder on the platform host holding the seeded storages (<c>users/$USER</c> and <c>shared</c>).
    /// Empty: <c>{Rosetta:DataDirectory}/storage</c>. Made absolute at start-up: the engine binds it.
    /// </summary>
    public string Root { get; set; } = "";

    /// <summary>
    /// The platform's own files on its host (its key ring, its database file): no storage may show them.
    /// Set at start-up from <c>Rosetta:DataDirectory</c> and the connection string.
    /// </summary>
    public IReadOnlyList<string> PlatformFiles { get; set; } = [];

    /// <summary>Seed the platform-wide <c>personal</c> and <c>shared</c> storages when missing.</summary>
    public bool SeedDefaults { get; set; } = true;

    /// <summary>The largest single upload, in bytes (default 10 GiB).</summary>
    public long MaxUploadBytes { get; set; } = 10L * 1024 * 1024 * 1024;

    /// <summary>
    /// The most one local storage folder may hold, in bytes (a per-user folder is one user's quota);
    /// 0 means no quota.
    /// </summary>
    public long QuotaBytes { get; set; }

    /// <summary>
    /// The uid given to the folders and files the platform creates in local storages, so tasks whose
    /// images run unprivileged can write them through their binds (the bundled images run as 1000);
    /// -1 leaves them as created. See <see cref="TaskFileOwner"/>.
    /// </summary>
    public int OwnerUid { get; set; } = 1000;

    /// <summary>The gid that goes with <see cref="OwnerUid"/>.</summary>
    public int OwnerGid { get; set; } = 1000;

    public TaskFileOwner TaskFileOwner => OwnerUid < 0 ? TaskFileOwner.Unchanged : new TaskFileOwner(OwnerUid, OwnerGid);
}
