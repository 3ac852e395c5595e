using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Rosetta.Core.Backends;
using Rosetta.Core.Domain;
using Rosetta.Core.Persistence;
using Rosetta.Core.Security;
using Rosetta.Core.Streaming;
using Rosetta.Core.Validation;

namespace Rosetta.Core.Monitoring;

/// <summary>
/// The one owner of task state. Every status change — from a launch, a stop, an engine event or a
/// reconciliation — goes through <see cref="UpdateAsync"/>, which persists it and publishes it on
/// <see cref="Feed"/>. Pages, the API and the SignalR hub only read the feed.
/// </summary>
/// <remarks>
/// Items in the feed are snapshots: every update publishes a fresh copy of the task, and nobody
/// mutates a published copy. Updates of one task are serialized by a per-task lock.
/// </remarks>
public sealed partial class TaskMonitor(
    IDbContextFactory<RosettaDbContext> dbFactory,
    IEnumerable<ITaskBackend> backends,
    InterfaceProbe probe,
    TaskSecrets secrets,
    PlatformIdentity identity,
    Storages.StorageService storages,
    IOptions<TaskMonitorOptions> options,
    ILogger<TaskMonitor> logger) : BackgroundService
{
    private readonly TaskMonitorOptions _options = options.Value;
    private readonly Dictionary<ComputingKind, ITaskBackend> _backends = backends.ToDictionary(b => b.Kind);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new();
    private readonly ConcurrentDictionary<string, string> _unavailable = new();
    /// <summary>Resources whose last reconciliation succeeded: what "available" means.</summary>
    private readonly ConcurrentDictionary<string, bool> _reached = new();
    /// <summary>
    /// How the last connection test of a resource went (null reason: it answered), for resources no
    /// reconciliation has reached or found unreachable yet: what a person learned by testing shows as
    /// the resource's state until the monitor knows better.
    /// </summary>
    private readonly ConcurrentDictionary<string, (DateTime At, string? Failure)> _tested = new();
    private readonly TaskCompletionSource _loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    /// <summary>
    /// Cancelled when the monitor stops; every launch and watch loop is linked to it. The monitor's own,
    /// not BackgroundService's stopping token: that one reaches <see cref="ExecuteAsync"/> only when it runs,
    /// on another thread, and work begun in between (a launch right after start) was never called off, so
    /// the stop waited for ever on its watch loop. Never disposed: a request arriving during shutdown may
    /// still link to it, and it holds no timer or handle.
    /// </summary>
    private readonly CancellationTokenSource _shutdown = new();

    /// <summary>Every task, as last known.</summary>
    public ChangeFeed<TaskRecord> Feed { get; } = new(t => t.Id);

    /// <summary>True once tasks are loaded from the database and the API can serve them.</summary>
    public bool IsReady => _loaded.Task.IsCompletedSuccessfully;

    public TaskRecord? Get(string taskId) => Feed.TryGet(taskId, out var task) ? task : null;

    /// <summary>Tasks of one owner (all tasks for null), as a snapshot plus change stream.</summary>
    public Subscription<TaskRecord> Subscribe(string? ownerId, CancellationToken ct) =>
        Feed.Subscribe(ownerId is null ? null : t => t.OwnerId == ownerId, ct);

    /// <summary>
    /// A computing resource's state (<see cref="StateOf"/>) may have changed: reached, lost, tested, being connected to,
    /// forgotten. Raised on the monitor's threads; a page redraws off them.
    /// </summary>
    public event Action<string>? ComputingStateChanged;

    private void OnComputingStateChanged(string computingId)
    {
        try
        {
            ComputingStateChanged?.Invoke(computingId);
        }
        catch (Exception e)
        {
            logger.LogError(e, "A listener of computing resource {ComputingId}'s state failed", computingId);
        }
    }

    /// <summary>Why a computing resource cannot be used right now, or null when it can.</summary>
    public string? UnavailableReason(string computingId) => _unavailable.TryGetValue(computingId, out var reason) ? reason : null;

    /// <summary>
    /// What the platform knows of <paramref name="computing"/>, and why when it is not available. The
    /// local engine is followed from start-up, a remote resource from its first task; it is
    /// <see cref="ComputingState.Available"/> once a reconciliation with it succeeded, and
    /// <see cref="ComputingState.Unknown"/> before (not tried yet, or being reached now).
    /// </summary>
    public (ComputingState State, string? Reason) StateOf(ComputingResource computing)
    {
        if (!Supports(computing.Kind)) return (ComputingState.Unreachable, $"{computing.Kind} resources are not supported by this installation yet.");
        if (UnavailableReason(computing.Id) is { } down) return (ComputingState.Unreachable, down);
        if (_reached.ContainsKey(computing.Id)) return (ComputingState.Available, null);
        if (_tested.TryGetValue(computing.Id, out var test))
            return test.Failure is null
                ? (ComputingState.Available, null)
                : (ComputingState.Unreachable, $"The connection test at {test.At:HH:mm} UTC failed: {test.Failure.TrimEnd('.')}. Test it again once that is mended.");
        lock (_watchers)
        {
            if (_watchers.ContainsKey(computing.Id)) return (ComputingState.Unknown, "Connecting: the platform is reaching it now.");
        }
        return (ComputingState.Unknown, "Not connected yet: the platform connects when the first task starts here. " +
            $"A connection test checks it now (the Computing page's Test connection, or POST /api/v1/computing/{computing.Id}/test).");
    }

    /// <summary>
    /// Connects to <paramref name="computing"/> now and says what answered; the outcome becomes the
    /// resource's state until a reconciliation with it tells more (<see cref="StateOf"/>).
    /// </summary>
    /// <exception cref="BackendUnavailableException">It cannot be reached or used; the message says why.</exception>
    public async Task<string> TestConnectionAsync(ComputingResource computing, CancellationToken ct)
    {
        try
        {
            var answer = await BackendFor(computing.Kind).TestConnectionAsync(computing, ct);
            _tested[computing.Id] = (DateTime.UtcNow, null);
            OnComputingStateChanged(computing.Id);
            return answer;
        }
        catch (BackendUnavailableException e)
        {
            _tested[computing.Id] = (DateTime.UtcNow, e.Message);
            OnComputingStateChanged(computing.Id);
            throw;
        }
    }

    /// <summary>Whether this installation has a backend for computing resources of this kind.</summary>
    public bool Supports(ComputingKind kind) => _backends.ContainsKey(kind);

    public ITaskBackend BackendFor(ComputingKind kind) =>
        _backends.TryGetValue(kind, out var backend) ? backend : throw new BackendUnavailableException($"Computing resources of kind '{kind.ToString().ToLowerInvariant()}' are not supported by this installation yet.");

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await LoadAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await _shutdown.CancelAsync().ConfigureAwait(false);
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        // Waited here too: the host runs ExecuteAsync on the thread pool, and a stop that comes before it ran cancels
        // it unstarted; the watch loops a launch began meanwhile would then be left running after the stop.
        await WatchLoopsEndedAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Done when every watch loop running now has ended (they end with the monitor's shutdown).</summary>
    private Task WatchLoopsEndedAsync()
    {
        lock (_watchers) return Task.WhenAll([.. _watchers.Values]);
    }

    /// <summary>Disposed without a stop (a host whose start failed after this one's): what it began ends all the same.</summary>
    public override void Dispose()
    {
        _shutdown.Cancel();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            foreach (var computing in await WatchedComputingAsync(_shutdown.Token)) EnsureWatching(computing);
            await WalltimeLoopAsync(_shutdown.Token);
        }
        catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
        {
            // Stopped before every loop was started: those already running (a launch's) are waited for all the same.
        }
        await WatchLoopsEndedAsync();
    }

    /// <summary>One watch loop per computing resource, started when the resource first matters.</summary>
    private readonly Dictionary<string, Task> _watchers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _watchEnds = new(StringComparer.Ordinal);
    /// <summary>The kind of each watched computing resource (a Slurm cluster enforces walltimes itself).</summary>
    private readonly ConcurrentDictionary<string, ComputingKind> _computingKinds = new(StringComparer.Ordinal);

    /// <summary>
    /// Follows <paramref name="computing"/> from now on: the local engine from start-up, a remote
    /// resource from its first task (or from start-up when it has tasks that are not finished).
    /// </summary>
    private void EnsureWatching(ComputingResource computing)
    {
        if (!Supports(computing.Kind)) return;
        _computingKinds[computing.Id] = computing.Kind;
        lock (_watchers)
        {
            if (_watchers.ContainsKey(computing.Id) || _shutdown.IsCancellationRequested) return;
            var end = _watchEnds[computing.Id] = CancellationTokenSource.CreateLinkedTokenSource(_shutdown.Token);
            _watchers[computing.Id] = Task.Run(() => WatchLoopAsync(computing, end.Token), CancellationToken.None);
        }
        OnComputingStateChanged(computing.Id); // connecting now
    }

    /// <summary>A computing resource was removed: its watch loop ends, and nothing is remembered about it.</summary>
    public void Forget(string computingId)
    {
        lock (_watchers) _watchers.Remove(computingId);
        if (_watchEnds.TryRemove(computingId, out var end)) end.Cancel();
        _unavailable.TryRemove(computingId, out _);
        _reached.TryRemove(computingId, out _);
        _tested.TryRemove(computingId, out _);
        _computingKinds.TryRemove(computingId, out _);
        OnComputingStateChanged(computingId);
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var tasks = await db.Tasks.AsNoTracking().ToListAsync(ct);
        foreach (var task in tasks) Feed.Upsert(task);
        _loaded.TrySetResult();
        logger.LogInformation("Loaded {TaskCount} tasks", tasks.Count);
    }

    /// <summary>Persists a new task and publishes it.</summary>
    /// <exception cref="ValidationException">Its computing resource or software was removed after the caller looked it up.</exception>
    public async Task<TaskRecord> AddAsync(TaskRecord task, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using (var write = await db.BeginWriteAsync(ct))
        {
            // Checked under the write lock, so a removal of the resource (ComputingService.DeleteAsync) cannot slip in before the insert.
            if (!await db.Computing.AnyAsync(c => c.Id == task.ComputingId, ct))
                throw ValidationException.For("computing", $"'{task.ComputingId}' was removed while the task was being created; choose another computing resource.");
            if (!await db.Software.AnyAsync(s => s.Id == task.SoftwareId, ct))
                throw ValidationException.For("software", $"'{task.SoftwareId}' was removed from the catalogue while the task was being created; choose other software.");
            // And the owner: an account disabled (or being deleted) since its request was let in gets no task.
            if (!await db.Users.AnyAsync(u => u.Id == task.OwnerId && !u.IsDisabled, ct))
                throw new ConflictException("The account was disabled while the task was being created.");
            // Under the same lock: requests sent at once cannot each see room for one more.
            if (_options.MaxActivePerUser > 0)
            {
                var active = await db.Tasks.CountAsync(t => t.OwnerId == task.OwnerId && !TaskStateExtensions.FinalStates.Contains(t.Status), ct);
                if (LimitMessage(active) is { } reached) throw new ConflictException(reached);
            }
            db.Tasks.Add(task);
            await db.SaveChangesAsync(ct);
            await write.CommitAsync(ct);
        }
        var snapshot = task.Clone();
        Feed.Upsert(snapshot);
        return snapshot;
    }

    /// <summary>Whether <see cref="TaskMonitorOptions.MaxActivePerUser"/> limits anyone (pages follow the count only then).</summary>
    public bool LimitsTasksPerUser => _options.MaxActivePerUser > 0;

    /// <summary>
    /// What stops the user from starting another task now (<see cref="TaskMonitorOptions.MaxActivePerUser"/>),
    /// or null; for pages to say so before the user fills in a task. <see cref="AddAsync"/> decides.
    /// </summary>
    public string? TaskLimitReached(string ownerId) => _options.MaxActivePerUser > 0 ? LimitMessage(ActiveTasksOf(ownerId)) : null;

    /// <summary>How many of the user's tasks have not ended, as the monitor knows them now.</summary>
    public int ActiveTasksOf(string ownerId) => Feed.Items.Values.Count(t => t.OwnerId == ownerId && t.Status.IsActive());

    /// <summary>Per user with any, how many of their tasks have not ended (one pass, for lists of users).</summary>
    public Dictionary<string, int> ActiveTasksByOwner() =>
        Feed.Items.Values.Where(t => t.Status.IsActive()).CountBy(t => t.OwnerId).ToDictionary(StringComparer.Ordinal);

    private string? LimitMessage(int active) => active >= _options.MaxActivePerUser
        ? $"You have {active} {(active == 1 ? "task that has" : "tasks that have")} not ended; one user may have at most {_options.MaxActivePerUser} on this platform: stop one (or wait for one to end), then start another."
        : null;

    /// <summary>
    /// Applies <paramref name="mutate"/> to a copy of the task, persists and publishes it. The
    /// mutation returns false to leave the task as it is. Returns the task as it is afterwards, or
    /// null when it no longer exists.
    /// </summary>
    public async Task<TaskRecord?> UpdateAsync(string taskId, Func<TaskRecord, bool> mutate, CancellationToken ct = default)
    {
        var gate = _locks.GetOrAdd(taskId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            if (!Feed.TryGet(taskId, out var current)) return null;
            var next = current.Clone();
            if (!mutate(next)) return current;
            next.UpdatedAt = DateTime.UtcNow;
            if (next.Status.IsFinal()) next.EndedAt ??= next.UpdatedAt;

            await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
            db.Tasks.Update(next);
            try
            {
                await db.SaveChangesAsync(CancellationToken.None);
            }
            catch (DbUpdateConcurrencyException)
            {
                return null; // Deleted meanwhile.
            }
            Feed.Upsert(next.Clone());
            if (next.Status != current.Status)
                logger.LogInformation("Task {TaskId} {From} -> {To}", taskId, current.Status.ToWire(), next.Status.ToWire());
            return next;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Tasks being deleted: the engine's "destroy" of their container is the platform's own doing.</summary>
    private readonly ConcurrentDictionary<string, byte> _removing = new();

    /// <summary>How long a removal that goes on without the resource tries to reach it first (beyond an SSH connect timeout).</summary>
    private static readonly TimeSpan ForgetWait = TimeSpan.FromSeconds(15);

    /// <summary>Removes a finished task's container and row.</summary>
    /// <param name="evenUnreachable">
    /// The row goes even when the resource cannot be reached to remove the container: the container is recorded
    /// (<see cref="ForgottenContainer"/>) and removed once the resource answers again (<see cref="RemoveForgottenAsync"/>).
    /// </param>
    /// <exception cref="BackendUnavailableException">The resource cannot be reached (unless <paramref name="evenUnreachable"/>).</exception>
    public async Task RemoveAsync(TaskRecord task, CancellationToken ct, bool evenUnreachable = false)
    {
        _removing[task.Id] = 0;
        try
        {
            var computing = await FindComputingAsync(task.ComputingId, ct);
            ForgottenContainer? forgotten = null;
            if (computing is not null)
            {
                try
                {
                    using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    if (evenUnreachable) limit.CancelAfter(ForgetWait);
                    await BackendFor(computing.Kind).RemoveAsync(computing, task.Id, BackendHandle(task), limit.Token);
                }
                catch (Exception e) when (evenUnreachable && !ct.IsCancellationRequested && e is BackendUnavailableException or OperationCanceledException)
                {
                    logger.LogWarning("Task {TaskId} forgotten while {Computing} cannot be reached; its container goes when it answers: {Reason}",
                        task.Id, computing.Id, e.Message);
                    forgotten = new ForgottenContainer { TaskId = task.Id, ComputingId = computing.Id };
                }
            }
            // Under the task's lock: an update saved just before the row goes must not publish it again after.
            var gate = _locks.GetOrAdd(task.Id, _ => new SemaphoreSlim(1, 1));
            await gate.WaitAsync(ct);
            try
            {
                await using var db = await dbFactory.CreateDbContextAsync(ct);
                await using (var write = await db.BeginWriteAsync(ct))
                {
                    // Only by the delete that took the row: a second one at the same time finds nothing to record.
                    if (await db.Tasks.Where(t => t.Id == task.Id).ExecuteDeleteAsync(ct) == 1 && forgotten is not null)
                    {
                        db.ForgottenContainers.Add(forgotten);
                        await db.SaveChangesAsync(ct);
                    }
                    await write.CommitAsync(ct);
                }
                Feed.Delete(task.Id);
                if (forgotten is not null && computing is not null) EnsureWatching(computing); // so it is seen answering again
            }
            finally
            {
                gate.Release();
            }
            _locks.TryRemove(task.Id, out _);
            _secrets.TryRemove(task.Id, out _);
            _interfaces.TryRemove(task.Id, out _);
        }
        finally
        {
            _removing.TryRemove(task.Id, out _);
        }
    }

    private readonly ConcurrentDictionary<string, string> _secrets = new();

    /// <summary>
    /// The interface secret of a task, decrypted; null when its software has none. Kept decrypted in
    /// memory after first use because the proxy needs it on every request.
    /// </summary>
    public string? SecretOf(TaskRecord task)
    {
        if (task.ProtectedSecret is not { } p) return null;
        var secret = _secrets.GetOrAdd(task.Id, _ => secrets.Unprotect(p));
        // Not kept for a task deleted meanwhile (a request in flight as it goes): its deletion may have cleared the
        // cache between the two lines, as it does after the task left the feed.
        if (!Feed.TryGet(task.Id, out _)) _secrets.TryRemove(task.Id, out _);
        return secret;
    }

    /// <summary>Where this process has reached each task's interface: set by its launch, or by a reconciliation that found it.</summary>
    private readonly ConcurrentDictionary<string, TaskEndpoint> _interfaces = new(StringComparer.Ordinal);

    /// <summary>
    /// Where the proxy and the port forwarding reach a running task's interface; null when the task is not running,
    /// or when this process has not yet seen where it is. A record saved by an earlier run names an address that may
    /// belong to someone else now: an SSH tunnel's port is gone with that process and may be another task's tunnel or
    /// published port, and requests there would carry the task's interface secret. So until the task's resource has
    /// been reconciled (or the task launched) in this process, its interface is not served.
    /// </summary>
    public TaskEndpoint? InterfaceOf(TaskRecord task) =>
        task.Status == TaskState.Running && _interfaces.TryGetValue(task.Id, out var endpoint) ? endpoint : null;

    /// <summary>
    /// Notes where this process reaches a task's interface. A deletion removes the entry after the task left the feed;
    /// one noted just after that removal is taken back here, so a deleted task's entry is never kept.
    /// </summary>
    private void RememberInterface(string taskId, TaskEndpoint endpoint)
    {
        _interfaces[taskId] = endpoint;
        if (!Feed.TryGet(taskId, out _)) _interfaces.TryRemove(taskId, out _);
    }

    private async Task<ComputingResource?> FindComputingAsync(string computingId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Computing.AsNoTracking().FirstOrDefaultAsync(c => c.Id == computingId, ct);
    }

    private async Task<Software?> FindSoftwareAsync(string softwareId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Software.AsNoTracking().FirstOrDefaultAsync(s => s.Id == softwareId, ct);
    }

    /// <summary>The backend's handle for a task: its container id, or the name derived from the task id
    /// while the id is not known yet (a launch interrupted between create and record).</summary>
    private static string BackendHandle(TaskRecord task) => task.BackendId ?? ContainerSpecFactory.ContainerName(task.Id);
}
