using Microsoft.Extensions.Logging;
using Rosetta.Core.Catalogue;
using Rosetta.Core.Domain;
using Rosetta.Core.Security;
using Rosetta.Core.Storages;
using Rosetta.Core.Tasks;

namespace Rosetta.Core.Accounts;

/// <summary>
/// What goes with a user's account when an admin deletes it: their tasks (with what those left on
/// their resources, their logs and share links), their own software, computing resources and
/// storages, their API tokens and their SSH key pair. Their folders on the platform host stay, under
/// a new name: a user given the same name later must not find the old one's files as their own, and
/// deleting research data is for an admin to decide, file by file if need be.
/// </summary>
public sealed class AccountRemoval(TaskService tasks, SoftwareService software, ComputingService computing,
    StorageService storages, ApiTokenService tokens, UserKeyService keys, TimeProvider time, ILogger<AccountRemoval> logger)
{
    /// <summary>The suffix of a deleted user's folders: '+' is in no user name, so no user gets one as theirs.</summary>
    private const string SetAsideMark = "+deleted-";

    /// <exception cref="ConflictException">Some of the user's tasks still run.</exception>
    public void EnsureNothingRuns(string userId, string userName)
    {
        var running = tasks.List(OwnerOnly(userId)).Where(t => t.Status.IsActive()).Select(t => $"'{t.Name}'").ToList();
        if (running.Count > 0)
            throw new ConflictException($"{userName} has {running.Count} task{(running.Count == 1 ? "" : "s")} that still run{(running.Count == 1 ? "s" : "")} " +
                $"({string.Join(", ", running)}); stop {(running.Count == 1 ? "it" : "them")} first, or disable the account instead, which keeps everything.");
    }

    /// <summary>
    /// Removes everything of the user but the account itself, which the caller deletes last (and
    /// only if this returns), so a removal that fails half-way can be run again. Their folders are
    /// renamed first: a retry finds the renamed ones gone and the logs say where they went.
    /// </summary>
    /// <exception cref="ConflictException">Some of the user's tasks still run, or something else refuses to go.</exception>
    public async Task<RemovedAccount> RemoveAsync(string userId, string userName, CancellationToken ct)
    {
        EnsureNothingRuns(userId, userName);
        var owner = OwnerOnly(userId);
        var folders = await storages.UserFoldersAsync(userId, userName, ct);
        var setAside = SetAside(folders.Own, userName);

        try
        {
            foreach (var task in tasks.List(owner)) await tasks.DeleteAsync(owner, task.Id, ct);
            // Their storages before their resources, which refuse to go while a storage is on them.
            foreach (var storage in await storages.ListAsync(owner, ct))
                if (storage.OwnerId == userId) await storages.DeleteAsync(owner, storage.Id, ct);
            foreach (var entry in await software.ListAsync(owner, ct))
                if (entry.OwnerId == userId) await software.DeleteAsync(owner, entry.Id, ct);
            foreach (var resource in await computing.ListAsync(owner, ct))
                if (resource.OwnerId == userId) await computing.DeleteAsync(owner, resource.Id, ct);
            await tokens.ForgetAllAsync(userId, ct);
            await keys.ForgetAsync(userId, ct); // last: removing tasks on their SSH resources logs in with it
            // A task created by a request let in before the account was disabled (TaskMonitor.AddAsync
            // refuses one after): its owner must not go from under it.
            if (tasks.List(owner).FirstOrDefault() is { } late)
                throw new ConflictException($"{userName} got the task '{late.Name}' while being deleted; stop it if it runs and delete the user again.");
        }
        catch (Exception e) when (setAside.Count > 0 && e is ConflictException or Backends.BackendUnavailableException)
        {
            // The folders went first: the admin must learn where, since the retry finds none to rename.
            var moved = $" {userName}'s folders already have their new names: {string.Join(", ", setAside)}.";
            throw e is ConflictException ? new ConflictException(e.Message + moved) : new Backends.BackendUnavailableException(e.Message + moved, e);
        }
        return new RemovedAccount(setAside, folders.Shared);
    }

    private List<string> SetAside(IEnumerable<string> folders, string userName)
    {
        var stamp = time.GetUtcNow().ToString("yyyyMMdd'T'HHmmss'Z'");
        var setAside = new List<string>();
        foreach (var folder in folders)
        {
            var aside = folder + SetAsideMark + stamp;
            try
            {
                Directory.Move(folder, aside);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new ConflictException($"{userName}'s folder {folder} could not be renamed to {aside} ({e.Message}); nothing else was removed" +
                    (setAside.Count == 0 ? "" : $" (but {string.Join(", ", setAside)} already has its new name)") + ". Make the folder's parent writable for the platform and delete the user again.");
            }
            logger.LogInformation("The folder {Folder} of deleted user {User} is now {SetAside}", folder, userName, aside);
            setAside.Add(aside);
        }
        return setAside;
    }

    /// <summary>The user as the owner of their things (not as an admin, who would see everyone's).</summary>
    private static Caller OwnerOnly(string userId) => new(userId, IsAdmin: false);
}

/// <summary>What became of a deleted user's folders on the platform host.</summary>
/// <param name="FoldersSetAside">Their own folders, under their new names.</param>
/// <param name="FoldersLeft">Folders bearing their name that are not theirs alone, left as they are.</param>
public sealed record RemovedAccount(IReadOnlyList<string> FoldersSetAside, IReadOnlyList<UserFolder> FoldersLeft);
