using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Rosetta.Core.Backends;
using Rosetta.Core.Domain;

namespace Rosetta.Core.Monitoring;

public sealed partial class TaskMonitor
{
    /// <summary>
    /// Follows one engine's events for as long as the platform runs. Each (re)connection starts with
    /// a reconciliation, and the event stream replays everything since just before it, so no change
    /// is missed across an engine outage. While the engine is away, tasks keep their last known state.
    /// </summary>
    private async Task WatchLoopAsync(ComputingResource computing, CancellationToken ct)
    {
        var delay = TimeSpan.FromSeconds(0.5);
        var backend = BackendFor(computing.Kind);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var since = DateTimeOffset.UtcNow.AddSeconds(-1);
                await ReconcileAsync(computing, ct);
                _reached[computing.Id] = true;
                _tested.TryRemove(computing.Id, out _); // the monitor knows better now
                if (_unavailable.TryRemove(computing.Id, out _))
                    logger.LogInformation("Computing resource {ComputingId} is reachable again", computing.Id);
                OnComputingStateChanged(computing.Id);
                delay = TimeSpan.FromSeconds(0.5);
                await foreach (var containerEvent in backend.WatchAsync(computing, since, ct))
                {
                    await HandleEventAsync(computing, containerEvent);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (BackendUnavailableException e)
            {
                _reached.TryRemove(computing.Id, out _);
                _tested.TryRemove(computing.Id, out _);
                if (_unavailable.TryAdd(computing.Id, e.Message))
                    logger.LogWarning("Computing resource {ComputingId} is unreachable: {Reason}", computing.Id, e.Message);
                else
                    _unavailable[computing.Id] = e.Message;
                OnComputingStateChanged(computing.Id);
            }
            catch (Exception e)
            {
                _reached.TryRemove(computing.Id, out _); // not known to be reached any more: "unknown" until the next reconciliation
                logger.LogError(e, "Watching computing resource {ComputingId} failed", computing.Id);
                OnComputingStateChanged(computing.Id);
            }

            using (var wake = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                _wakes[computing.Id] = wake;
                try
                {
                    await Task.Delay(delay, wake.Token);
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    return;
                }
                catch (OperationCanceledException)
                {
                    delay = TimeSpan.FromSeconds(0.25); // woken (RetryNow): tried at once, backing off from the start
                }
                finally
                {
                    _wakes.TryRemove(KeyValuePair.Create(computing.Id, wake));
                }
            }
            delay = TimeSpan.FromSeconds(Math.Min(delay.TotalSeconds * 2, _options.MaxReconnectDelaySeconds));
        }
    }

    /// <summary>The pause of each watch loop waiting to try its resource again (<see cref="RetryNow"/>).</summary>
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _wakes = new(StringComparer.Ordinal);

    /// <summary>
    /// Something that kept the resource from being reached was mended (a new host key was trusted): its watch loop
    /// tries again now rather than at the end of its back-off, so the resource's state follows within a moment.
    /// </summary>
    public void RetryNow(string computingId)
    {
        if (_wakes.TryGetValue(computingId, out var wake))
        {
            try
            {
                wake.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The loop went on meanwhile.
            }
        }
    }

    private const string OutOfMemory = "The container ran out of memory and was killed.";
    private const string RemovedOutside = "The container was removed outside the platform; its output is gone.";

