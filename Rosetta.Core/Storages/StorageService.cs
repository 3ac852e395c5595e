using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Rosetta.Core.Backends;
using Rosetta.Core.Domain;
using Rosetta.Core.Persistence;
using Rosetta.Core.Validation;

namespace Rosetta.Core.Storages;

/// <summary>
/// Storages: who sees which (platform-wide ones everyone, a user's own only them and admins), where
/// each one is for a given user, and the binds a task gets. File operations go through
/// <see cref="OpenAsync"/>, which applies the ownership, browsable and read-only rules.
/// </summary>
public sealed class StorageService(IDbContextFactory<RosettaDbContext> dbFactory, IOptions<StorageOptions> options, Backends.Ssh.SshConnectionPool sshConnections)
{
    private readonly StorageOptions _options = options.Value;

    public async Task<IReadOnlyList<Storage>> ListAsync(Caller caller, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var all = await db.Storages.AsNoTracking().OrderBy(s => s.Name).ToListAsync(ct);
        return all.Where(s => caller.CanUse(s.OwnerId)).ToList();
    }

    public async Task<Storage?> FindAsync(Caller caller, string id, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var storage = await db.Storages.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id, ct);
        return storage is not null && caller.CanUse(storage.OwnerId) ? storage : null;
    }

    /// <summary>
    /// Adds a storage. Folders on the platform host are an admin's decision (they are the host's
    /// files); users add sftp storages on their own SSH resources, where they log in as themselves.
    /// </summary>
    public async Task<Storage> AddAsync(Caller caller, StorageDraft draft, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        TextRules.DisplayName(errors, "name", draft.Name?.Trim());
        var id = string.IsNullOrEmpty(draft.Id) ? NewId() : draft.Id;
        TextRules.Slug(errors, "id", id);
        var kind = StorageKind.Local;
        if (string.IsNullOrEmpty(draft.Kind)) errors.Add("kind", "is required: 'local' or 'sftp'.");
        else if (!EnumNames.TryParse(draft.Kind, out kind))
            errors.Add("kind", "must be 'local' (a folder on the platform host) or 'sftp' (a folder on an SSH resource).");
        else if (kind == StorageKind.Local && !caller.IsAdmin)
            errors.Add("kind", "only admins add folders of the platform host; add an 'sftp' storage on one of your SSH resources.");
        if (draft.PlatformWide == true && !caller.IsAdmin) errors.Add("platformWide", "only admins add storages for everyone.");
        StorageRules.BasePath(errors, draft.BasePath, kind);
        if (kind == StorageKind.Local && errors.IsValid) CheckHostFolder(errors, draft.BasePath!);
        StorageRules.BindPath(errors, draft.BindPath);

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var write = await db.BeginWriteAsync(ct);
        var computingId = draft.Computing ?? (kind == StorageKind.Local ? BundledCatalogue.LocalComputingId : null);
        var computing = computingId is null ? null : await db.Computing.AsNoTracking().FirstOrDefaultAsync(c => c.Id == computingId, ct);
        if (computing is null || !caller.CanUse(computing.OwnerId))
            errors.Add("computing", computingId is null ? "is required for sftp storages: the SSH resource the files live on." : $"No computing resource '{computingId}'.");
        else if (kind == StorageKind.Local && computing.Kind != ComputingKind.Local)
            errors.Add("computing", "must be the platform host's engine ('local') for a local storage.");
        else if (kind == StorageKind.Sftp && computing.Kind == ComputingKind.Local)
            errors.Add("computing", "must be an SSH or Slurm resource for an sftp storage.");
        else if (kind == StorageKind.Sftp && computing.OwnerId is null && !caller.IsAdmin)
            errors.Add("computing", "must be one of your own SSH resources: the platform's own login there is not yours to browse with.");
        else if (kind == StorageKind.Sftp && !caller.CanActThrough(computing))
            errors.Add("computing", $"'{computing.Name}' is another user's own SSH resource, reached with their key: only they add storages on it.");
        else if (errors.IsValid) NotAHomeForOthers(errors, draft.BasePath!, forEveryone: draft.PlatformWide == true, platformLogin: computing.OwnerId is null);
        if (!errors.IsValid) throw new ValidationException(errors);

        var ownerId = draft.PlatformWide == true ? null : caller.UserId;
        if (await db.Storages.AnyAsync(s => s.Id == id, ct)) throw new ConflictException($"Storage id '{id}' is taken; choose another id.");
        await EnsureNameFreeAsync(db, draft.Name!.Trim(), ownerId, exceptId: null, ct);
        if (draft.Bound != false) await EnsureBindPathFreeAsync(db, computing!.Id, draft.BindPath!, ownerId, exceptId: null, ct);
        var storage = new Storage
        {
            Id = id!, Name = draft.Name!.Trim(), Kind = kind, ComputingId = computing!.Id, BasePath = draft.BasePath!.TrimEnd('/'),
            BindPath = draft.BindPath!, ReadOnly = draft.ReadOnly == true, Browsable = draft.Browsable != false, Bound = draft.Bound != false,
            OwnerId = ownerId,
        };
        db.Storages.Add(storage);
        await db.SaveChangesAsync(ct);
        await write.CommitAsync(ct);
        return storage;
    }

    /// <summary>
    /// Storages are told apart by name (the Files page's chips, the storage manager): a user's may not share its
    /// name with another of theirs or a platform-wide one; a platform-wide one not with another platform-wide.
    /// </summary>
    private static async Task EnsureNameFreeAsync(RosettaDbContext db, string name, string? ownerId, string? exceptId, CancellationToken ct)
    {
        if (!await db.Storages.AnyAsync(s => s.Id != exceptId && s.Name == name && (s.OwnerId == null || s.OwnerId == ownerId), ct)) return;
        throw new ConflictException(ownerId is null
            ? $"There is a platform-wide storage named '{name}' already; choose another name."
            : $"You have a storage named '{name}' already (yours or the platform's); choose another name.");
    }

    /// <summary>
    /// Changes a storage's name, paths and flags (fields left out keep their value); what it is
    /// (id, kind, computing resource, owner) stays: that is a new storage. Null when the caller cannot
    /// see it; <see cref="StorageAccessDeniedException"/> when they see it but may not change it (platform-wide).
    /// Tasks started afterwards get the new bind; running ones keep theirs.
    /// </summary>
    public async Task<Storage?> UpdateAsync(Caller caller, string id, StorageDraft draft, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var write = await db.BeginWriteAsync(ct);
        var storage = await db.Storages.FirstOrDefaultAsync(s => s.Id == id, ct);
        if (storage is null || !caller.CanUse(storage.OwnerId)) return null;
        if (storage.OwnerId is null && !caller.IsAdmin) throw new StorageAccessDeniedException("Only admins change platform-wide storages.");
        var resource = await db.Computing.AsNoTracking().FirstOrDefaultAsync(c => c.Id == storage.ComputingId, ct);
        if (storage.Kind == StorageKind.Sftp && resource is not null && !caller.CanActThrough(resource))
            throw new OwnerOnlyException(OthersLogin(storage, "changes"));

        var errors = new ValidationErrors();
        const string fixedPart = "cannot be changed; add a new storage instead.";
        if (draft.Id is not null && draft.Id != storage.Id) errors.Add("id", fixedPart);
        if (draft.Kind is not null && !string.Equals(draft.Kind, storage.Kind.ToString(), StringComparison.OrdinalIgnoreCase)) errors.Add("kind", fixedPart);
        if (draft.Computing is not null && draft.Computing != storage.ComputingId) errors.Add("computing", fixedPart);
        if (draft.PlatformWide is { } wide && wide != (storage.OwnerId is null)) errors.Add("platformWide", fixedPart);
        // Where a folder of the platform host points is an admin's choice, also for its owner (who may no longer be one).
        if (storage.Kind == StorageKind.Local && !caller.IsAdmin && draft.BasePath is not null && draft.BasePath != storage.BasePath)
            errors.Add("basePath", "only admins change which folder of the platform host a storage is.");
        var name = draft.Name?.Trim() ?? storage.Name;
        var basePath = draft.BasePath ?? storage.BasePath;
        var bindPath = draft.BindPath ?? storage.BindPath;
        TextRules.DisplayName(errors, "name", name);
        StorageRules.BasePath(errors, basePath, storage.Kind);
        if (errors.IsValid && basePath != storage.BasePath)
            NotAHomeForOthers(errors, basePath, forEveryone: storage.OwnerId is null, platformLogin: resource is { OwnerId: null });
        if (storage.Kind == StorageKind.Local && errors.IsValid && basePath != storage.BasePath) CheckHostFolder(errors, basePath);
        StorageRules.BindPath(errors, bindPath);
        if (!errors.IsValid) throw new ValidationException(errors);
        if (name != storage.Name) await EnsureNameFreeAsync(db, name, storage.OwnerId, exceptId: storage.Id, ct);
        var bound = draft.Bound ?? storage.Bound;
        // Checked when the storage comes to be bound where it was not: a rename of one that stood where it does leaves it be.
        if (bound && (!storage.Bound || bindPath != storage.BindPath))
            await EnsureBindPathFreeAsync(db, storage.ComputingId, bindPath, storage.OwnerId, exceptId: storage.Id, ct);

        storage.Name = name;
        storage.BasePath = basePath.TrimEnd('/');
        storage.BindPath = bindPath;
        storage.ReadOnly = draft.ReadOnly ?? storage.ReadOnly;
        storage.Browsable = draft.Browsable ?? storage.Browsable;
        storage.Bound = bound;
        await db.SaveChangesAsync(ct);
        await write.CommitAsync(ct);
        return storage;
    }

    private static string OthersLogin(Storage storage, string verb) =>
        $"Only its owner {verb} the storage '{storage.Name}': it is on their own SSH resource, reached with their key. An admin can remove it.";

    /// <summary>
    /// <c>$HOME</c> is the login's home, with the SSH keys that log in as it: a user's own on their own resource. A
    /// storage for everyone would hand it to every user (and their tasks, and whoever those are shared with); on a
    /// platform-wide resource it is the platform's own login's, which runs everyone's tasks there.
    /// </summary>
    private static void NotAHomeForOthers(ValidationErrors errors, string basePath, bool forEveryone, bool platformLogin)
    {
        if (!StorageRules.UsesHome(basePath)) return;
        if (platformLogin)
            errors.Add("basePath", "cannot start with $HOME on a platform-wide resource: that is the platform's own login's home, with its SSH keys. Give everyone a folder of their own, such as /data/$USER.");
        else if (forEveryone)
            errors.Add("basePath", "cannot start with $HOME in a storage for everyone: that is the resource's login's home, with its SSH keys, which would reach every user. Give everyone a folder of their own, such as /data/$USER.");
    }

    /// <summary>
    /// Two bound storages of one computing resource may not share a bind path, nor nest one in the other, where both
    /// reach the same tasks: the same owner's, or either one platform-wide (bound into everybody's tasks). Nested,
    /// the engine makes the inner one's mount point (as root) inside the outer one's folder, in someone's files.
    /// </summary>
    private static async Task EnsureBindPathFreeAsync(RosettaDbContext db, string computingId, string bindPath, string? ownerId,
        string? exceptId, CancellationToken ct)
    {
        var reaching = await db.Storages.AsNoTracking()
            .Where(s => s.Id != exceptId && s.ComputingId == computingId && s.Bound && (s.OwnerId == null || ownerId == null || s.OwnerId == ownerId))
            .Select(s => new { s.Name, s.BindPath }).ToListAsync(ct);
        var clash = reaching.FirstOrDefault(s => PosixPath.IsWithin(s.BindPath, bindPath) || PosixPath.IsWithin(bindPath, s.BindPath));
        if (clash is null) return;
        var computing = await db.Computing.AsNoTracking().Where(c => c.Id == computingId).Select(c => c.Name).FirstOrDefaultAsync(ct) ?? computingId;
        throw new ConflictException(clash.BindPath == bindPath
            ? $"The storage '{clash.Name}' is bound at {bindPath} on '{computing}'; choose another bind path."
            : $"{bindPath} would {(PosixPath.IsWithin(bindPath, clash.BindPath) ? "lie in" : "hold")} {clash.BindPath}, where the storage '{clash.Name}' is bound on '{computing}': " +
              "the engine would make one's mount point inside the other's folder. Choose a path beside it, such as /storages/….");
    }

    /// <summary>
    /// Removes a storage (its files stay where they are): the owner's own, or any for an admin.
    /// Null when the caller cannot see it; false when they see it but may not remove it (platform-wide).
    /// </summary>
    public async Task<bool?> DeleteAsync(Caller caller, string id, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var storage = await db.Storages.FirstOrDefaultAsync(s => s.Id == id, ct);
        if (storage is null || !caller.CanUse(storage.OwnerId)) return null;
        if (storage.OwnerId is null && !caller.IsAdmin) return false;
        db.Storages.Remove(storage);
        await db.SaveChangesAsync(ct);
        return true;
    }

    /// <summary>
    /// The storage, resolved for the caller, ready for file operations; null when the caller cannot
    /// see it (the API answers 404). A local storage's folder is created on first use.
    /// </summary>
    public async Task<OpenedStorage?> OpenAsync(Caller caller, string id, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var storage = await db.Storages.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id, ct);
        if (storage is null || !caller.CanUse(storage.OwnerId)) return null;
        if (!storage.Browsable) throw new StorageEntryNotFoundException($"The storage '{storage.Name}' is not browsable: it is only bound into tasks.");
        // $USER is the owner's name for a user's own storage, the caller's for a platform-wide one.
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == (storage.OwnerId ?? caller.UserId), ct)
            ?? throw new StorageEntryNotFoundException("The storage's owner no longer exists.");
        if (storage.Kind == StorageKind.Local)
            return new OpenedStorage(storage, LocalFolder(storage, user.UserName!, await LocalStoragesAsync(db, ct)), _options);

        var computing = await db.Computing.AsNoTracking().FirstOrDefaultAsync(c => c.Id == storage.ComputingId, ct)
            ?? throw new StorageEntryNotFoundException($"The computing resource of storage '{storage.Name}' no longer exists.");
        if (!caller.CanActThrough(computing)) throw new OwnerOnlyException(OthersLogin(storage, "opens"));
        var connection = sshConnections.For(computing);
        var sftp = await connection.SftpAsync(ct);
        var home = StorageRules.UsesHome(storage.BasePath) ? HomeOf(sftp, connection) : null;
        var remoteFolder = StorageRules.Substitute(storage.BasePath, user.UserName!, computing.Username, home);
        try
        {
            return new OpenedStorage(storage, new SftpFolder(sftp, remoteFolder, connection), _options);
        }
        catch (Renci.SshNet.Common.SshException e)
        {
            if (e is Renci.SshNet.Common.SshOperationTimeoutException) connection.GiveUp(sftp);
            throw new BackendUnavailableException($"The folder {remoteFolder} of storage '{storage.Name}' cannot be opened on {computing.Host}: {e.Message}");
        }
    }

    /// <summary>
    /// The storages a task of <paramref name="ownerId"/> on <paramref name="computing"/> gets bound:
    /// platform-wide ones and the owner's own (even an admin's task gets only the admin's own), with
    /// host folders resolved. Local folders are created here, so the engine never makes them as root.
    /// </summary>
    public async Task<IReadOnlyList<BindMount>> BindsForAsync(string ownerId, ComputingResource computing, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var storages = await db.Storages.AsNoTracking()
            .Where(s => s.ComputingId == computing.Id && s.Bound && (s.OwnerId == null || s.OwnerId == ownerId))
            .OrderBy(s => s.BindPath).ToListAsync(ct);
        if (storages.Count == 0) return [];
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == ownerId, ct);
        if (user?.UserName is not { } userName) return [];
        var binds = new List<BindMount>();
        string? home = null;
        var locals = computing.Kind == ComputingKind.Local ? await LocalStoragesAsync(db, ct) : [];
        foreach (var storage in storages)
        {
            var isLocal = storage.Kind == StorageKind.Local;
            if (isLocal != (computing.Kind == ComputingKind.Local)) continue;
            if (!isLocal && home is null && StorageRules.UsesHome(storage.BasePath)) home = await RemoteHomeAsync(computing, storage, ct);
            var folder = isLocal ? LocalFolder(storage, userName, locals).Root : StorageRules.Substitute(storage.BasePath, userName, computing.Username, home);
            binds.Add(new BindMount(folder, storage.BindPath, storage.ReadOnly));
        }
        return binds;
    }

    /// <summary>
    /// The login's home on an SSH resource, for a task's binds: asked of the resource's SFTP connection, which the
    /// file manager shares, so a task binds the folder Files shows. A host that cannot say fails the launch, naming
    /// the storage, whose owner can bind a folder by its absolute path instead.
    /// </summary>
    private async Task<string> RemoteHomeAsync(ComputingResource computing, Storage storage, CancellationToken ct)
    {
        var connection = sshConnections.For(computing);
        try
        {
            return HomeOf(await connection.SftpAsync(ct), connection);
        }
        catch (StorageAccessDeniedException e)
        {
            throw new LaunchFailedException(e.Message, e);
        }
        catch (BackendUnavailableException e)
        {
            throw new BackendUnavailableException($"The storage '{storage.Name}' is in the login's home ($HOME), which {computing.Host}'s SFTP server did not tell: {e.Message}", e);
        }
    }

    /// <summary>
    /// The login's home folder: where its SFTP server starts (OpenSSH's sftp-server starts in the home, as a
    /// login shell does), read once when the connection is made. No shell is asked, so no profile script runs.
    /// </summary>
    private static string HomeOf(Renci.SshNet.SftpClient sftp, Backends.Ssh.SshConnection connection)
    {
        var home = sftp.WorkingDirectory;
        if (StorageRules.HomeProblem(home) is { } why)
            throw new StorageAccessDeniedException($"The home folder of {connection.Login} is '{home}', which cannot stand for $HOME in a storage: {why}. Give the storage an absolute folder instead.");
        return home;
    }

    /// <summary>
    /// The folders on the platform host named after one user: of every local storage with $USER in
    /// its path (platform-wide, or the user's own), the path up to the segment with the name in it
    /// (<c>…/users/alice</c> of <c>…/users/$USER/work</c>); only those that exist. A folder is the
    /// user's alone unless it is a read-only storage's (managed outside the platform) or it is, holds
    /// or lies in a folder of another storage or another user (<c>/scratch/tmp-$USER</c> of alice is
    /// <c>/scratch/$USER</c> of a user named tmp-alice).
    /// </summary>
    public async Task<UserFolders> UserFoldersAsync(string userId, string userName, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var local = await db.Storages.AsNoTracking().Where(s => s.Kind == StorageKind.Local).ToListAsync(ct);
        var names = await db.Users.AsNoTracking().ToDictionaryAsync(u => u.Id, u => u.UserName!, ct);
        var otherNames = names.Where(n => n.Key != userId).Select(n => n.Value).ToList();

        var others = new List<string>();
        foreach (var storage in local)
        {
            if (!storage.BasePath.Contains(StorageRules.UserVariable)) others.Add(Path.GetFullPath(storage.BasePath));
            else if (storage.OwnerId is null) others.AddRange(otherNames.Select(name => FolderOf(storage, name)).OfType<string>());
            else if (storage.OwnerId != userId && names.TryGetValue(storage.OwnerId, out var owner) && FolderOf(storage, owner) is { } theirs) others.Add(theirs);
        }

        var own = new List<string>();
        var notOwn = new List<UserFolder>();
        foreach (var storage in local.Where(s => (s.OwnerId is null || s.OwnerId == userId) && s.BasePath.Contains(StorageRules.UserVariable)))
        {
            if (FolderOf(storage, userName) is not { } folder || !Directory.Exists(folder)
                || own.Contains(folder) || notOwn.Any(n => n.Path == folder)) continue;
            if (storage.ReadOnly)
                notOwn.Add(new UserFolder(folder, $"the read-only storage '{storage.Name}' is managed outside the platform"));
            else if (others.FirstOrDefault(o => PosixPath.IsWithin(o, folder) || PosixPath.IsWithin(folder, o)) is { } other)
                notOwn.Add(new UserFolder(folder, $"it is, holds or lies in {other}, which is not {userName}'s alone"));
            else own.Add(folder);
        }
        return new UserFolders(own, notOwn);
    }

    /// <summary>The folder of a $USER storage that bears the name, or null for a name that cannot be a folder's.</summary>
    private static string? FolderOf(Storage storage, string userName)
    {
        var path = storage.BasePath;
        var end = path.IndexOf('/', path.IndexOf(StorageRules.UserVariable, StringComparison.Ordinal));
        try
        {
            return Path.GetFullPath(StorageRules.Substitute(end < 0 ? path : path[..end], userName, sshUser: null));
        }
        catch (ValidationException)
        {
            return null;
        }
    }

    /// <summary>
    /// A folder of the platform host that would show whoever uses the storage the platform's own files (its
    /// key ring, its database) or other people's personal folders is refused, an admin's choice or not.
    /// Checked as the folder is for a user (links resolved as far as the folder exists).
    /// </summary>
    private void CheckHostFolder(ValidationErrors errors, string basePath)
    {
        const string someone = "rosetta-user-check";
        if (Exposure(Resolved(basePath.Replace(StorageRules.UserVariable, someone)), someone) is { } why)
            errors.Add("basePath", why + $" For a folder per user, use {Path.Join(_options.Root, "users", StorageRules.UserVariable)}/….");
    }

    /// <summary>
    /// Why <paramref name="folder"/> (links resolved) would show <paramref name="userName"/> what is not
    /// theirs: the platform's key ring or database, every personal folder, or another user's; null when it would not.
    /// </summary>
    private string? Exposure(string folder, string userName)
    {
        foreach (var own in _options.PlatformFiles.Select(Resolved))
        {
            if (PosixPath.IsWithin(own, folder) || PosixPath.IsWithin(folder, own))
                return $"It would show the platform's own files ({own}: its key ring or database).";
        }
        var users = Resolved(Path.Join(_options.Root, "users"));
        if (PosixPath.IsWithin(users, folder)) return $"It holds every user's personal folder ({users}).";
        if (PosixPath.IsWithin(folder, users) && folder[(users.Length + 1)..].Split('/')[0] != userName)
            return $"It lies in another user's personal folder in {users}.";
        return null;
    }

    /// <summary>
    /// A local storage's folder for one user, made if missing. The path is checked as it is now, not only as
    /// it was when the storage was saved: a folder on its way may lie where a task writes (an admin's per-user
    /// storage inside the personal folders, or inside another storage's folder), and a task can swap it for a
    /// link to anywhere, another user's folder or the key ring included.
    /// </summary>
    private ConfinedDirectory LocalFolder(Storage storage, string userName, IReadOnlyList<Storage> localStorages)
    {
        var literal = Path.GetFullPath(StorageRules.Substitute(storage.BasePath, userName, sshUser: null)).TrimEnd('/');
        var resolved = Resolved(literal);
        // Links on the way to the storage folder itself are the host's own (an admin's /srv -> /data); below a folder
        // that tasks write (the platform's storage folder, another writable storage's), a task's.
        var why = WrittenByTasksOnTheWay(storage, literal, localStorages)
            .Where(outer => resolved != Resolved(outer) + literal[outer.Length..])
            .Select(outer => $"Its folder {literal} passes through a symbolic link inside {outer}, which a task may have made.")
            .FirstOrDefault() ?? Exposure(resolved, userName);
        if (why is not null)
            throw new StorageAccessDeniedException($"The storage '{storage.Name}' cannot be opened for {userName}: {why} An admin should look at {literal}.");
        return new ConfinedDirectory(literal, _options.TaskFileOwner);
    }

    private static Task<List<Storage>> LocalStoragesAsync(RosettaDbContext db, CancellationToken ct) =>
        db.Storages.AsNoTracking().Where(s => s.Kind == StorageKind.Local).ToListAsync(ct);

    /// <summary>
    /// The folders above <paramref name="literal"/> that tasks can write: the platform's storage folder, and the
    /// folder of every other writable local storage that starts its path, for any user (a <c>$USER</c> segment
    /// matches any name, so /data/$USER covers /data/alice/… whoever opens it).
    /// </summary>
    private IEnumerable<string> WrittenByTasksOnTheWay(Storage storage, string literal, IReadOnlyList<Storage> localStorages)
    {
        var root = Path.GetFullPath(_options.Root).TrimEnd('/');
        if (literal != root && PosixPath.IsWithin(literal, root)) yield return root;
        var segments = literal.Split('/');
        foreach (var other in localStorages.Where(s => s.Id != storage.Id && !s.ReadOnly))
        {
            var pattern = other.BasePath.TrimEnd('/').Split('/');
            if (pattern.Length >= segments.Length) continue; // not above it
            if (pattern.Select((segment, i) => StorageRules.SegmentCanBe(segment, segments[i])).All(match => match)) yield return string.Join('/', segments[..pattern.Length]);
        }
    }

    /// <summary>The absolute path with links resolved in the part of it that exists.</summary>
    private static string Resolved(string path)
    {
        var full = Path.GetFullPath(path).TrimEnd('/');
        var existing = full;
        while (existing.Length > 1 && PosixPath.Canonical(existing) is null) existing = Path.GetDirectoryName(existing)!;
        var canonical = PosixPath.Canonical(existing) ?? existing;
        return existing == full ? canonical : Path.Join(canonical, full[(existing == "/" ? 1 : existing.Length + 1)..]);
    }

    /// <summary>
    /// The owner's home on a resource they add, in the file manager: their own login's files, so theirs alone.
    /// Not bound into tasks until they choose to (at <see cref="HomeBindPath"/>): the home holds the login's SSH
    /// keys, which every task there, and whoever it is shared with, could otherwise read. (A platform-wide
    /// resource has no such storage: its login is the platform's; an admin gives it folders per user, such as /data/$USER.)
    /// </summary>
    internal static async Task<Storage> HomeStorageAsync(RosettaDbContext db, ComputingResource computing, CancellationToken ct)
    {
        var id = $"home-{computing.Id}";
        if (id.Length > 40 || await db.Storages.AnyAsync(s => s.Id == id, ct)) id = NewId();
        var name = $"Home on {computing.Name}";
        if (name.Length > TextRules.MaxDisplayNameLength)
        {
            var cut = TextRules.MaxDisplayNameLength - 1;
            if (char.IsHighSurrogate(name[cut - 1])) cut--; // never half a character
            name = name[..cut] + "…";
        }
        return new Storage
        {
            Id = id, Name = name, Kind = StorageKind.Sftp, ComputingId = computing.Id, BasePath = StorageRules.HomeVariable,
            BindPath = HomeBindPath, Bound = false, OwnerId = computing.OwnerId,
        };
    }

    /// <summary>Where tasks see the home storage a resource is added with, once its owner binds it.</summary>
    public const string HomeBindPath = "/storages/home";

    /// <summary>A storage id of the platform's choosing.</summary>
    private static string NewId() => $"s-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";

    /// <summary>The platform-wide storages every installation starts with: a personal folder per user and a shared one.</summary>
    public static IEnumerable<Storage> Defaults(StorageOptions options) =>
    [
        new Storage
        {
            Id = "personal", Name = "Personal", Kind = StorageKind.Local, ComputingId = BundledCatalogue.LocalComputingId,
            BasePath = Path.Join(options.Root, "users", StorageRules.UserVariable), BindPath = "/storages/personal",
        },
        new Storage
        {
            Id = "shared", Name = "Shared", Kind = StorageKind.Local, ComputingId = BundledCatalogue.LocalComputingId,
            BasePath = Path.Join(options.Root, "shared"), BindPath = "/storages/shared",
        },
    ];
}

/// <summary>A folder named after a user, and why it is not theirs alone.</summary>
public sealed record UserFolder(string Path, string Why);

/// <summary>A user's folders on the platform host: their own, and those shared with others.</summary>
public sealed record UserFolders(IReadOnlyList<string> Own, IReadOnlyList<UserFolder> Shared);
