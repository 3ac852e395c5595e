using System.Diagnostics;

namespace Rosetta.Tests.Infrastructure;

/// <summary>
/// The demo single-node Slurm cluster that <c>./rosetta.sh infra</c> starts (scripts/slurm.sh),
/// inspected and disturbed from the test process (as root, like an administrator would).
/// </summary>
public static class SlurmCluster
{
    /// <summary>Fails (never skips) when the cluster is not there, saying how to get it.</summary>
    public static async Task EnsureAvailableAsync()
    {
        var (code, output, error) = await RunAsync("sinfo", "-h", "-N", "-o", "%T");
        if (code != 0 || output.Trim().Length == 0 || output.Contains("down", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException($"The demo Slurm cluster is not available (sinfo: {output.Trim()} {error.Trim()}): run ./rosetta.sh infra.");
    }

    /// <summary>The job's state as squeue shows it (any state Slurm remembers), or "" when unknown.</summary>
    public static async Task<string> JobStateAsync(string jobId) =>
        (await RunAsync("squeue", "-h", "-t", "all", "-j", jobId, "-o", "%T")).Output.Trim();

    /// <summary>The id of the job of a task (its job name is derived from the task id).</summary>
    public static async Task<string> JobOfTaskAsync(string taskId)
    {
        var ids = (await RunAsync("squeue", "-h", "-t", "all", "-n", $"rosetta-{taskId}", "-o", "%i")).Output.Trim().Split('\n');
        return ids.Length == 1 && ids[0].Length > 0 ? ids[0] : throw new InvalidOperationException($"Task {taskId} has {ids.Length} jobs: {string.Join(",", ids)}");
    }

    /// <summary>The id of the job of a task once it is submitted, or null before.</summary>
    public static async Task<string?> JobIdOfTaskAsync(string taskId) =>
        (await RunAsync("squeue", "-h", "-t", "all", "-n", $"rosetta-{taskId}", "-o", "%i")).Output.Trim() is { Length: > 0 } id ? id : null;

    /// <summary>Stops slurmctld only (jobs keep running under slurmd) and waits until it no longer answers.</summary>
    public static async Task StopControllerAsync()
    {
        await RunAsync("scontrol", "shutdown", "slurmctld");
        for (var i = 0; i < 100 && await ControllerAnswersAsync(); i++) await Task.Delay(100);
        if (await ControllerAnswersAsync()) throw new InvalidOperationException("slurmctld did not stop.");
    }

    /// <summary>Starts slurmctld again (it daemonizes itself, outliving the test) and waits until it answers.</summary>
    public static async Task StartControllerAsync()
    {
        if (await ControllerAnswersAsync()) return;
        var (code, _, error) = await RunAsync("/usr/sbin/slurmctld");
        if (code != 0) throw new InvalidOperationException($"slurmctld did not start: {error}");
        for (var i = 0; i < 150 && !await ControllerAnswersAsync(); i++) await Task.Delay(100);
        if (!await ControllerAnswersAsync()) throw new InvalidOperationException("slurmctld does not answer after its restart.");
    }

    /// <summary>
    /// Lowers the cluster's MinJobAge to 2 s (ended jobs are then purged within slurmctld's minute-long
    /// purge cycle) until disposed, when slurm.conf is put back as it was.
    /// </summary>
    public static async Task<IAsyncDisposable> ForgetEndedJobsSoonAsync()
    {
        const string conf = "/etc/slurm/slurm.conf";
        var original = await File.ReadAllTextAsync(conf);
        if (!System.Text.RegularExpressions.Regex.IsMatch(original, @"(?m)^MinJobAge=\d+$"))
            throw new InvalidOperationException($"{conf} sets no MinJobAge: is it the one scripts/slurm.sh wrote?");
        await File.WriteAllTextAsync(conf, System.Text.RegularExpressions.Regex.Replace(original, @"(?m)^MinJobAge=\d+$", "MinJobAge=2"));
        await ReconfigureAsync();
        return new Restore(async () =>
        {
            await File.WriteAllTextAsync(conf, original);
            await ReconfigureAsync();
        });
    }

    /// <summary>Waits until slurmctld no longer knows the job at all.</summary>
    public static async Task WaitUntilForgottenAsync(string jobId, int seconds)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while ((await RunAsync("squeue", "-h", "-t", "all", "-j", jobId, "-o", "%i")).Output.Trim() == jobId)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Slurm still knows job {jobId} after {seconds} s.");
            await Task.Delay(500);
        }
    }

    private static async Task ReconfigureAsync()
    {
        var (code, _, error) = await RunAsync("scontrol", "reconfigure");
        if (code != 0) throw new InvalidOperationException($"scontrol reconfigure failed: {error}");
    }

    private sealed class Restore(Func<Task> undo) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await undo();
    }

    private static async Task<bool> ControllerAnswersAsync() => (await RunAsync("scontrol", "ping")).Output.Contains("is UP");

    /// <summary>Where the platform leaves a task's environment for its job on the demo login host.</summary>
    public static string EnvFileOf(string taskId) => $"/home/{DemoSshHost.User}/.rosetta/slurm/{taskId}.env";

    /// <summary>
    /// The processes of a task's submission on the demo login host while its sbatch runs: sbatch (found by
    /// the job name, which holds the task id) and the login shell that started it.
    /// </summary>
    public static async Task<(int Shell, int Sbatch)> WaitForSubmissionAsync(string taskId, int seconds)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < deadline)
        {
            foreach (var directory in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(directory), out var pid)) continue;
                try
                {
                    var args = (await File.ReadAllTextAsync(Path.Combine(directory, "cmdline"))).Split('\0');
                    if (!args[0].EndsWith("sbatch", StringComparison.Ordinal) || !args.Contains($"rosetta-{taskId}")) continue;
                    var parent = (await File.ReadAllLinesAsync(Path.Combine(directory, "status"))).Single(l => l.StartsWith("PPid:", StringComparison.Ordinal));
                    return (int.Parse(parent["PPid:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture), pid);
                }
                catch (IOException)
                {
                    // The process ended while it was read.
                }
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"No sbatch of task {taskId} ran within {seconds} s.");
    }

    /// <summary>CPUs of the node, as Slurm counts them.</summary>
    public static async Task<int> NodeCpusAsync() => int.Parse((await RunAsync("sinfo", "-h", "-N", "-o", "%c")).Output.Trim().Split('\n')[0]);

    public static async Task CancelAsync(string jobId)
    {
        var (code, _, error) = await RunAsync("scancel", jobId);
        if (code != 0) throw new InvalidOperationException($"scancel {jobId} failed: {error}");
    }

    public static async Task<(int Code, string Output, string Error)> RunAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await error);
    }
}
