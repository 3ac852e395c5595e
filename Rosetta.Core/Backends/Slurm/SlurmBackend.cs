using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Rosetta.Core.Backends.Cli;
using Rosetta.Core.Backends.Ssh;
using Rosetta.Core.Domain;
using Rosetta.Core.Persistence;
using Rosetta.Core.Remote;
using Rosetta.Core.Storages;
using Rosetta.Core.Validation;

namespace Rosetta.Core.Backends.Slurm;

/// <summary>
/// Runs tasks as Slurm batch jobs, through the cluster's login host over SSH (the same connection
/// pool as <see cref="SshBackend"/>). A task is one job: its script (<see cref="SlurmJobScript"/>)
/// starts the container on the node and reports <c>node:port</c> in the job's comment; the platform
/// reaches it through a tunnel from its 127.0.0.1 via the login host. The backend handle is the job id.
/// State comes from one <c>squeue</c> per cluster per interval, shared by the watcher and every
/// launch waiting for its job (plus <c>scontrol show job</c> once per ended job, for its exit code,
/// in the same cycle). Only a job just submitted, starting on its node or completing is looked at
/// more often; jobs waiting in the queue cost nothing beyond the interval's one listing.
/// </summary>
public sealed class SlurmBackend(SshConnectionPool pool, PlatformIdentity identity, IOptions<SlurmOptions> options,
    IOptions<StorageOptions> storageOptions, IDbContextFactory<RosettaDbContext> dbFactory, ILogger<SlurmBackend> logger) : ITaskBackend
{
    private readonly SlurmOptions _options = options.Value;
    /// <summary>Who must be able to write read-write storages in the job (Rosetta:Storage:OwnerUid/OwnerGid).</summary>
    private readonly TaskFileOwner _storageUser = storageOptions.Value.TaskFileOwner;
    private readonly ConcurrentDictionary<string, ComputingCapacity> _capacity = new();
    private readonly ConcurrentDictionary<string, ClusterView> _views = new();
    private readonly Dictionary<string, Task<ClusterView>> _listings = new();
    /// <summary>Completes when the next listing of a cluster is in; replaced by each listing.</summary>
    private readonly ConcurrentDictionary<string, TaskCompletionSource<ClusterView>> _nextView = new();
    private readonly ConcurrentDictionary<string, long> _listingCounts = new();
    /// <summary>How ended jobs ended, by cluster and job id: asked once, and kept after Slurm forgets the job (MinJobAge).</summary>
    private readonly ConcurrentDictionary<(string Computing, string JobId), (string TaskId, SlurmJobEnd End)> _ended = new();
    /// <summary>Env files of submissions that gave no job id, still to be deleted (<see cref="ForgetEnvironmentAsync"/>).</summary>
    private readonly ConcurrentDictionary<(string Computing, string TaskId), byte> _unsubmittedEnvFiles = new();

    private sealed record ClusterView(DateTime At, IReadOnlyList<SlurmJob> Jobs, IReadOnlyList<ObservedContainer> Observed);

    public ComputingKind Kind => ComputingKind.Slurm;

    public async Task<string> TestConnectionAsync(ComputingResource computing, CancellationToken ct)
    {
        var connection = pool.For(computing);
        var result = await connection.RunAsync(
            // The listing too: what every task's state is read from must work here, or the test says so.
            $"{ShellCommand.Join("sinfo", "-h", "-o", "%P|%c|%m|%a")} && {ShellCommand.Join("sbatch", "--version")} && {SlurmQueue.ListCommand()} >/dev/null", null, ct);
        if (!result.Succeeded)
            throw new BackendUnavailableException($"Slurm does not answer on the login host {computing.Host}: {result.FirstErrorLine}");
        var lines = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var partitions = lines.Select(l => l.Split('|')).Where(f => f.Length == 4).ToList();
        double cpus = partitions.Select(f => ParseLeadingNumber(f[1])).DefaultIfEmpty(0).Max();
        long memoryMb = (long)partitions.Select(f => ParseLeadingNumber(f[2])).DefaultIfEmpty(0).Max();
        var capacity = new ComputingCapacity(cpus, memoryMb * 1024 * 1024);
        _capacity[computing.Id] = capacity;
        var version = lines.LastOrDefault(l => l.StartsWith("slurm", StringComparison.OrdinalIgnoreCase)) ?? "slurm";
        return $"{computing.Username}@{computing.Address} (host key SHA256:{connection.HostKeyFingerprint}): {version}, " +
               $"partitions {string.Join(", ", partitions.Select(f => f[0]))}; nodes with up to {cpus} CPUs and {ResourceQuantities.FormatBytes(capacity.MaxMemoryBytes)} memory.";
    }

    public async Task<ComputingCapacity> GetCapacityAsync(ComputingResource computing, CancellationToken ct)
    {
        if (_capacity.TryGetValue(computing.Id, out var known)) return known;
        await TestConnectionAsync(computing, ct);
        return _capacity[computing.Id];
    }

    public async Task<LaunchResult> LaunchAsync(LaunchRequest request, IProgress<string> progress, CancellationToken ct)
    {
        var (computing, spec) = (request.Computing, request.Spec);
        string envFile;
        try
        {
            envFile = ContainerCli.EnvFile(spec.Env, shellQuoted: computing.Engine == ContainerEngineKind.Apptainer);
        }
        catch (ArgumentException e)
        {
            throw new LaunchFailedException(e.Message, e);
        }
        var script = SlurmJobScript.Generate(spec, request.TaskId, identity.InstanceId, computing.Engine, _storageUser, GpusOf(computing, spec));

        progress.Report($"Submitting the job to {computing.Host}");
        // Not cancelled half-way: a submission cut off may still reach sbatch, and a job whose id was
        // never recorded is one that nothing cancels. Finished, the stop that follows cancels it by id.
        string jobId;
        try
        {
            RemoteResult submit;
            using (var noReturn = new CancellationTokenSource(Ssh.SshBackend.PointOfNoReturnTimeout))
                submit = await pool.For(computing).RunAsync(SubmitCommand(computing, spec, request.TaskId, script), envFile, noReturn.Token);
            if (submit.ExitStatus < 0)
                throw new LaunchFailedException($"The submission on {computing.Host} ended before sbatch answered (the login host ended the command); start the task again.");
            if (!submit.Succeeded)
                throw new LaunchFailedException($"Slurm refused the job: {SchedulerMessage(submit)}");
            jobId = submit.Output.Trim().Split('\n')[^1].Split(';')[0].Trim();
            if (!SlurmQueue.IsJobId(jobId)) throw new LaunchFailedException($"sbatch answered something that is not a job id: {submit.Output.Trim()}");
        }
        catch
        {
            // Recorded first, so the next listing deletes it whatever becomes of the attempt made at once
            // (in the background: the host may take its connect timeout to answer, and the task's failure should not wait).
            _unsubmittedEnvFiles[(computing.Id, request.TaskId)] = 0;
            _ = Task.Run(() => ForgetEnvironmentAsync(computing, request.TaskId), CancellationToken.None);
            throw;
        }
        var batch = progress as IBatchLaunchProgress;
        if (batch is not null) await batch.SubmittedAsync(jobId, CancellationToken.None);
        ct.ThrowIfCancellationRequested();
        logger.LogInformation("Task {TaskId} submitted as Slurm job {JobId} on {Computing}", request.TaskId, jobId, computing.Id);

        return await WaitForEndpointAsync(computing, jobId, batch, ct);
    }

    /// <summary>
    /// Follows the job through the shared listings until it reports its endpoint (or ends): looked at
    /// often just after submission and while it starts on its node (the seconds that decide how soon
    /// an interface is up), and only through the watcher's one listing per interval while it waits
    /// in the queue, so a hundred queued jobs cost no more than one.
    /// </summary>
    private async Task<LaunchResult> WaitForEndpointAsync(ComputingResource computing, string jobId, IBatchLaunchProgress? batch, CancellationToken ct)
    {
        var submitted = DateTime.UtcNow;
        var fast = TimeSpan.FromMilliseconds(_options.StartPollMilliseconds);
        string? lastDetail = null;
        var missing = 0;
        SlurmJob? job = null;
        var view = await ListingAsync(() => ViewAsync(computing, TimeSpan.Zero, ct));
        while (true)
        {
            job = view.Jobs.FirstOrDefault(j => j.JobId == jobId);
            var observed = view.Observed.FirstOrDefault(o => o.BackendId == jobId);
            if (observed is { State: ContainerRunState.Running, Endpoint: { } local })
                return new LaunchResult(jobId, null, local);
            if (observed is { State: ContainerRunState.Exited })
                throw new LaunchFailedException(observed.Detail ?? $"Slurm job {jobId} ended before its interface was up.", exitCode: observed.ExitCode);
            if (job is not null && SlurmQueue.NeverStarts(job))
            {
                await pool.For(computing).RunAsync(SlurmQueue.CancelCommand(jobId, _options.CancelWaitSeconds), null, CancellationToken.None);
                throw new LaunchFailedException($"Slurm will not start job {jobId}: {job.Reason}. The job was cancelled; change the task's options.");
            }
            if (job is null)
            {
                if (++missing > 20) throw new LaunchFailedException($"Slurm job {jobId} is not in the queue any more.");
            }
            else if (SlurmQueue.WaitingDetail(job) is var detail && detail != lastDetail)
            {
                lastDetail = detail;
                if (job.State == "RUNNING") batch?.Starting(detail);
                else batch?.Queued(detail);
            }
            // Just submitted (an idle node starts a job at once) or starting on its node: look often.
            var justSubmitted = job is null || DateTime.UtcNow - submitted < TimeSpan.FromSeconds(_options.StartFastPollSeconds);
            if (justSubmitted || job?.State is "RUNNING" or "CONFIGURING")
            {
                await Task.Delay(fast, ct);
                view = await ListingAsync(() => ViewAsync(computing, fast, ct));
            }
            else
            {
                view = await ListingAsync(() => NextViewAsync(computing, ct));
            }
        }

        // The job is submitted and its id recorded: a listing that fails (slurmctld restarting, the
        // login host's connection lost) says nothing about the job, which runs on regardless. Failing
        // the task here would leave the job holding its allocation with nobody watching it, so the
        // wait goes on (until the job is seen or the person stops the task) and the task says why.
        async Task<ClusterView> ListingAsync(Func<Task<ClusterView>> listing)
        {
            var pause = fast;
            while (true)
            {
                try
                {
                    return await listing();
                }
                catch (Exception e) when ((e is BackendUnavailableException or OperationCanceledException or TimeoutException) && !ct.IsCancellationRequested)
                {
                    var waiting = $"Slurm did not answer ({e.Message}); asking again.";
                    logger.LogWarning("Listing job {JobId} on {Computing} failed; the launch keeps waiting: {Reason}", jobId, computing.Id, e.Message);
                    if (waiting != lastDetail)
                    {
                        if (job?.State is "RUNNING" or "CONFIGURING") batch?.Starting(waiting);
                        else batch?.Queued(waiting);
                        lastDetail = waiting;
                    }
                    await Task.Delay(pause, ct);
                    pause = TimeSpan.FromSeconds(Math.Min(pause.TotalSeconds * 2, _options.PollIntervalSeconds));
                }
            }
        }
    }

    /// <summary>The GPUs the job asks for: the task's own count, else the resource's default, else none.</summary>
    private static int GpusOf(ComputingResource computing, ContainerSpec spec) => spec.Batch.Gpus ?? computing.Defaults.Gpus ?? 0;

    private string SubmitCommand(ComputingResource computing, ContainerSpec spec, string taskId, string script)
    {
        var defaults = computing.Defaults;
        var sbatch = new List<string>
        {
            // --no-requeue: the job's environment file is gone once it has started, so a rerun could not start.
            "sbatch", "--parsable", "--no-requeue", "--job-name", spec.Name, "--output", SlurmJobScript.OutputPattern,
            "--comment", SlurmJobScript.Comment(identity.InstanceId, taskId),
        };
        var cpus = spec.Cpus ?? defaults.Cpus;
        if (cpus is { } c) sbatch.Add($"--cpus-per-task={Math.Max(1, (int)Math.Ceiling(c)).ToString(CultureInfo.InvariantCulture)}");
        var memory = spec.MemoryBytes ?? (ResourceQuantities.TryParseMemory(defaults.Memory, out var m) ? m : null);
        if (memory is { } bytes) sbatch.Add($"--mem={Math.Max(1, (bytes + 1024 * 1024 - 1) / (1024 * 1024)).ToString(CultureInfo.InvariantCulture)}M");
        if ((spec.Batch.Walltime ?? defaults.Walltime) is { } walltime) sbatch.Add($"--time={walltime}");
        if ((spec.Batch.Partition ?? defaults.Partition) is { } partition) sbatch.Add($"--partition={partition}");
        if ((spec.Batch.Account ?? defaults.Account) is { } account) sbatch.Add($"--account={account}");
        if (spec.Batch.Gpus is not null || defaults.Gpus is not null) sbatch.Add($"--gpus={GpusOf(computing, spec).ToString(CultureInfo.InvariantCulture)}");
        sbatch.Add(SlurmJobScript.ScriptFileName(taskId));

        var env = ShellCommand.Quote(SlurmJobScript.EnvFileName(taskId));
        var file = ShellCommand.Quote(SlurmJobScript.ScriptFileName(taskId));
        // umask 077: the env file (interface secret) and the output are the login user's alone. The
        // environment arrives on standard input, never on a command line; the script holds no secret.
        // sbatch keeps its own copy of the script (scontrol write batch_script shows it), so the file goes at once.
        return $"umask 077 && mkdir -p \"$HOME\"/{SlurmJobScript.Directory} && cd \"$HOME\"/{SlurmJobScript.Directory} && cat > {env} && " +
               $"printf '%s' {ShellCommand.Quote(script)} > {file} && " +
               $"{{ {ShellCommand.Join(sbatch)} || {{ rc=$?; rm -f {env} {file}; exit $rc; }}; }} && rm -f {file}";
    }

    public async Task StopAsync(ComputingResource computing, string backendId, CancellationToken ct)
    {
        // In a subshell: the cancel command exits as soon as the job has ended, and the env file goes after it.
        var cancel = await pool.For(computing).RunAsync($"( {SlurmQueue.CancelCommand(backendId, _options.CancelWaitSeconds)} ){RemoveEnvFile(computing, backendId)}", null, ct);
        if (!cancel.Succeeded && !cancel.Error.Contains("Invalid job id", StringComparison.OrdinalIgnoreCase))
            throw new BackendUnavailableException($"Slurm could not cancel job {backendId}: {cancel.FirstErrorLine}");
        pool.For(computing).CloseTunnel(backendId);
    }

    public async Task RemoveAsync(ComputingResource computing, string taskId, string backendId, CancellationToken ct)
    {
        // The env file too: a job cancelled before it ran never reached the script that deletes it, and a task that
        // never got a job (its handle is its container name) may have one from a submission cut off before sbatch answered.
        var job = SlurmQueue.IsJobId(backendId)
            ? $"scancel {ShellCommand.Quote(backendId)} 2>/dev/null; rm -f \"$HOME\"/{SlurmJobScript.Directory}/{ShellCommand.Quote(SlurmJobScript.OutputFileName(backendId))}; "
            : "";
        var removed = await pool.For(computing).RunAsync($"{job}rm -f {EnvFilePath(taskId)}", null, ct);
        // rm -f fails only on a file it may not delete, which no retry of the removal would change.
        if (!removed.Succeeded)
            logger.LogWarning("The job files of task {TaskId} could not all be deleted on {Computing}: {Error}", taskId, computing.Id, removed.FirstErrorLine);
        pool.For(computing).CloseTunnel(backendId);
        _ended.TryRemove((computing.Id, backendId), out _);
    }

    /// <summary>The job's output file (the container's output; stdout and stderr together), followed with <c>tail -F</c> until the job ends.</summary>
    public async IAsyncEnumerable<LogLine> ReadLogsAsync(ComputingResource computing, string backendId, int? tail, bool follow,
        [EnumeratorCancellation] CancellationToken ct)
    {
        if (!SlurmQueue.IsJobId(backendId)) yield break;
        var file = $"\"$HOME\"/{SlurmJobScript.Directory}/{ShellCommand.Quote(SlurmJobScript.OutputFileName(backendId))}";
        var lines = tail is { } n ? n.ToString(CultureInfo.InvariantCulture) : "+1";
        var id = ShellCommand.Quote(backendId);
        var command = !follow
            ? $"[ -f {file} ] && tail -n {lines} {file}; exit 0"
            // tail -F waits for a file not written yet (a queued job); it is stopped a moment after the job has ended.
            : $"tail -n {lines} -F {file} 2>/dev/null & t=$!; " +
              $"while [ -n \"$(squeue -h -j {id} -t PENDING,CONFIGURING,RUNNING,COMPLETING,SUSPENDED -o %T 2>/dev/null)\" ]; do sleep 1; done; sleep 1; kill $t";
        var output = new LogLineAssembler(LogStream.Stdout, timestamps: false);
        await foreach (var (isError, bytes) in pool.For(computing).StreamAsync(command, follow, ct))
        {
            if (isError) continue;
            foreach (var line in output.Append(bytes)) yield return line;
        }
        if (output.Flush() is { } last) yield return last;
    }

    public async Task<IReadOnlyList<ObservedContainer>> ListAsync(ComputingResource computing, CancellationToken ct) =>
        (await ViewAsync(computing, TimeSpan.Zero, ct)).Observed;

    /// <summary>
    /// Polls the cluster on a fixed beat (a change is seen at most one interval after it happened,
    /// plus the listing's own time) and reports the differences as events. A job that is completing
    /// (its container being removed) is looked at again soon, so its end is not left for a whole
    /// further interval.
    /// </summary>
    public async IAsyncEnumerable<ContainerEvent> WatchAsync(ComputingResource computing, DateTimeOffset since, [EnumeratorCancellation] CancellationToken ct)
    {
        var interval = TimeSpan.FromSeconds(_options.PollIntervalSeconds);
        var soon = TimeSpan.FromMilliseconds(_options.StartPollMilliseconds);
        var previous = _views.TryGetValue(computing.Id, out var seen) ? seen.Observed : await ListAsync(computing, ct);
        var beat = DateTime.UtcNow + interval;
        var completing = false;
        // When each completing job was first seen so: one stuck completing (a node that does not answer) is not followed closely for long.
        var completingSince = new Dictionary<string, DateTime>(StringComparer.Ordinal);
        while (true)
        {
            var now = DateTime.UtcNow;
            var next = completing && now + soon < beat ? now + soon : beat;
            if (next > now) await Task.Delay(next - now, ct);
            if (next == beat)
            {
                beat += interval;
                if (beat < DateTime.UtcNow) beat = DateTime.UtcNow + interval; // a listing slower than the interval: no catching up in a burst
            }
            // A listing in flight is shared; none older than this moment is reused.
            var view = await ViewAsync(computing, TimeSpan.Zero, ct);
            foreach (var job in view.Jobs.Where(j => j.State == "COMPLETING")) completingSince.TryAdd(job.JobId, DateTime.UtcNow);
            foreach (var gone in completingSince.Keys.Where(id => !view.Jobs.Any(j => j.JobId == id && j.State == "COMPLETING")).ToList())
                completingSince.Remove(gone);
            completing = completingSince.Values.Any(first => DateTime.UtcNow - first < TimeSpan.FromSeconds(_options.CancelWaitSeconds));
            foreach (var change in ContainerChanges.Between(previous, view.Observed)) yield return change;
            previous = view.Observed;
        }
    }

    /// <summary>How many times the platform has listed this cluster's jobs (<c>squeue</c>) since it started.</summary>
    public long ListingsOf(string computingId) => _listingCounts.GetValueOrDefault(computingId);

    /// <summary>The next listing of the cluster, whoever asks for it (the watcher, once an interval).</summary>
    private async Task<ClusterView> NextViewAsync(ComputingResource computing, CancellationToken ct)
    {
        var next = _nextView.GetOrAdd(computing.Id, _ => new TaskCompletionSource<ClusterView>(TaskCreationOptions.RunContinuationsAsynchronously));
        try
        {
            // The monitor watches every cluster with a launch, so a listing comes each interval; one
            // slowed down by a busy machine must not make a hundred waiting launches list on their own.
            // Only a long silence (nobody watches) makes a launch ask for itself.
            return await next.Task.WaitAsync(TimeSpan.FromSeconds(_options.PollIntervalSeconds * 4 + 30), ct);
        }
        catch (TimeoutException)
        {
            return await ViewAsync(computing, TimeSpan.Zero, ct);
        }
    }

    /// <summary>The cluster's jobs, no older than <paramref name="maxAge"/> (zero: a new listing); concurrent callers share one listing.</summary>
    private Task<ClusterView> ViewAsync(ComputingResource computing, TimeSpan maxAge, CancellationToken ct)
    {
        if (maxAge > TimeSpan.Zero && _views.TryGetValue(computing.Id, out var view) && DateTime.UtcNow - view.At <= maxAge)
            return Task.FromResult(view);
        Task<ClusterView> listing;
        lock (_listings)
        {
            if (!_listings.TryGetValue(computing.Id, out listing!))
            {
                listing = QueryAsync(computing);
                _listings[computing.Id] = listing;
                _ = listing.ContinueWith(done =>
                {
                    lock (_listings) _listings.Remove(computing.Id);
                    // Launches waiting for the next listing learn at once that it failed, not after their timeout.
                    if (done.Exception?.InnerException is { } failure && _nextView.TryRemove(computing.Id, out var waiting))
                        waiting.TrySetException(failure);
                }, TaskScheduler.Default);
            }
        }
        return listing.WaitAsync(ct);
    }

    private async Task<ClusterView> QueryAsync(ComputingResource computing)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var connection = pool.For(computing);
        _listingCounts.AddOrUpdate(computing.Id, 1, (_, n) => n + 1);
        // Before the listing, whatever squeue answers: the env files of submissions cut off before sbatch
        // answered (ForgetEnvironmentAsync). rm -f does not fail on its own: a command that ran to an exit
        // status deleted them (one ended by a signal may not have, and they stay for the next listing).
        var unsubmitted = _unsubmittedEnvFiles.Keys.Where(k => k.Computing == computing.Id).ToList();
        var clearing = unsubmitted.Count > 0 ? $"rm -f {string.Join(' ', unsubmitted.Select(k => EnvFilePath(k.TaskId)))}; " : "";
        var listing = await connection.RunAsync(clearing + SlurmQueue.ListCommand(), null, timeout.Token);
        if (listing.ExitStatus >= 0) foreach (var key in unsubmitted) _unsubmittedEnvFiles.TryRemove(key, out _);
        if (!listing.Succeeded)
            throw new BackendUnavailableException($"squeue failed on the login host {computing.Host}: {listing.FirstErrorLine}");
        var jobs = SlurmQueue.ParseList(listing.Output, identity.InstanceId);
        logger.LogDebug("squeue on {Computing}: {Jobs} jobs of this platform", computing.Id, jobs.Count);
        await DeleteLeftoverEnvFilesAsync(computing, connection, timeout.Token);

        var newlyEnded = jobs.Where(j => !SlurmQueue.IsActive(j.State) && !_ended.ContainsKey((computing.Id, j.JobId))).ToList();
        if (newlyEnded.Count > 0)
        {
            // In the same command: the env files (interface secrets) of jobs that ended without running
            // their script, e.g. cancelled while queued, which nothing else would delete before the task is.
            var envFiles = newlyEnded.Select(j => EnvFilePath(j.TaskId));
            var show = await connection.RunAsync(
                $"{SlurmQueue.ShowJobsCommand(newlyEnded.Select(j => j.JobId))}; rm -f {string.Join(' ', envFiles)}", null, timeout.Token);
            foreach (var (id, end) in SlurmQueue.ParseShowJobs(show.Output))
            {
                if (jobs.FirstOrDefault(j => j.JobId == id) is { } job) _ended[(computing.Id, id)] = (job.TaskId, end);
            }
        }

        var observed = new List<ObservedContainer>();
        foreach (var job in jobs)
        {
            var state = SlurmQueue.RunState(job);
            switch (state)
            {
                case ContainerRunState.Running:
                    var local = await connection.OpenTunnelAsync(job.JobId, job.Endpoint!, timeout.Token);
                    observed.Add(new ObservedContainer(job.TaskId, job.JobId, state, null, local, null, null));
                    break;
                case ContainerRunState.Queued:
                    observed.Add(new ObservedContainer(job.TaskId, job.JobId, state, null, null, null, null, SlurmQueue.WaitingDetail(job)));
                    break;
                default:
                    connection.CloseTunnel(job.JobId);
                    observed.Add(Ended(job.TaskId, job.JobId, _ended.TryGetValue((computing.Id, job.JobId), out var known) ? known.End : null, job.State));
                    break;
            }
        }
        // Jobs Slurm has forgotten (MinJobAge) keep the end they had.
        foreach (var ((computingId, jobId), (taskId, end)) in _ended)
        {
            if (computingId == computing.Id && observed.All(o => o.BackendId != jobId)) observed.Add(Ended(taskId, jobId, end, end.State));
        }
        foreach (var stale in connection.TunnelKeys.Except(observed.Where(o => o.State == ContainerRunState.Running).Select(o => o.BackendId)))
            connection.CloseTunnel(stale);

        var view = new ClusterView(DateTime.UtcNow, jobs, observed);
        _views[computing.Id] = view;
        if (_nextView.TryRemove(computing.Id, out var waiting)) waiting.TrySetResult(view);
        return view;
    }

    private static ObservedContainer Ended(string taskId, string jobId, SlurmJobEnd? end, string state)
    {
        end ??= new SlurmJobEnd(state, "None", 0, "?");
        var detail = SlurmQueue.EndDetail(jobId, end);
        var error = end.State == "OUT_OF_MEMORY" ? "The job ran out of memory." : detail;
        return new ObservedContainer(taskId, jobId, ContainerRunState.Exited, end.ExitCode, null, null, error, detail);
    }

    /// <summary>
    /// A job cancelled before it ran never reached the script that deletes its env file (with the
    /// interface secret): the stop deletes it, finding the task of the job in the last listing.
    /// </summary>
    private string RemoveEnvFile(ComputingResource computing, string jobId) =>
        _views.TryGetValue(computing.Id, out var view) && view.Jobs.FirstOrDefault(j => j.JobId == jobId) is { } job
            ? $"; rc=$?; rm -f {EnvFilePath(job.TaskId)}; exit $rc"
            : "";

    /// <summary>
    /// Deletes the env file (the interface secret) of a submission that gave no job id. The submit
    /// command deletes it itself when sbatch refuses; a command cut off (its shell killed, the connection
    /// lost) may have written it and never run sbatch, and then nothing else ever would. A job that sbatch
    /// took all the same belongs to a failed task: it finds no environment and ends, and the reconciliation
    /// cancels it. Tried at once; when the host does not answer, with each later listing of the cluster.
    /// </summary>
    private async Task ForgetEnvironmentAsync(ComputingResource computing, string taskId)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            if ((await pool.For(computing).RunAsync($"rm -f {EnvFilePath(taskId)}", null, timeout.Token)).ExitStatus >= 0) // ran: see QueryAsync
                _unsubmittedEnvFiles.TryRemove((computing.Id, taskId), out _);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            logger.LogWarning(e, "The env file of task {TaskId} could not be deleted on {Computing} yet; the next listing retries", taskId, computing.Id);
        }
    }

    /// <summary>How old an env file with no job left to read it must be before a sweep deletes it: far beyond a submission's point of no return.</summary>
    private const int LeftoverEnvFileMinutes = 10;

    /// <summary>When each cluster's folder of job files was last swept (<see cref="DeleteLeftoverEnvFilesAsync"/>).</summary>
    private readonly ConcurrentDictionary<string, DateTime> _lastSweeps = new();

    /// <summary>
    /// With the first listing of a cluster and then every <see cref="LeftoverEnvFileMinutes"/>: deletes the env files
    /// (interface secrets) of this resource's tasks that have ended, as this platform's database says. What the paths
    /// above delete is known only to this process: a restart loses the submissions still to clear, and a job cancelled
    /// and forgotten by Slurm while the platform was down is never seen to end. Only tasks the database knows as ended
    /// are touched: the folder is in a home other clusters may share, and other platform instances may use, whose
    /// queued jobs no listing of this cluster shows.
    /// </summary>
    private async Task DeleteLeftoverEnvFilesAsync(ComputingResource computing, SshConnection connection, CancellationToken ct)
    {
        if (_lastSweeps.TryGetValue(computing.Id, out var last) && DateTime.UtcNow - last < TimeSpan.FromMinutes(LeftoverEnvFileMinutes)) return;
        try
        {
            var old = await connection.RunAsync(SlurmJobScript.OldEnvFilesCommand(LeftoverEnvFileMinutes), null, ct);
            if (!old.Succeeded)
            {
                logger.LogWarning("Leftover env files on {Computing} could not be listed: {Error}", computing.Id, old.FirstErrorLine);
                return;
            }
            var ids = SlurmJobScript.TaskIdsOfEnvFiles(old.Output);
            List<string> ended = [];
            if (ids.Count > 0)
            {
                await using var db = await dbFactory.CreateDbContextAsync(ct);
                ended = await db.Tasks.Where(t => ids.Contains(t.Id) && t.ComputingId == computing.Id && TaskStateExtensions.FinalStates.Contains(t.Status))
                    .Select(t => t.Id).ToListAsync(ct);
            }
            if (ended.Count > 0 && !(await connection.RunAsync($"rm -f {string.Join(' ', ended.Select(EnvFilePath))}", null, ct)).Succeeded) return;
            _lastSweeps[computing.Id] = DateTime.UtcNow;
        }
        catch (Exception e) when (e is not OutOfMemoryException && !ct.IsCancellationRequested)
        {
            logger.LogWarning(e, "Leftover env files on {Computing} could not be deleted; the next listing tries again", computing.Id);
        }
    }

    /// <summary>Where a task's env file waits for its job, for a remote shell (the task id is quoted).</summary>
    private static string EnvFilePath(string taskId) => $"\"$HOME\"/{SlurmJobScript.Directory}/{ShellCommand.Quote(SlurmJobScript.EnvFileName(taskId))}";

    /// <summary>sbatch's own words (its "error:" lines), so the user reads the scheduler's reason.</summary>
    private static string SchedulerMessage(RemoteResult result)
    {
        var errors = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var message = string.Join(" ", errors.Where(l => l.Contains("error", StringComparison.OrdinalIgnoreCase)).DefaultIfEmpty(result.FirstErrorLine));
        return message.Length > 500 ? message[..500] : message;
    }

    private static double ParseLeadingNumber(string text)
    {
        var digits = new string(text.TakeWhile(char.IsAsciiDigit).ToArray());
        return double.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
    }
}