    internal async Task HandleEventAsync(ComputingResource computing, ContainerEvent containerEvent)
    {
        logger.LogDebug("Engine event {Kind} for task {TaskId}", containerEvent.Kind, containerEvent.TaskId);
        var task = Get(containerEvent.TaskId);
        if (task is null || task.ComputingId != computing.Id) return;
        // A stale event about an older container of the same task (not possible today: one container per task).
        if (task.BackendId is { } known && known != containerEvent.BackendId) return;

        switch (containerEvent.Kind)
        {
            case ContainerEventKind.Died:
                await ContainerEndedAsync(computing, task, containerEvent.ExitCode, oomKilled: false, detail: containerEvent.Detail);
                break;
            case ContainerEventKind.Queued when !_launches.ContainsKey(task.Id):
                await MarkQueuedAsync(task.Id, containerEvent.BackendId, containerEvent.Detail);
                break;
            case ContainerEventKind.Started when !_launches.ContainsKey(task.Id) && containerEvent.Endpoint is { } endpoint
                                               && task.Status is TaskState.Queued or TaskState.Starting or TaskState.Created:
                // A batch job re-adopted while queued (platform restart) has started: take it from here.
                await ReadoptAsync(computing, task, new ObservedContainer(task.Id, containerEvent.BackendId, ContainerRunState.Running,
                    null, endpoint, null, null), CancellationToken.None);
                break;
            case ContainerEventKind.OutOfMemory:
                await UpdateAsync(task.Id, t => { t.Error = OutOfMemory; return true; });
                break;
            case ContainerEventKind.Destroyed when _removing.ContainsKey(task.Id):
                break; // the platform's own removal, as it deletes the task
            case ContainerEventKind.Destroyed:
                // The platform removes containers only when it deletes the task, so this came from outside.
                if (!task.Status.IsFinal())
                    await FailAsync(task.Id, RemovedOutside, withLogsFrom: null);
                else
                    await UpdateAsync(task.Id, t =>
                    {
                        if (t.Error?.Contains(RemovedOutside) == true) return false;
                        t.Error = t.Error is null ? RemovedOutside : $"{t.Error}\n{RemovedOutside}";
                        return true;
                    });
                break;
            case ContainerEventKind.Started:
                break; // The launch path records a start itself; a restart by hand is seen by the next die.
        }
    }

    /// <summary>A container stopped running: decide between stopped, exited and failed.</summary>
    private async Task ContainerEndedAsync(ComputingResource computing, TaskRecord task, int? exitCode, bool oomKilled, string? detail = null)
    {
        if (_abandonedStarts.ContainsKey(task.Id)) return; // the platform stopped it and records why itself
        switch (task.Status)
        {
            case TaskState.Stopping:
                await MarkStoppedAsync(task.Id, exitCode);
                break;
            case TaskState.Created or TaskState.Starting:
                await FailAsync(task.Id, detail ?? $"The container exited with code {exitCode?.ToString() ?? "?"} before its interface answered.",
                    withLogsFrom: computing, exitCode: exitCode);
                break;
            case TaskState.Running or TaskState.Queued:
                // The new state is published at once; the engine may hold the log read back while it
                // finishes the kill, so the last output follows in a second update.
                var exited = await UpdateAsync(task.Id, t =>
                {
                    if (t.Status.IsFinal() || t.Status == TaskState.Stopping) return false;
                    t.Status = TaskState.Exited;
                    t.ExitCode = exitCode;
                    t.StatusDetail = null;
                    // The engine's "oom" event comes before its "die", whose exit code (137) says less.
                    oomKilled |= t.Error == OutOfMemory;
                    // A scheduler's account of the end (job state, reason) says more than the exit code alone.
                    t.Error = detail ?? (oomKilled ? OutOfMemory
                        : exitCode is 0 ? null : ExitedWith(exitCode));
                    return true;
                });
                if (exited?.Status != TaskState.Exited || (exitCode is 0 && detail is null) || exited.Error == OutOfMemory) break;
                var ending = detail ?? ExitedWith(exitCode);
                if (await LastLinesAsync(computing, task) is { } logs)
                    await UpdateAsync(task.Id, t => { t.Error = $"{ending}\nLast output:\n{logs}"; return true; });
                break;
        }
    }

    /// <summary>The end of a container whose code may be unknown (removed behind the platform's back before it was read).</summary>
    private static string ExitedWith(int? exitCode) =>
        exitCode is { } code ? $"The container exited with code {code}." : "The container ended; its exit code is unknown.";

