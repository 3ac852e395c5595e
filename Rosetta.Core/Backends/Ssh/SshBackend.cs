using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Rosetta.Core.Backends.Cli;
using Rosetta.Core.Domain;
using Rosetta.Core.Storages;
using Rosetta.Core.Validation;

namespace Rosetta.Core.Backends.Ssh;

/// <summary>
/// Runs tasks on a standalone host over SSH with its docker or podman CLI. The interface port is
/// published on the host's loopback only and reached through a tunnel on the platform's
/// 127.0.0.1, so the host needs nothing but sshd and an engine and never reaches the platform.
/// The engine is polled (one command per host per interval) instead of followed, since a CLI
/// over SSH has no event stream worth trusting across reconnects.
/// </summary>
public sealed class SshBackend(SshConnectionPool pool, PlatformIdentity identity, IOptions<StorageOptions> storageOptions, ILogger<SshBackend> logger) : ITaskBackend
{
    /// <summary>
    /// How long a remote step that must not be cut off half-way (starting a container, submitting a
    /// job) may take before the platform gives up on it regardless of a stop.
    /// </summary>
    internal static readonly TimeSpan PointOfNoReturnTimeout = TimeSpan.FromMinutes(2);

    /// <summary>The uid and gid the bundled images run as, who must be able to write read-write storages (Rosetta:Storage:OwnerUid/OwnerGid).</summary>
    private readonly TaskFileOwner _storageUser = storageOptions.Value.TaskFileOwner;
    private readonly ConcurrentDictionary<string, ComputingCapacity> _capacity = new();
    /// <summary>What the last listing saw per resource: the baseline the watcher compares against.</summary>
    private readonly ConcurrentDictionary<string, IReadOnlyList<ObservedContainer>> _lastSeen = new();

    public ComputingKind Kind => ComputingKind.Ssh;

    public async Task<string> TestConnectionAsync(ComputingResource computing, CancellationToken ct)
    {
        var connection = pool.For(computing);
        var cli = new ContainerCli(computing.Engine);
        var info = await EngineAsync(computing, cli.Info(), input: null, ct);
        var (capacity, description) = ContainerCliOutput.ParseInfo(info.Output, cli.Program);
        _capacity[computing.Id] = capacity;
        return $"{computing.Username}@{computing.Address} (host key SHA256:{connection.HostKeyFingerprint}): {description}.";
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
        var cli = new ContainerCli(computing.Engine);
        string envFile;
        try
        {
            envFile = ContainerCli.EnvFile(spec.Env);
        }
        catch (ArgumentException e)
        {
            throw new LaunchFailedException(e.Message, e);
        }

        progress.Report($"Looking for {spec.Image} on {computing.Host}");
        var image = await EngineAsync(computing, cli.InspectImage(spec.Image), null, ct, mayFail: true);
        if (!image.Succeeded)
        {
            progress.Report($"Pulling {spec.Image} on {computing.Host}");
            var pull = await EngineAsync(computing, cli.Pull(spec.Image), null, ct, mayFail: true, CommandLength.Pull);
            if (!pull.Succeeded)
                throw new LaunchFailedException($"Image {spec.Image} is not on {computing.Host} and could not be pulled: {pull.FirstErrorLine}");
            image = await EngineAsync(computing, cli.InspectImage(spec.Image), null, ct);
        }
        var digest = ContainerCliOutput.ParseImageDigest(image.Output, spec.Image);
        var imageUser = ContainerCliOutput.ParseImageUser(image.Output);

        if (spec.Binds.Count > 0)
        {
            // Not an engine command: a refusal here is about the folders, never "may not use docker".
            var folders = await pool.For(computing).RunAsync(ContainerCli.CreateFolders(spec.Binds.Select(b => b.HostPath)), null, ct);
            if (!folders.Succeeded)
                throw new LaunchFailedException($"The storage folders could not be created on {computing.Host}: {folders.FirstErrorLine}");
        }
        string? warning = null;
        if (ContainerCli.FoldersToGrant(computing.Engine, spec, _storageUser) is { Count: > 0 } writable)
            warning = await GrantTaskAccessAsync(computing, writable, progress, ct);

        progress.Report($"Starting the container on {computing.Host}");
        // Not cancelled half-way: an engine that was already asked creates the container anyway, after
        // a stop looked for it and found nothing. Finished, the container is there for the stop to find.
        RemoteResult run;
        using (var noReturn = new CancellationTokenSource(PointOfNoReturnTimeout))
            run = await EngineAsync(computing, cli.Run(spec, _storageUser, imageUser), envFile, noReturn.Token, mayFail: true);
        if (!run.Succeeded)
            throw new LaunchFailedException($"The {cli.Program} engine on {computing.Host} refused the container: {run.Error.Trim()}");
        ct.ThrowIfCancellationRequested();
        var containerId = run.Output.Trim().Split('\n')[^1].Trim();

        var inspect = await EngineAsync(computing, cli.Inspect(containerId), null, ct);
        var container = ContainerCliOutput.ParseInspect(inspect.Output).FirstOrDefault();
        if (container is not { State: ContainerRunState.Running, Endpoint: { } remote })
            throw new LaunchFailedException($"The container exited with code {container?.ExitCode?.ToString() ?? "?"} before its interface answered.",
                exitCode: container?.ExitCode, backendId: containerId);
        var local = await pool.For(computing).OpenTunnelAsync(containerId, remote, ct);
        return new LaunchResult(containerId, digest, local, warning);
    }

