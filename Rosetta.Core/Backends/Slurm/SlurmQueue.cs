using System.Globalization;
using Rosetta.Core.Remote;

namespace Rosetta.Core.Backends.Slurm;

/// <summary>One of the platform's jobs as <c>squeue</c> shows it.</summary>
/// <param name="Endpoint">The node's <c>address:port</c> once the job has reported it in its comment.</param>
public sealed record SlurmJob(string JobId, string TaskId, string State, string Reason, string Nodes, TaskEndpoint? Endpoint);

/// <summary>How a job ended, from <c>scontrol show job</c>: its state, reason and exit code.</summary>
public sealed record SlurmJobEnd(string State, string Reason, int ExitCode, string RawExitCode);

/// <summary>
/// The Slurm commands the backend runs on the login host, and what they print, read back. Command
/// lines are built by <see cref="ShellCommand"/>; job ids are checked to be numbers before use.
/// </summary>
public static class SlurmQueue
{
    private const char Separator = '|';

    /// <summary>
    /// Every job of the login user, in any state Slurm still remembers (MinJobAge), in one call:
    /// id, name, state, reason, nodes, comment (last: it is the only free text, and ours). The user by name, not
    /// <c>--me</c>, which Slurm before 20.11 does not know (a cluster that passed its test would then hang every task).
    /// </summary>
    public static string ListCommand() => "squeue -u \"$(id -un)\" " + ShellCommand.Join("-h", "-t", "all", "-o", "%i|%j|%T|%r|%N|%k");