    /// <summary>
    /// Brings the tasks of one computing resource in line with what its engine reports: dead
    /// containers become exited, vanished ones failed, running ones are re-adopted (endpoint
    /// refreshed, a start interrupted by a platform restart resumed), and nothing is started twice.
    /// </summary>
    public async Task ReconcileAsync(ComputingResource computing, CancellationToken ct)
    {
        var backend = BackendFor(computing.Kind);
        // The tasks as they were before the engine was asked: a listing can take seconds, and a task
        // launched or changed meanwhile is not in it although nothing is wrong with it. The events
        // replayed from before this call cover those tasks.
        var before = Feed.Items.Values
            .Where(t => t.ComputingId == computing.Id && !_launches.ContainsKey(t.Id))
            .ToList();
        var observed = (await backend.ListAsync(computing, ct)).ToDictionary(c => c.TaskId);
        // Where this process reaches each running interface (a tunnel's port is this process's own), also for a task
        // skipped below as changed during the listing: see InterfaceOf. Only for this resource's tasks: an engine may
        // be reached as more than one resource (the platform host's own, also through SSH), each with its own path.
        foreach (var running in observed.Values.Where(c => c.State == ContainerRunState.Running && c.Endpoint is not null))
        {
            if (Feed.TryGet(running.TaskId, out var task) && task.ComputingId == computing.Id) RememberInterface(running.TaskId, running.Endpoint!);
        }
        StopLeftovers(computing, before.Where(t => t.Status.IsFinal()), observed);
        _ = Task.Run(() => RemoveForgottenAsync(computing, observed, _shutdown.Token), CancellationToken.None);
        before.RemoveAll(t => t.Status.IsFinal());

        foreach (var listedTask in before)
        {
            // Changed (or deleted) during the listing: what it shows may be older than the change. But a stop that
            // failed meanwhile (its detail saying why) still waits for a reconciliation to finish it, and this one
            // may be the last before the engine's events take over: for a stopping task the listing still counts.
            var task = Get(listedTask.Id);
            if (task is null || !ReferenceEquals(task, listedTask) && task.Status != TaskState.Stopping) continue;
            if (_launches.ContainsKey(task.Id)) continue; // its launch is in progress in this process

            if (!observed.TryGetValue(task.Id, out var container))
            {
                var reason = task.Status == TaskState.Stopping ? null
                    : task.BackendId is null ? "The platform stopped before the task's container was created."
                    : "The task's container disappeared (it was removed outside the platform).";
                if (reason is null) await MarkStoppedAsync(task.Id, null);
                else await FailAsync(task.Id, reason, withLogsFrom: null);
                continue;
            }

            switch (container.State)
            {
                case ContainerRunState.Running:
                    await ReadoptAsync(computing, task, container, ct);
                    break;
                case ContainerRunState.Exited:
                    await ContainerEndedAsync(computing, task, container.ExitCode, oomKilled: container.Error?.Contains("memory") == true, detail: container.Detail);
                    break;
                case ContainerRunState.Queued when task.Status == TaskState.Stopping:
                    _ = Task.Run(() => FinishInterruptedStopAsync(computing, task), CancellationToken.None);
                    break;
                case ContainerRunState.Queued:
                    // A batch job still waiting (or starting on its node): it stays queued; its start is seen by the watcher.
                    await MarkQueuedAsync(task.Id, container.BackendId, container.Detail);
                    break;
                case ContainerRunState.Created:
                    // Created but never started: the platform died mid-launch. Do not start it behind the user's back.
                    await FailAsync(task.Id, "The platform restarted while the task was starting; start it again.", withLogsFrom: null);
                    await backend.RemoveAsync(computing, task.Id, container.BackendId, ct);
                    break;
            }
        }
    }

    private DateTime _forgottenRetried = DateTime.MinValue;

    /// <summary>Once a minute: the forgotten containers of every resource that answers are tried again.</summary>
    private async Task RetryForgottenAsync(CancellationToken ct)
    {
        if (DateTime.UtcNow - _forgottenRetried < TimeSpan.FromMinutes(1)) return;
        _forgottenRetried = DateTime.UtcNow;
        try
        {
            List<string> computingIds;
            await using (var db = await dbFactory.CreateDbContextAsync(ct))
                computingIds = await db.ForgottenContainers.Select(f => f.ComputingId).Distinct().ToListAsync(ct);
            foreach (var id in computingIds.Where(_reached.ContainsKey))
            {
                if (await FindComputingAsync(id, ct) is { } computing) _ = Task.Run(() => RemoveForgottenAsync(computing, observed: null, ct), CancellationToken.None);
            }
        }
        catch (Exception e) when (e is not (OutOfMemoryException or OperationCanceledException))
        {
            logger.LogWarning(e, "Could not look for the containers of deleted tasks");
        }
    }

    /// <summary>Resources whose forgotten containers are being removed now.</summary>
    private readonly ConcurrentDictionary<string, byte> _removingForgotten = new();

