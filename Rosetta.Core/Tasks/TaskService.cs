using Microsoft.EntityFrameworkCore;
using Rosetta.Core.Backends;
using Rosetta.Core.Domain;
using Rosetta.Core.Monitoring;
using Rosetta.Core.Persistence;
using Rosetta.Core.Security;
using Rosetta.Core.Validation;

namespace Rosetta.Core.Tasks;

/// <summary>A request to start a task, as the API and the wizard send it.</summary>
public sealed record NewTask(string? Name = null, string? Software = null, string? Computing = null, TaskOptions? Options = null);

/// <summary>
/// What users do with tasks: start, list, stop, delete, read logs. Validates and authorizes, then
/// hands state changes to the <see cref="TaskMonitor"/>. Another user's task is reported as not
/// found (null), never as forbidden, so its existence is not revealed.
/// </summary>
public sealed class TaskService(IDbContextFactory<RosettaDbContext> dbFactory, TaskMonitor monitor, TaskSecrets secrets, Sharing.ShareLinkService shares)
{
    public IReadOnlyList<TaskRecord> List(Caller caller) =>
        monitor.Feed.Items.Values.Where(t => caller.CanSee(t.OwnerId)).OrderByDescending(t => t.CreatedAt).ToList();

    public TaskRecord? Find(Caller caller, string taskId) =>
        monitor.Get(taskId) is { } task && caller.CanSee(task.OwnerId) ? task : null;

    /// <summary>Validates the request completely, then persists the task and starts it in the background.</summary>
    /// <exception cref="ValidationException">Something in the request is wrong; nothing was created.</exception>
    /// <exception cref="BackendUnavailableException">The computing resource cannot be reached now.</exception>
    public async Task<TaskRecord> CreateAsync(Caller caller, NewTask request, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        var name = request.Name?.Trim();
        TextRules.DisplayName(errors, "name", name, required: false);

        Software? software = null;
        ComputingResource? computing = null;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            if (string.IsNullOrWhiteSpace(request.Software)) errors.Add("software", "is required: give the id of a catalogue entry (GET /api/v1/software).");
            else
            {
                software = await db.Software.AsNoTracking().FirstOrDefaultAsync(s => s.Id == request.Software, ct);
                if (software is null || !caller.CanUse(software.OwnerId)) { software = null; errors.Add("software", $"'{Printable(request.Software)}' is not in your software catalogue."); }
                // A user's own entry with a non-HTTP interface, saved before only admins could add one (SoftwareService):
                // its port on the platform host would not be guarded by the sign-in.
                else if (software.InterfaceProtocol != InterfaceProtocol.Http && software.OwnerId is not null && !caller.IsAdmin)
                {
                    errors.Add("software", $"'{software.Name}' has a non-HTTP interface, which only software an admin added may have: its port on the platform host is not guarded by the sign-in. Ask an admin to add it.");
                    software = null;
                }
            }
            if (string.IsNullOrWhiteSpace(request.Computing)) errors.Add("computing", "is required: give the id of a computing resource (GET /api/v1/computing).");
            else
            {
                computing = await db.Computing.AsNoTracking().FirstOrDefaultAsync(c => c.Id == request.Computing, ct);
                if (computing is null || !caller.CanUse(computing.OwnerId)) { computing = null; errors.Add("computing", $"'{Printable(request.Computing)}' is not one of your computing resources."); }
                else if (!caller.CanActThrough(computing))
                {
                    errors.Add("computing", $"'{computing.Name}' is another user's own resource, reached with their SSH key: only they start tasks on it. An admin can stop and delete its tasks.");
                    computing = null;
                }
            }
        }
        if (!errors.IsValid) throw new ValidationException(errors);

        ITaskBackend backend;
        try
        {
            backend = monitor.BackendFor(computing!.Kind);
        }
        catch (BackendUnavailableException e)
        {
            throw ValidationException.For("computing", e.Message);
        }
        // What the user can fix whatever the resource's state comes first; the capacity needs the resource.
        var options = request.Options ?? new TaskOptions();
        TaskRequestValidator.ValidateOptions(errors, options, software!, computing, capacity: null);
        if (!errors.IsValid) throw new ValidationException(errors);
        // Before the resource is asked anything (a user at the limit should not hear that a host is down);
        // the insert decides, under its lock.
        if (monitor.TaskLimitReached(caller.UserId) is { } limit) throw new ConflictException(limit);
        if (monitor.UnavailableReason(computing.Id) is { } down) throw new BackendUnavailableException(down);

        TaskRequestValidator.CheckCapacity(errors, options, computing, await backend.GetCapacityAsync(computing, ct));
        if (!errors.IsValid) throw new ValidationException(errors);