    /// <summary>The job of this platform instance in a listing, ignoring other users' and instances' jobs.</summary>
    public static IReadOnlyList<SlurmJob> ParseList(string output, string instanceId)
    {
        var jobs = new List<SlurmJob>();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var fields = line.Split(Separator, 6);
            if (fields.Length < 6) continue;
            var comment = ParseComment(fields[5]);
            if (comment.GetValueOrDefault("rosetta.instance") != instanceId || comment.GetValueOrDefault("rosetta.task") is not { } taskId) continue;
            // The comment is free text anyone with the login can set; a task id goes into file names on the host.
            if (!Tasks.TaskIds.IsWellFormed(taskId) || !IsJobId(fields[0])) continue;
            jobs.Add(new SlurmJob(fields[0], taskId, fields[2], fields[3], fields[4], ParseEndpoint(comment.GetValueOrDefault("endpoint"))));
        }
        return jobs;
    }

    /// <summary><c>scontrol show job -o</c> for each job (one line each), in one command.</summary>
    public static string ShowJobsCommand(IEnumerable<string> jobIds) =>
        string.Join("; ", jobIds.Select(id => ShellCommand.Join("scontrol", "show", "job", "-o", RequireJobId(id))));

    public static IReadOnlyDictionary<string, SlurmJobEnd> ParseShowJobs(string output)
    {
        var ends = new Dictionary<string, SlurmJobEnd>(StringComparer.Ordinal);
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .Select(f => f.Split('=', 2)).Where(kv => kv.Length == 2)
                .GroupBy(kv => kv[0]).ToDictionary(g => g.Key, g => g.First()[1], StringComparer.Ordinal);
            if (!fields.TryGetValue("JobId", out var id)) continue;
            var raw = fields.GetValueOrDefault("ExitCode") ?? "0:0";
            ends[id] = new SlurmJobEnd(fields.GetValueOrDefault("JobState") ?? "UNKNOWN", fields.GetValueOrDefault("Reason") ?? "None", ExitCode(raw), raw);
        }
        return ends;
    }

    /// <summary>Slurm's <c>code:signal</c> as one exit code: the code, else 128 + the signal, as a shell reports it.</summary>
    public static int ExitCode(string raw)
    {
        var parts = raw.Split(':');
        int code = parts.Length > 0 && int.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var c) ? c : 0;
        int signal = parts.Length > 1 && int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) ? s : 0;
        return code != 0 ? code : signal != 0 ? 128 + signal : 0;
    }

    /// <summary>The job's state as the platform sees it.</summary>
    public static ContainerRunState RunState(SlurmJob job) => job.State switch
    {
        // COMPLETING: the job ends and its trap is removing the container; the end follows in the next listing.
        "RUNNING" or "COMPLETING" when job.Endpoint is not null => ContainerRunState.Running,
        // RUNNING without an endpoint: the container is starting on the node. COMPLETING without one:
        // it never came up; the end (with its exit code) is read once the job has finished completing.
        _ when IsWaiting(job.State) || job.State is "RUNNING" or "COMPLETING" => ContainerRunState.Queued,
        _ => ContainerRunState.Exited,
    };

    /// <summary>States in which the job has not run yet (or was put back): the task is <c>queued</c>.</summary>
    public static bool IsWaiting(string state) => state is "PENDING" or "CONFIGURING" or "REQUEUED" or "REQUEUE_FED" or "REQUEUE_HOLD"
        or "RESV_DEL_HOLD" or "SUSPENDED" or "STOPPED" or "RESIZING";

    /// <summary>
    /// Pending reasons after which the scheduler will not start the job without an administrator
    /// changing the cluster (a limit or an account the job asked beyond): waiting for them helps nobody.
    /// </summary>
    public static bool NeverStarts(SlurmJob job) => job.State == "PENDING" && job.Reason is "PartitionTimeLimit" or "PartitionNodeLimit"
        or "BadConstraints" or "InvalidAccount" or "InvalidQOS" or "DependencyNeverSatisfied";

    /// <summary>States in which the job still holds (or waits for) its allocation.</summary>
    public static bool IsActive(string state) => IsWaiting(state) || state is "RUNNING" or "COMPLETING" or "SIGNALING" or "STAGE_OUT";

    /// <summary>What the task shows while the job waits: the scheduler's state and reason.</summary>
    public static string WaitingDetail(SlurmJob job) => job.State == "RUNNING"
        ? $"Slurm job {job.JobId} runs on {job.Nodes}; its container is starting"
        // "None": the scheduler has not looked at the job yet (just submitted), said so rather than as Slurm's bare word.
        : $"Slurm job {job.JobId} {job.State.ToLowerInvariant()}: {(job.Reason is "None" or "" ? "waiting for the scheduler to place it" : job.Reason)}";

    /// <summary>The scheduler's account of an end, for the task's error; null for a plain successful end.</summary>
    public static string? EndDetail(string jobId, SlurmJobEnd end) => end switch
    {
        { State: "COMPLETED", ExitCode: 0 } => null,
        { State: "TIMEOUT" } => $"Slurm job {jobId} reached its time limit (TIMEOUT, exit code {end.RawExitCode}).",
        { State: "OUT_OF_MEMORY" } => $"Slurm job {jobId} ran out of memory (OUT_OF_MEMORY, exit code {end.RawExitCode}).",
        _ => $"Slurm job {jobId} ended {end.State}" + (end.Reason is "None" or "" ? "" : $" ({end.Reason})") + $", exit code {end.RawExitCode}.",
    };

    /// <summary>Cancels the job and waits (up to <paramref name="waitSeconds"/>) until it has ended, i.e. its trap has removed the container.</summary>
    public static string CancelCommand(string handle, int waitSeconds)
    {
        if (!IsJobId(handle))
            // A launch interrupted before sbatch answered: the job (if any) is found by its name.
            return $"{ShellCommand.Join("scancel", "--name", handle)} -u \"$(id -un)\"";
        var id = ShellCommand.Quote(handle);
        var tries = (waitSeconds * 5).ToString(CultureInfo.InvariantCulture);
        return $"scancel {id} 2>/dev/null; i=0; while [ $i -lt {tries} ]; do " +
               $"case $(squeue -h -t all -j {id} -o %T 2>/dev/null) in PENDING|CONFIGURING|RUNNING|COMPLETING|SIGNALING|SUSPENDED|STOPPED) sleep 0.2; i=$((i + 1)) ;; *) exit 0 ;; esac; " +
               "done; echo 'the job did not end in time' >&2; exit 1";
    }

    public static bool IsJobId(string handle) => handle.Length is > 0 and < 20 && handle.All(char.IsAsciiDigit);

    private static string RequireJobId(string id) => IsJobId(id) ? id : throw new ArgumentException($"'{id}' is not a Slurm job id.", nameof(id));

    private static Dictionary<string, string> ParseComment(string comment)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var token in comment.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = token.Split('=', 2);
            if (kv.Length == 2) values[kv[0]] = kv[1];
        }
        return values;
    }

    private static TaskEndpoint? ParseEndpoint(string? value)
    {
        if (value is null) return null;
        var colon = value.LastIndexOf(':');
        return colon > 0 && int.TryParse(value[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and < 65536
            ? new TaskEndpoint(value[..colon], port) : null;
    }
}
