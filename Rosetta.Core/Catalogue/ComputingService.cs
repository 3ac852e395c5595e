using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Rosetta.Core.Domain;
using Rosetta.Core.Persistence;
using Rosetta.Core.Validation;

namespace Rosetta.Core.Catalogue;

/// <summary>A computing resource as a user submits it.</summary>
public sealed record ComputingDraft(
    string? Id, string? Name, string? Kind, string? Host, int? Port, string? Username, string? Engine,
    string? HostKeyFingerprint, TaskOptions? Defaults);

/// <summary>Computing resources: the platform's (local engine, shared clusters) and each user's own hosts.</summary>
public sealed partial class ComputingService(IDbContextFactory<RosettaDbContext> dbFactory, Monitoring.TaskMonitor monitor, Backends.Ssh.SshConnectionPool connections)
{
    public async Task<IReadOnlyList<ComputingResource>> ListAsync(Caller caller, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        // Filtered by the database, as the software catalogue is.
        return await db.Computing.AsNoTracking().Where(c => caller.IsAdmin || c.OwnerId == null || c.OwnerId == caller.UserId)
            .OrderBy(c => c.Name).ToListAsync(ct);
    }

    public async Task<ComputingResource?> FindAsync(Caller caller, string id, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var computing = await db.Computing.AsNoTracking().FirstOrDefaultAsync(c => c.Id == id, ct);
        return computing is not null && caller.CanUse(computing.OwnerId) ? computing : null;
    }

    public async Task<ComputingResource> AddAsync(Caller caller, ComputingDraft draft, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        TextRules.DisplayName(errors, "name", draft.Name?.Trim());
        var id = string.IsNullOrEmpty(draft.Id) ? $"c-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4))}" : draft.Id;
        TextRules.Slug(errors, "id", id);

        var kind = ComputingKind.Ssh;
        var kindKnown = !string.IsNullOrEmpty(draft.Kind) && EnumNames.TryParse(draft.Kind, out kind) && kind != ComputingKind.Local;
        if (string.IsNullOrEmpty(draft.Kind)) errors.Add("kind", "is required: 'ssh' or 'slurm'.");
        else if (!kindKnown) errors.Add("kind", "must be 'ssh' (a standalone host) or 'slurm' (a cluster's login host).");

        if (string.IsNullOrWhiteSpace(draft.Host)) errors.Add("host", "is required: a host name or IP address.");
        else if (HostNames.Problem(draft.Host) is { } hostProblem) errors.Add("host", hostProblem);
        var port = draft.Port ?? 22;
        if (port is < 1 or > 65535) errors.Add("port", "must be between 1 and 65535.");
        if (string.IsNullOrWhiteSpace(draft.Username)) errors.Add("username", "is required: the account to log in as.");
        else if (!UserPattern().IsMatch(draft.Username)) errors.Add("username", "is not a valid user name: letters, digits, '_', '.' or '-', at most 32, not starting with '-'.");

        var engine = ContainerEngineKind.Docker;
        if (draft.Engine is { } e && (!EnumNames.TryParse(e, out engine) || (kind == ComputingKind.Ssh && engine == ContainerEngineKind.Apptainer)))
            errors.Add("engine", kind == ComputingKind.Slurm ? "must be 'docker', 'podman' or 'apptainer'." : "must be 'docker' or 'podman'.");
        if (draft.Defaults is { } defaults && kindKnown) TaskRequestValidator.ValidateDefaults(errors, defaults, kind);
        if (draft.HostKeyFingerprint is { } fp && !FingerprintPattern().IsMatch(fp))
            errors.Add("hostKeyFingerprint", "must be an OpenSSH SHA256 fingerprint such as SHA256:abc… (as printed by ssh-keygen -lf).");
        // The platform's own resources are seeded under these ids when missing: a user's taking one would keep them away for everyone.
        if (id is BundledCatalogue.LocalComputingId or DemoOptions.SshComputingId or DemoOptions.SlurmComputingId)
            errors.Add("id", $"'{id}' is the id of a resource the platform brings; choose another.");
        if (!errors.IsValid) throw new ValidationException(errors);

        var computing = new ComputingResource
        {
            Id = id!, Name = draft.Name!.Trim(), Kind = kind, Host = draft.Host, Port = port, Username = draft.Username,
            Engine = engine, HostKeyFingerprint = draft.HostKeyFingerprint is { } given ? Pinned(given) : null,
            Defaults = draft.Defaults ?? new TaskOptions(), OwnerId = caller.UserId,
        };
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var write = await db.BeginWriteAsync(ct);
        if (await db.Computing.AnyAsync(c => c.Id == computing.Id, ct))
            throw new ConflictException($"Computing id '{computing.Id}' is taken; choose another id.");
        // Resources are picked by name (the new-task wizard, the storages form): two of one owner under one name could not be told apart.
        if (await db.Computing.AnyAsync(c => c.OwnerId == computing.OwnerId && c.Name == computing.Name, ct))
            throw new ConflictException($"You already have a computing resource named '{computing.Name}'; choose another name.");
        db.Computing.Add(computing);
        if (computing.OwnerId is not null) db.Storages.Add(await Storages.StorageService.HomeStorageAsync(db, computing, ct));
        await db.SaveChangesAsync(ct);
        await write.CommitAsync(ct);
        return computing;
    }

    /// <summary>Owners change their own resources; only admins platform-wide ones.</summary>
    public static bool CanEdit(Caller caller, ComputingResource computing) =>
        computing.Kind != ComputingKind.Local && (computing.OwnerId is null ? caller.IsAdmin : caller.CanSee(computing.OwnerId));

