using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Rosetta.Core.Backends;
using Rosetta.Core.Domain;
using Rosetta.Core.Validation;

namespace Rosetta.Core.Monitoring;

public sealed partial class TaskMonitor
{
    /// <summary>Launches in progress, so a stop can cancel one and reconciliation leaves it alone.</summary>
    private readonly ConcurrentDictionary<string, Launch> _launches = new();
    /// <summary>Why a task is being stopped by the platform itself (walltime), when it is not a person.</summary>
    private readonly ConcurrentDictionary<string, string> _platformStopReasons = new();

    /// <summary>Starts the platform gave up on (interface never answered) while it stops their containers.</summary>
    private readonly ConcurrentDictionary<string, byte> _abandonedStarts = new();

    private sealed record Launch(CancellationTokenSource Cancellation, Task Completion);

    /// <summary>
    /// Starts the task in the background: container start, then the wait for its interface. Returns
    /// at once; progress arrives on the feed.
    /// </summary>
    public void BeginLaunch(TaskRecord task, ComputingResource computing, Software software, string? secret)
    {
        var cancellation = CancellationTokenSource.CreateLinkedTokenSource(_shutdown.Token);
        var ready = new TaskCompletionSource();
        var completion = Task.Run(async () =>
        {
            await ready.Task;
            try
            {
                await LaunchAsync(task.Id, computing, software, secret, cancellation.Token);
            }
            finally
            {
                _launches.TryRemove(task.Id, out _);
                cancellation.Dispose();
            }
        });
        _launches[task.Id] = new Launch(cancellation, completion);
        EnsureWatching(computing); // after the launch is registered, so the first reconciliation leaves it alone
        ready.SetResult();
    }

    private async Task LaunchAsync(string taskId, ComputingResource computing, Software software, string? secret, CancellationToken ct)
    {
        var task = await UpdateAsync(taskId, t =>
        {
            if (t.Status != TaskState.Created) return false;
            t.Status = TaskState.Starting;
            t.StatusDetail = "Preparing the container";
            return true;
        }, ct);
        if (task is null || task.Status != TaskState.Starting) return;

        LaunchResult result;
        var progress = new DetailProgress(this, taskId);
        try
        {
            var backend = BackendFor(computing.Kind);
            var binds = await storages.BindsForAsync(task.OwnerId, computing, ct);
            var spec = ContainerSpecFactory.Create(task, software, identity.InstanceId, secret, binds);
            result = await backend.LaunchAsync(new LaunchRequest(task.Id, task.OwnerId, computing, spec), progress, ct);
        }
        catch (Exception) when (ct.IsCancellationRequested)
        {
            // Stopped by a person or the platform is shutting down; the stop path takes over. Whatever
            // the cancelled step threw (an engine cut off mid-pull may say "unavailable") is not a failure.
            return;
        }
        catch (LaunchFailedException e)
        {
            if (e.BackendId is { } made) await UpdateAsync(taskId, t => { t.BackendId ??= made; return true; }, CancellationToken.None);
            await FailAsync(taskId, e.Message, withLogsFrom: computing, exitCode: e.ExitCode);
            return;
        }
        catch (BackendUnavailableException e)
        {
            await FailAsync(taskId, e.Message, withLogsFrom: null);
            return;
        }
        catch (Exception e)
        {
            logger.LogError(e, "Launch of task {TaskId} failed unexpectedly", taskId);
            await FailAsync(taskId, $"The platform could not start the task: {e.Message}", withLogsFrom: computing);
            return;
        }

        await progress.SettledAsync(); // a late "queued" must not land after the result below
        var started = await UpdateAsync(taskId, t =>
        {
            t.BackendId = result.BackendId;
            t.ImageDigest = result.ImageDigest;
            t.InterfaceHost = result.Endpoint.Host;
            t.InterfacePort = result.Endpoint.Port;
            if (t.Status is TaskState.Starting or TaskState.Queued)
            {
                t.Status = TaskState.Starting;
                t.StatusDetail = result.Warning is { } warning ? $"Waiting for the interface to answer. {warning}" : "Waiting for the interface to answer";
            }
            return true;
        }, CancellationToken.None);
        if (started is not null) RememberInterface(taskId, result.Endpoint);
        if (started?.Status == TaskState.Starting)
        {
            // Time spent in a batch queue does not count against the start timeout.
            await WaitForInterfaceAsync(started, computing, software, ct, since: progress.WasQueued ? DateTime.UtcNow : null, runningDetail: result.Warning);
        }
    }