    /// <summary>
    /// Lets the task's user write its read-write storages (docker; see <see cref="ContainerCli.GrantTaskAccess"/>).
    /// A host that cannot still runs the task, the storages read-only to it in practice: the warning
    /// returned says why and what to install, for the task's status and the platform's log.
    /// </summary>
    private async Task<string?> GrantTaskAccessAsync(ComputingResource computing, IReadOnlyList<string> folders, IProgress<string> progress, CancellationToken ct)
    {
        // Not through EngineAsync: a failure here is about ACLs, never a sign that the engine is unusable.
        // Long: the first grant of a tree walks every file in it (millions, on a network file system).
        var grant = await pool.For(computing).RunAsync(ContainerCli.GrantTaskAccess(folders, _storageUser), null, ct, CommandLength.Long);
        if (grant.Succeeded) return null;
        var warning = grant.ExitStatus switch
        {
            ContainerCli.AclToolMissingStatus => $"setfacl is not installed on {computing.Host}, so this task cannot write into its storages: install the acl package on {computing.Host} so tasks can write into storages.",
            ContainerCli.HomeLeftClosedStatus => $"On {computing.Host}, {grant.FirstErrorLine}",
            _ => $"This task may not be able to write into its storages: setfacl failed on {computing.Host} ({grant.FirstErrorLine}).",
        };
        logger.LogWarning("Task storages on {Computing}: {Warning}", computing.Id, warning);
        progress.Report(warning);
        return warning;
    }

    public async Task StopAsync(ComputingResource computing, string backendId, CancellationToken ct)
    {
        var cli = new ContainerCli(computing.Engine);
        var stop = await EngineAsync(computing, cli.Stop(backendId, pool.Options.StopGraceSeconds), null, ct, mayFail: true);
        if (!stop.Succeeded && !IsNoSuchContainer(stop))
            throw new BackendUnavailableException($"The {cli.Program} engine on {computing.Host} could not stop the container: {stop.FirstErrorLine}");
        pool.For(computing).CloseTunnel(backendId);
    }

    public async Task RemoveAsync(ComputingResource computing, string taskId, string backendId, CancellationToken ct)
    {
        var cli = new ContainerCli(computing.Engine);
        var remove = await EngineAsync(computing, cli.Remove(backendId), null, ct, mayFail: true);
        if (!remove.Succeeded && !IsNoSuchContainer(remove))
            throw new BackendUnavailableException($"The {cli.Program} engine on {computing.Host} could not remove the container: {remove.FirstErrorLine}");
        pool.For(computing).CloseTunnel(backendId);
    }