        var secret = software!.AcceptsInterfacePassword ? TaskSecrets.Generate() : null;
        var task = new TaskRecord
        {
            Id = TaskIds.New(),
            OwnerId = caller.UserId,
            Name = string.IsNullOrEmpty(name) ? software.Name : name,
            SoftwareId = software.Id,
            ComputingId = computing.Id,
            Options = options,
            ImageReference = software.ImageReference,
            InterfaceProtocol = software.InterfaceProtocol,
            ProxyKeepsPrefix = software.BasePathEnv is not null,
            ProxyAuthorizationScheme = secret is null ? null : software.ProxyAuthorizationScheme,
            HasViewOnlyPassword = secret is not null && software.ViewOnlySecretEnv is not null,
            ProtectedSecret = secret is null ? null : secrets.Protect(secret),
        };
        var created = await monitor.AddAsync(task, ct);
        monitor.BeginLaunch(created, computing, software, secret);
        return created;
    }

    /// <summary>
    /// The interface password of the caller's own task, for interfaces the proxy cannot log into for
    /// them (SSH). Null when there is none, when the proxy supplies it itself, or for someone else's task.
    /// </summary>
    /// <exception cref="OwnerOnlyException">An admin asked for another user's task.</exception>
    public string? InterfaceSecret(Caller caller, string taskId)
    {
        if (Find(caller, taskId) is not { } task) return null;
        if (task.OwnerId != caller.UserId)
            throw new OwnerOnlyException("Only the task's owner sees its password: it opens the owner's own session. An admin can stop or delete the task.");
        return task.ProxyAuthorizationScheme is null ? monitor.SecretOf(task) : null;
    }

    /// <summary>Asks for the task to stop; returns at once (the stop finishes in the background). False: no such task.</summary>
    public bool RequestStop(Caller caller, string taskId)
    {
        if (Find(caller, taskId) is null) return false;
        _ = Task.Run(() => monitor.StopAsync(taskId, CancellationToken.None));
        return true;
    }

    /// <summary>Deletes a task that no longer runs, with its container. False: no such task.</summary>
    /// <param name="evenUnreachable">
    /// Also when its resource cannot be reached (a host gone for good), and then also a task still stopping there:
    /// its container is removed if the resource ever answers again.
    /// </param>
    /// <exception cref="ConflictException">The task is still active (or stopping, unless <paramref name="evenUnreachable"/>).</exception>
    /// <exception cref="BackendUnavailableException">The resource cannot be reached (unless <paramref name="evenUnreachable"/>); the message says how to go on.</exception>
    public async Task<bool> DeleteAsync(Caller caller, string taskId, CancellationToken ct, bool evenUnreachable = false)
    {
        var task = Find(caller, taskId);
        if (task is null) return false;
        if (task.Status == TaskState.Stopping && !evenUnreachable)
            throw new ConflictException($"Task '{task.Name}' is stopping: the platform finishes the stop as soon as its resource answers. " +
                $"If it never will (a host gone for good), delete the task without it ({ForgetHint}).");
        if (task.Status.IsActive() && task.Status != TaskState.Stopping)
            throw new ConflictException($"Task '{task.Name}' is {task.Status.ToWire()}; stop it before deleting it.");
        try
        {
            await monitor.RemoveAsync(task, ct, evenUnreachable);
        }
        catch (BackendUnavailableException e)
        {
            throw new BackendUnavailableException($"{e.Message} The task's container could not be removed, so the task stays. " +
                $"If the resource will not answer again, delete the task without it ({ForgetHint}).", e);
        }
        await shares.ForgetAsync(task.Id, ct);
        return true;
    }

    /// <summary>How a person deletes a task whose resource cannot be reached: the page's button, or the API's parameter.</summary>
    private const string ForgetHint = "\"Delete anyway\" on the task's page, or DELETE …?evenUnreachable=true; its container is removed when the resource answers again";

    /// <summary>The task's output; see <see cref="ITaskBackend.ReadLogsAsync"/>.</summary>
    public async IAsyncEnumerable<LogLine> ReadLogsAsync(TaskRecord task, int? tail, bool follow,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        if (task.BackendId is null) yield break; // Nothing ran yet.
        ComputingResource? computing;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            computing = await db.Computing.AsNoTracking().FirstOrDefaultAsync(c => c.Id == task.ComputingId, ct);
        }
        if (computing is null) yield break;
        await foreach (var line in monitor.BackendFor(computing.Kind).ReadLogsAsync(computing, task.BackendId, tail, follow, ct))
        {
            yield return line;
        }
    }

    private static string Printable(string text) =>
        new(text.Take(60).Select(c => char.IsControl(c) ? '?' : c).ToArray());
}