    /// <summary>
    /// Probes the interface until it answers, the task leaves <c>starting</c>, or the start timeout.
    /// <paramref name="runningDetail"/>: the launch's warning, kept as the running task's detail.
    /// </summary>
    private async Task WaitForInterfaceAsync(TaskRecord task, ComputingResource computing, Software software, CancellationToken ct,
        DateTime? since = null, string? runningDetail = null)
    {
        var endpoint = new TaskEndpoint(task.InterfaceHost!, task.InterfacePort!.Value);
        var path = software.BasePathEnv is null ? "/" : ContainerSpecFactory.ProxyPath(task.Id);
        var deadline = (since ?? task.CreatedAt).AddSeconds(_options.StartTimeoutSeconds);
        if (deadline < DateTime.UtcNow.AddSeconds(5)) deadline = DateTime.UtcNow.AddSeconds(5); // re-adopted after a long outage
        var interval = TimeSpan.FromMilliseconds(_options.ProbeIntervalMilliseconds);

        while (!ct.IsCancellationRequested)
        {
            if (Get(task.Id)?.Status != TaskState.Starting) return; // exited, failed or stopped meanwhile
            if (await probe.AnswersAsync(endpoint, task.InterfaceProtocol, path, ct))
            {
                await UpdateAsync(task.Id, t =>
                {
                    if (t.Status != TaskState.Starting) return false;
                    t.Status = TaskState.Running;
                    t.StatusDetail = runningDetail;
                    t.StartedAt = DateTime.UtcNow;
                    return true;
                }, CancellationToken.None);
                return;
            }
            if (DateTime.UtcNow > deadline)
            {
                // Stopped first, so that a task seen 'failed' holds no resources any more; the engine's
                // "died" event for this stop is the platform's own doing and must not be read as an exit.
                _abandonedStarts.TryAdd(task.Id, 0);
                try
                {
                    await StopContainerQuietlyAsync(computing, task);
                    var seconds = _options.StartTimeoutSeconds;
                    await FailAsync(task.Id, $"The interface did not answer on port {software.InterfacePort} within {seconds} s; the container was stopped.", withLogsFrom: computing);
                }
                finally
                {
                    _abandonedStarts.TryRemove(task.Id, out _);
                }
                return;
            }
            try
            {
                await Task.Delay(interval, ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Stops a task: cancels a launch in progress, stops the container, and records <c>stopped</c>
    /// (or <c>exited</c> when the platform stopped it for its walltime).
    /// </summary>
    public async Task StopAsync(string taskId, CancellationToken ct)
    {
        var task = await UpdateAsync(taskId, t =>
        {
            if (t.Status.IsFinal() || t.Status == TaskState.Stopping) return false;
            t.Status = TaskState.Stopping;
            t.StatusDetail = _platformStopReasons.TryGetValue(taskId, out var reason) ? reason : "Stop requested";
            return true;
        }, ct);
        if (task is null || task.Status != TaskState.Stopping) return;

        if (_launches.TryGetValue(taskId, out var launch))
        {
            try
            {
                await launch.Cancellation.CancelAsync();
            }
            catch (ObjectDisposedException)
            {
                // The launch finished between the look and the cancel.
            }
            await launch.Completion.WaitAsync(TimeSpan.FromSeconds(30), CancellationToken.None).ContinueWith(_ => { }, TaskScheduler.Default);
            task = Get(taskId) ?? task;
        }

        var computing = await FindComputingAsync(task.ComputingId, CancellationToken.None);
        if (computing is not null)
        {
            try
            {
                await BackendFor(computing.Kind).StopAsync(computing, BackendHandle(task), CancellationToken.None);
            }
            catch (BackendUnavailableException e)
            {
                // The task stays 'stopping'; reconciliation finishes the stop when the engine is back.
                await UpdateAsync(taskId, t => { t.StatusDetail = e.Message; return true; });
                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Stops run in the background: what went wrong goes on the task, and stopping again retries.
                logger.LogError(e, "Stopping task {TaskId} failed", taskId);
                await UpdateAsync(taskId, t => { t.StatusDetail = $"The stop failed: {e.Message} Stop the task again to retry."; return true; });
                return;
            }
        }
        await MarkStoppedAsync(taskId, exitCode: null);
    }

    private Task MarkStoppedAsync(string taskId, int? exitCode) => UpdateAsync(taskId, t =>
    {
        if (t.Status.IsFinal()) return false;
        if (_platformStopReasons.TryRemove(taskId, out var reason))
        {
            t.Status = TaskState.Exited;
            t.Error = reason;
        }
        else
        {
            t.Status = TaskState.Stopped;
        }
        t.ExitCode = exitCode ?? t.ExitCode;
        t.StatusDetail = null;
        return true;
    });

    private async Task FailAsync(string taskId, string error, ComputingResource? withLogsFrom, int? exitCode = null)
    {
        var task = Get(taskId);
        if (task is null || task.Status.IsFinal()) return;
        var logs = withLogsFrom is null ? null : await LastLinesAsync(withLogsFrom, task);
        await UpdateAsync(taskId, t =>
        {
            if (t.Status.IsFinal()) return false;
            t.Status = TaskState.Failed;
            t.StatusDetail = null;
            t.ExitCode = exitCode ?? t.ExitCode;
            t.Error = logs is null ? error : $"{error}\nLast output:\n{logs}";
            return true;
        });
    }

    /// <summary>The container's last output lines, for a task's error; null when there is none.</summary>
    /// <remarks>
    /// The engine may report a container's death before its log copier has written the last lines,
    /// so an empty answer is asked again a few times before it is believed.
    /// </remarks>
    private async Task<string?> LastLinesAsync(ComputingResource computing, TaskRecord task)
    {
        for (var attempt = 0; attempt < 4; attempt++)
        {
            if (attempt > 0) await Task.Delay(TimeSpan.FromMilliseconds(250 * attempt));
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
                var lines = new List<string>();
                await foreach (var line in BackendFor(computing.Kind).ReadLogsAsync(computing, BackendHandle(task), _options.ErrorLogLines, follow: false, timeout.Token))
                {
                    lines.Add(line.Text);
                }
                if (lines.Count > 0) return string.Join('\n', lines);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                logger.LogDebug(e, "No logs for task {TaskId}", task.Id);
            }
        }
        return null;
    }

    private async Task StopContainerQuietlyAsync(ComputingResource computing, TaskRecord task)
    {
        try
        {
            await BackendFor(computing.Kind).StopAsync(computing, BackendHandle(task), CancellationToken.None);
        }
        catch (Exception e) when (e is BackendUnavailableException or LaunchFailedException)
        {
            logger.LogWarning(e, "Could not stop the container of task {TaskId}", task.Id);
        }
    }

    /// <summary>
    /// Stops running tasks whose walltime has passed. Not Slurm jobs: their walltime is the job's
    /// time limit (<c>--time</c>), which the scheduler enforces from its own start time, with its
    /// administrator's grace, and reports as <c>TIMEOUT</c>.
    /// </summary>
    private async Task WalltimeLoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(_options.WalltimeCheckSeconds));
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                foreach (var task in Feed.Items.Values)
                {
                    if (task.Status != TaskState.Running || task.StartedAt is not { } started) continue;
                    if (!ResourceQuantities.TryParseWalltime(task.Options.Walltime, out var walltime)) continue;
                    if (_computingKinds.GetValueOrDefault(task.ComputingId) == ComputingKind.Slurm) continue;
                    if (DateTime.UtcNow - started < walltime) continue;
                    _platformStopReasons[task.Id] = $"The walltime of {task.Options.Walltime} was reached; the platform stopped the task.";
                    _ = StopAsync(task.Id, CancellationToken.None);
                }
                await RetryForgottenAsync(ct);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// Shows progress (image pull, container start) on the task, at most four times a second; for a
    /// batch job also records its id at once and moves the task between <c>queued</c> and <c>starting</c>.
    /// </summary>
    private sealed class DetailProgress(TaskMonitor monitor, string taskId) : IBatchLaunchProgress
    {
        private DateTime _last = DateTime.MinValue;

        /// <summary>True once the task waited in a batch queue.</summary>
        public bool WasQueued { get; private set; }

        public async Task SubmittedAsync(string backendId, CancellationToken ct) =>
            await monitor.UpdateAsync(taskId, t => { t.BackendId = backendId; return true; }, ct);

        /// <summary>The last queued/starting update, so the launch's own result is never overtaken by it.</summary>
        private Task _lastStateUpdate = Task.CompletedTask;

        public void Queued(string reason)
        {
            WasQueued = true;
            _lastStateUpdate = monitor.UpdateAsync(taskId, t =>
            {
                if (t.Status is not (TaskState.Starting or TaskState.Queued)) return false;
                t.Status = TaskState.Queued;
                t.StatusDetail = reason;
                return true;
            });
        }

        public void Starting(string detail) => _lastStateUpdate = monitor.UpdateAsync(taskId, t =>
        {
            if (t.Status is not (TaskState.Starting or TaskState.Queued)) return false;
            t.Status = TaskState.Starting;
            t.StatusDetail = detail;
            return true;
        });

        /// <summary>Waits for the last queued/starting update to be applied.</summary>
        public Task SettledAsync() => _lastStateUpdate.ContinueWith(_ => { }, TaskScheduler.Default);

        public void Report(string value)
        {
            var now = DateTime.UtcNow;
            if (now - _last < TimeSpan.FromMilliseconds(250)) return;
            _last = now;
            _ = monitor.UpdateAsync(taskId, t =>
            {
                if (t.Status != TaskState.Starting) return false;
                t.StatusDetail = value.Length > 300 ? value[..300] : value;
                return true;
            });
        }
    }
}