    public async IAsyncEnumerable<LogLine> ReadLogsAsync(ComputingResource computing, string backendId, int? tail, bool follow,
        [EnumeratorCancellation] CancellationToken ct)
    {
        var cli = new ContainerCli(computing.Engine);
        // The CLI writes its own errors to the same stderr as the container's: ask first, so "no such
        // container" never shows up as a line of the task's output.
        if (!(await EngineAsync(computing, cli.Inspect(backendId), null, ct, mayFail: true)).Succeeded) yield break;

        var stdout = new LogLineAssembler(LogStream.Stdout, timestamps: true);
        var stderr = new LogLineAssembler(LogStream.Stderr, timestamps: true);
        await foreach (var (isError, bytes) in pool.For(computing).StreamAsync(cli.Logs(backendId, tail, follow), follow, ct))
        {
            foreach (var line in (isError ? stderr : stdout).Append(bytes)) yield return line;
        }
        if (stdout.Flush() is { } lastOut) yield return lastOut;
        if (stderr.Flush() is { } lastErr) yield return lastErr;
    }

    /// <summary>
    /// The instance's containers on the host; running ones get (or keep) their tunnel, and the
    /// endpoint reported is the tunnel's local end, so re-adoption after a platform restart
    /// restores the route. Tunnels of containers that ended are closed.
    /// </summary>
    public async Task<IReadOnlyList<ObservedContainer>> ListAsync(ComputingResource computing, CancellationToken ct)
    {
        var cli = new ContainerCli(computing.Engine);
        var connection = pool.For(computing);
        // A launch may open its container's tunnel while this listing runs, having begun too early to see the container
        // running (or at all): that tunnel is not this listing's to close.
        var listedFrom = connection.TunnelMark;
        var listing = await EngineAsync(computing, cli.InspectAll(identity.InstanceId), null, ct);
        var observed = new List<ObservedContainer>();
        foreach (var container in ContainerCliOutput.ParseInspect(listing.Output))
        {
            if (container is { State: ContainerRunState.Running, Endpoint: { } remote })
            {
                observed.Add(container with { Endpoint = await connection.OpenTunnelAsync(container.BackendId, remote, ct) });
            }
            else
            {
                connection.CloseTunnel(container.BackendId, openedUpTo: listedFrom);
                observed.Add(container);
            }
        }
        foreach (var stale in connection.TunnelKeys.Except(observed.Select(c => c.BackendId))) connection.CloseTunnel(stale, openedUpTo: listedFrom);
        _lastSeen[computing.Id] = observed;
        return observed;
    }

    /// <summary>Polls the host and reports the differences as events; throws <see cref="BackendUnavailableException"/> when the host is lost.</summary>
    public async IAsyncEnumerable<ContainerEvent> WatchAsync(ComputingResource computing, DateTimeOffset since, [EnumeratorCancellation] CancellationToken ct)
    {
        var previous = _lastSeen.TryGetValue(computing.Id, out var seen) ? seen : await ListAsync(computing, ct);
        var interval = TimeSpan.FromSeconds(pool.Options.PollIntervalSeconds);
        while (true)
        {
            await Task.Delay(interval, ct);
            var current = await ListAsync(computing, ct);
            foreach (var change in ContainerChanges.Between(previous, current)) yield return change;
            previous = current;
        }
    }

    /// <summary>Runs an engine command; unless <paramref name="mayFail"/>, a non-zero exit is an error, and an unusable engine always is.</summary>
    private async Task<RemoteResult> EngineAsync(ComputingResource computing, string command, string? input, CancellationToken ct, bool mayFail = false,
        CommandLength length = CommandLength.Short)
    {
        var result = await pool.For(computing).RunAsync(command, input, ct, length);
        if (result.Succeeded) return result;
        var program = new ContainerCli(computing.Engine).Program;
        if (SshFailures.EngineUnusable(computing, program, result) is { } unusable) throw unusable;
        if (mayFail) return result;
        logger.LogDebug("Remote command failed on {Host}: {Error}", computing.Host, result.FirstErrorLine);
        throw new BackendUnavailableException($"The {program} engine on {computing.Host} failed: {result.FirstErrorLine}");
    }

    private static bool IsNoSuchContainer(RemoteResult result) =>
        result.Error.Contains("no such container", StringComparison.OrdinalIgnoreCase);
}