    /// <summary>
    /// Removes the containers (or jobs) of tasks deleted while their resource could not be reached
    /// (<see cref="ForgottenContainer"/>), on one resource that answers. After each reconciliation, and every minute
    /// with the walltimes (a resource reached again without a reconnection, a removal that failed once). Only what the
    /// engine lists as the forgotten task's is removed: a record whose container is gone is dropped, never used on a
    /// handle that may name something else by now (a reinstalled Slurm numbers its jobs from the start again).
    /// </summary>
    /// <param name="observed">The resource's listing, when the caller has one; else it is asked for.</param>
    private async Task RemoveForgottenAsync(ComputingResource computing, IReadOnlyDictionary<string, ObservedContainer>? observed, CancellationToken ct)
    {
        if (!_removingForgotten.TryAdd(computing.Id, 0)) return;
        try
        {
            List<ForgottenContainer> forgotten;
            await using (var db = await dbFactory.CreateDbContextAsync(ct))
                forgotten = await db.ForgottenContainers.AsNoTracking().Where(f => f.ComputingId == computing.Id).OrderBy(f => f.ForgottenAt).ToListAsync(ct);
            if (forgotten.Count == 0) return;
            var backend = BackendFor(computing.Kind);
            observed ??= (await backend.ListAsync(computing, ct)).ToDictionary(c => c.TaskId);
            foreach (var container in forgotten)
            {
                if (observed.TryGetValue(container.TaskId, out var listed))
                {
                    try
                    {
                        await backend.RemoveAsync(computing, container.TaskId, listed.BackendId, ct);
                        logger.LogInformation("Removed container {BackendId} of the deleted task {TaskId} from {Computing}", listed.BackendId, container.TaskId, computing.Id);
                    }
                    catch (BackendUnavailableException e)
                    {
                        logger.LogWarning("Could not remove container {BackendId} of the deleted task {TaskId} from {Computing} yet: {Reason}",
                            listed.BackendId, container.TaskId, computing.Id, e.Message);
                        return; // the resource went away again: the rest waits too
                    }
                    catch (Exception e) when (e is not (OutOfMemoryException or OperationCanceledException))
                    {
                        logger.LogWarning(e, "Could not remove container {BackendId} of the deleted task {TaskId} from {Computing}", listed.BackendId, container.TaskId, computing.Id);
                        continue; // this one is tried again; the others go on
                    }
                }
                await using var db = await dbFactory.CreateDbContextAsync(ct);
                await db.ForgottenContainers.Where(f => f.TaskId == container.TaskId).ExecuteDeleteAsync(ct);
            }
        }
        catch (BackendUnavailableException e)
        {
            logger.LogDebug("The containers of deleted tasks on {Computing} wait: {Reason}", computing.Id, e.Message);
        }
        catch (Exception e) when (e is not (OutOfMemoryException or OperationCanceledException))
        {
            logger.LogWarning(e, "Could not look for the containers of deleted tasks on {Computing}", computing.Id);
        }
        catch (OperationCanceledException)
        {
            // The platform is stopping.
        }
        finally
        {
            _removingForgotten.TryRemove(computing.Id, out _);
        }
    }

    /// <summary>
    /// Stops the containers (or jobs) still running for tasks that have ended: left by a launch whose
    /// connection dropped after the engine had started them, they would hold the host's resources with
    /// nobody to see them. In the background, so a slow stop does not hold up the reconciliation.
    /// </summary>
    private void StopLeftovers(ComputingResource computing, IEnumerable<TaskRecord> ended, IReadOnlyDictionary<string, ObservedContainer> observed)
    {
        foreach (var task in ended)
        {
            if (!observed.TryGetValue(task.Id, out var container) || container.State is not (ContainerRunState.Running or ContainerRunState.Queued)) continue;
            logger.LogWarning("Task {TaskId} is {Status} but its container {BackendId} still runs on {Computing}; stopping it",
                task.Id, task.Status, container.BackendId, computing.Id);
            _ = Task.Run(async () =>
            {
                try
                {
                    await BackendFor(computing.Kind).StopAsync(computing, container.BackendId, CancellationToken.None);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    logger.LogWarning(e, "The leftover container {BackendId} of task {TaskId} could not be stopped", container.BackendId, task.Id);
                }
            }, CancellationToken.None);
        }
    }