    /// <summary>
    /// Removes a resource the caller may change, once nothing depends on it: its tasks (whose logs and
    /// files on it are cleaned up when they are deleted) and its storages go first. False: no such
    /// resource, or not the caller's to remove.
    /// </summary>
    public async Task<bool> DeleteAsync(Caller caller, string id, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        // Held until the removal commits: a task or storage being added to the resource now either
        // lands first (and stops the removal) or finds the resource gone (see TaskMonitor.AddAsync).
        await using var write = await db.BeginWriteAsync(ct);
        var computing = await db.Computing.FirstOrDefaultAsync(c => c.Id == id, ct);
        if (computing is null || !caller.CanUse(computing.OwnerId)) return false;
        if (computing.Kind == ComputingKind.Local) throw new ConflictException("The platform's own Docker engine is part of the platform and cannot be removed.");
        if (!CanEdit(caller, computing)) return false;
        var tasks = await db.Tasks.CountAsync(t => t.ComputingId == id, ct);
        if (tasks > 0)
            throw new ConflictException($"'{computing.Name}' has {tasks} task{(tasks == 1 ? "" : "s")}; delete {(tasks == 1 ? "it" : "them")} first (what they left on the resource goes with them).");
        // The owner's home there goes with it (the files stay, and a resource added again comes with one); other storages are someone's choice.
        var onIt = await db.Storages.Where(s => s.ComputingId == id).ToListAsync(ct);
        var homes = onIt.Where(s => s.OwnerId is not null && s.OwnerId == computing.OwnerId && s.BasePath == Storages.StorageRules.HomeVariable).ToList();
        db.Storages.RemoveRange(homes);
        var storages = onIt.Except(homes).Select(s => s.Name).ToList();
        if (storages.Count > 0)
            throw new ConflictException($"'{computing.Name}' holds the storage{(storages.Count == 1 ? "" : "s")} {string.Join(", ", storages.Select(s => $"'{s}'"))}; remove {(storages.Count == 1 ? "it" : "them")} first.");
        db.Computing.Remove(computing);
        // Containers of tasks deleted while it could not be reached: nothing will reach them from here on.
        db.ForgottenContainers.RemoveRange(await db.ForgottenContainers.Where(f => f.ComputingId == id).ToListAsync(ct));
        await db.SaveChangesAsync(ct);
        await write.CommitAsync(ct);
        monitor.Forget(id);
        connections.Close(computing);
        return true;
    }

    /// <summary>
    /// Pins a new host key for an SSH or Slurm resource whose host was reinstalled (its key changed, so
    /// every connection is refused). The caller states the fingerprint the host's owner confirmed: the
    /// platform never takes whatever the host offers. The next connection checks it; tasks on the
    /// resource come back with it. False: no such resource the caller can see.
    /// </summary>
    /// <exception cref="ValidationException">Not a SHA256 fingerprint, or the resource has no host key (the local engine).</exception>
    public async Task<bool> TrustHostKeyAsync(Caller caller, string id, string? fingerprint, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var computing = await db.Computing.FirstOrDefaultAsync(c => c.Id == id, ct);
        if (computing is null || !caller.CanUse(computing.OwnerId)) return false;
        var errors = new ValidationErrors();
        if (computing.Kind == ComputingKind.Local) errors.Add("fingerprint", "the platform's own engine is reached without SSH: it has no host key.");
        else if (!CanTrustHostKey(caller, computing))
            throw new OwnerOnlyException(computing.OwnerId is null
                ? $"Only an admin can change the host key of the platform-wide resource '{computing.Name}'."
                : $"Only the owner of '{computing.Name}' can trust a new host key for it: it is their host, reached with their key.");
        else if (string.IsNullOrWhiteSpace(fingerprint) || !FingerprintPattern().IsMatch(fingerprint.Trim()))
            errors.Add("fingerprint", "must be the host's OpenSSH SHA256 fingerprint, such as SHA256:abc… (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on the host prints it).");
        // The host offers another key than the one given: pinning it would change nothing but the refusal's wording,
        // and may hide a mistyped fingerprint, or someone intercepting the connection.
        else if (Backends.Ssh.HostKeyChange.OfferedIn(monitor.StateOf(computing).Reason) is { } offered && Pinned(offered) != Pinned(fingerprint))
            errors.Add("fingerprint", $"is not the key the host offers ({offered}). Check it with the host's owner: a mistyped fingerprint, or someone " +
                "intercepting the connection and offering their own key.");
        if (!errors.IsValid) throw new ValidationException(errors);
        var before = computing.HostKeyFingerprint;
        computing.HostKeyFingerprint = Pinned(fingerprint!);
        await db.SaveChangesAsync(ct);
        // What is connected was checked against the key before: it must not go on under a key no longer trusted.
        // The same key again leaves the connection (and the tasks' tunnels) as it is.
        if (computing.HostKeyFingerprint != before) await connections.ReconnectUnderNewPinAsync(computing);
        monitor.RetryNow(computing.Id); // its state shows the old refusal until the watch loop tries again
        return true;
    }

    /// <summary>A new host key is trusted by the resource's owner (a user's own host, reached with their key), or an admin for platform-wide ones.</summary>
    public static bool CanTrustHostKey(Caller caller, ComputingResource computing) =>
        computing.Kind != ComputingKind.Local && (computing.OwnerId is null ? caller.IsAdmin : computing.OwnerId == caller.UserId);

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_.-]{0,31}\z")]
    private static partial Regex UserPattern();

    /// <summary>A fingerprint as it is pinned: compared with SSH.NET's, which has no "SHA256:" and no padding.</summary>
    private static string Pinned(string fingerprint) => fingerprint.Trim().Replace("SHA256:", "").TrimEnd('=');

    [GeneratedRegex(@"^(SHA256:)?[A-Za-z0-9+/]{43}=?\z")]
    private static partial Regex FingerprintPattern();
}
