using Rosetta.Core.Domain;

namespace Rosetta.Core.Backends;

/// <summary>
/// One kind of computing resource (local engine, SSH host, Slurm cluster). Backends are stateless
/// translators: the task monitor owns task state and decides what to call and when.
/// </summary>
public interface ITaskBackend
{
    ComputingKind Kind { get; }

    /// <summary>
    /// Checks that the resource answers and can run containers; returns a one-line description of
    /// what answered (engine and version). Throws <see cref="BackendUnavailableException"/> saying what failed.
    /// </summary>
    Task<string> TestConnectionAsync(ComputingResource computing, CancellationToken ct);

    /// <summary>What one task may ask of <paramref name="computing"/> (used to validate options).</summary>
    Task<Validation.ComputingCapacity> GetCapacityAsync(ComputingResource computing, CancellationToken ct);

    /// <summary>
    /// Creates and starts the container. Reports human-readable progress (image pull) through
    /// <paramref name="progress"/>. Returns once the container is started; the caller waits for
    /// the interface to answer.
    /// </summary>
    Task<LaunchResult> LaunchAsync(LaunchRequest request, IProgress<string> progress, CancellationToken ct);

    /// <summary>Stops the container, keeping it (and its logs) until <see cref="RemoveAsync"/>.</summary>
    Task StopAsync(ComputingResource computing, string backendId, CancellationToken ct);

    /// <summary>
    /// Removes task <paramref name="taskId"/>'s container <paramref name="backendId"/>, and whatever else the backend
    /// keeps for the task on the resource (a batch job's files); a container that is already gone is not an error.
    /// </summary>
    Task RemoveAsync(ComputingResource computing, string taskId, string backendId, CancellationToken ct);

    /// <summary>
    /// The container's output as lines: the last <paramref name="tail"/> lines (all when null),
    /// then, when <paramref name="follow"/>, new lines until the container ends or <paramref name="ct"/> fires.
    /// </summary>
    IAsyncEnumerable<LogLine> ReadLogsAsync(ComputingResource computing, string backendId, int? tail, bool follow, CancellationToken ct);

    /// <summary>Every container of this platform instance on <paramref name="computing"/>, running or not.</summary>
    Task<IReadOnlyList<ObservedContainer>> ListAsync(ComputingResource computing, CancellationToken ct);

    /// <summary>
    /// Engine events for this instance's containers since <paramref name="since"/> (so events that
    /// happen while the caller reconciles are replayed, not lost), then as they happen. The stream
    /// throws <see cref="BackendUnavailableException"/> when the connection to the engine is lost;
    /// the monitor reconnects and reconciles.
    /// </summary>
    IAsyncEnumerable<ContainerEvent> WatchAsync(ComputingResource computing, DateTimeOffset since, CancellationToken ct);
}

/// <summary>Everything a backend needs to start one task.</summary>
public sealed record LaunchRequest(string TaskId, string OwnerId, ComputingResource Computing, ContainerSpec Spec);

/// <summary>What a started container looks like from the platform host.</summary>
/// <param name="Warning">Something the task's owner should know although the task starts (e.g. its storages stay read-only to it):
/// shown as the task's <c>statusDetail</c> while it starts and runs.</param>
public sealed record LaunchResult(string BackendId, string? ImageDigest, TaskEndpoint Endpoint, string? Warning = null);

/// <summary>Where the platform host reaches a task's interface.</summary>
public sealed record TaskEndpoint(string Host, int Port);

/// <remarks><see cref="Queued"/>: a batch job waiting for the scheduler, or started but not yet
/// reporting its interface (batch backends only).</remarks>
public enum ContainerRunState { Created, Running, Exited, Gone, Queued }

/// <summary>A container as the engine reports it during reconciliation.</summary>
/// <param name="Detail">Why a queued job waits (the scheduler's reason), or the scheduler's own words for how a job ended.</param>
public sealed record ObservedContainer(
    string TaskId,
    string BackendId,
    ContainerRunState State,
    int? ExitCode,
    TaskEndpoint? Endpoint,
    string? ImageDigest,
    string? Error,
    string? Detail = null);

/// <remarks><see cref="Queued"/>: a batch job is (still) waiting; the event's detail says why.</remarks>
public enum ContainerEventKind { Started, Died, Destroyed, OutOfMemory, Queued }

/// <summary>An engine event about one of the platform's containers.</summary>
/// <param name="Endpoint">For <see cref="ContainerEventKind.Started"/> from a polling backend: where the interface is reached.</param>
/// <param name="Detail">The scheduler's reason (queued) or its account of the end (died), for the task's detail or error.</param>
public sealed record ContainerEvent(string TaskId, string BackendId, ContainerEventKind Kind, int? ExitCode,
    TaskEndpoint? Endpoint = null, string? Detail = null);

/// <summary>
/// Progress of a launch through a batch queue. The monitor's progress object implements it, so a
/// batch backend can record the job id as soon as it exists (a stop or a restart then finds the job)
/// and show the task <c>queued</c> with the scheduler's reason while it waits.
/// </summary>
public interface IBatchLaunchProgress : IProgress<string>
{
    /// <summary>The job was submitted: <paramref name="backendId"/> is the handle for stop, logs and listing.</summary>
    Task SubmittedAsync(string backendId, CancellationToken ct);

    /// <summary>The job waits in the queue; <paramref name="reason"/> is the scheduler's.</summary>
    void Queued(string reason);

    /// <summary>The job runs and its container is starting.</summary>
    void Starting(string detail);
}

public enum LogStream { Stdout, Stderr }

/// <summary>One line of a task's output.</summary>
public sealed record LogLine(DateTime? Timestamp, LogStream Stream, string Text);

/// <summary>The computing resource could not be reached (engine down, host unreachable).</summary>
public sealed class BackendUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The backend refused the launch for a reason the user can act on (image missing, bad option).</summary>
public sealed class LaunchFailedException(string message, Exception? inner = null, int? exitCode = null, string? backendId = null) : Exception(message, inner)
{
    /// <summary>The container's exit code when it ended during the launch.</summary>
    public int? ExitCode { get; } = exitCode;

    /// <summary>The container, when one was made before the launch failed: its whole output stays readable.</summary>
    public string? BackendId { get; } = backendId;
}