    /// <summary>A batch job waits in its queue: the task shows <c>queued</c> with the scheduler's reason.</summary>
    private Task MarkQueuedAsync(string taskId, string backendId, string? reason) => UpdateAsync(taskId, t =>
    {
        if (t.Status is not (TaskState.Created or TaskState.Starting or TaskState.Queued)) return false;
        if (t.Status == TaskState.Queued && t.StatusDetail == reason && t.BackendId == backendId) return false;
        t.BackendId = backendId;
        t.Status = TaskState.Queued;
        t.StatusDetail = reason;
        return true;
    });

    private async Task ReadoptAsync(ComputingResource computing, TaskRecord task, ObservedContainer container, CancellationToken ct)
    {
        var updated = await UpdateAsync(task.Id, t =>
        {
            var changed = t.BackendId != container.BackendId
                          || (container.Endpoint is { } seen && (t.InterfaceHost != seen.Host || t.InterfacePort != seen.Port));
            t.BackendId = container.BackendId;
            t.ImageDigest ??= container.ImageDigest;
            if (t.Status == TaskState.Queued)
            {
                // A batch job that was waiting has started: its interface is awaited like any start.
                t.Status = TaskState.Starting;
                t.StatusDetail = "Waiting for the interface to answer";
                changed = true;
            }
            if (container.Endpoint is { } endpoint)
            {
                t.InterfaceHost = endpoint.Host;
                t.InterfacePort = endpoint.Port;
            }
            return changed;
        }, ct);
        if (updated is null) return;
        if (container.Endpoint is { } found) RememberInterface(task.Id, found);

        if (updated.Status == TaskState.Stopping)
        {
            _ = Task.Run(() => FinishInterruptedStopAsync(computing, updated), CancellationToken.None);
        }
        else if (updated.Status is TaskState.Starting or TaskState.Created && updated.InterfacePort is not null)
        {
            var software = await FindSoftwareAsync(updated.SoftwareId, ct);
            if (software is null)
            {
                await FailAsync(updated.Id, $"Its software '{updated.SoftwareId}' was deleted.", withLogsFrom: null);
                return;
            }
            logger.LogInformation("Resuming the start of task {TaskId}", updated.Id);
            var cancellation = CancellationTokenSource.CreateLinkedTokenSource(_shutdown.Token);
            var registered = new TaskCompletionSource();
            var resumed = Task.Run(async () =>
            {
                await registered.Task; // its entry must exist before the finally below removes it
                // A batch job's wait in the queue does not count against the start timeout.
                var since = computing.Kind == ComputingKind.Slurm ? DateTime.UtcNow : (DateTime?)null;
                try { await WaitForInterfaceAsync(updated, computing, software, cancellation.Token, since); }
                finally { _launches.TryRemove(updated.Id, out _); cancellation.Dispose(); }
            }, CancellationToken.None);
            _launches[updated.Id] = new Launch(cancellation, resumed);
            registered.SetResult();
        }
    }

    private async Task FinishInterruptedStopAsync(ComputingResource computing, TaskRecord task)
    {
        try
        {
            await BackendFor(computing.Kind).StopAsync(computing, BackendHandle(task), CancellationToken.None);
            await MarkStoppedAsync(task.Id, null);
        }
        catch (BackendUnavailableException e)
        {
            logger.LogWarning("Stop of task {TaskId} waits for the engine: {Reason}", task.Id, e.Message);
        }
    }

    /// <summary>Computing resources to follow from start-up: the local engine, and every resource with unfinished tasks.</summary>
    private async Task<IReadOnlyList<ComputingResource>> WatchedComputingAsync(CancellationToken ct)
    {
        var active = Feed.Items.Values.Where(t => !t.Status.IsFinal()).Select(t => t.ComputingId).ToHashSet(StringComparer.Ordinal);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var all = await db.Computing.AsNoTracking().ToListAsync(ct);
        // And those holding containers of tasks deleted while they could not be reached, to remove once they answer.
        active.UnionWith(await db.ForgottenContainers.Select(f => f.ComputingId).Distinct().ToListAsync(ct));
        return all.Where(c => c.Kind == ComputingKind.Local || active.Contains(c.Id)).ToList();
    }
}
