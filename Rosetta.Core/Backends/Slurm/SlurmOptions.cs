namespace Rosetta.Core.Backends.Slurm;

/// <summary>Settings of the Slurm backend (configuration section <c>Rosetta:Slurm</c>).</summary>
public sealed class SlurmOptions
{
    /// <summary>How often the platform asks each cluster for its jobs: one <c>squeue</c> per cluster per interval, however many jobs.</summary>
    public double PollIntervalSeconds { get; set; } = 5;

    /// <summary>
    /// How often a launch looks while its job has just been submitted or is starting on its node (the seconds that decide how fast an
    /// interface is up), and how soon a completing job is looked at again; a job waiting in the
    /// queue is only looked at with the regular poll.
    /// </summary>
    public int StartPollMilliseconds { get; set; } = 200;

    /// <summary>How long after submission a launch keeps the fast poll, whatever the scheduler says, before settling on the regular one.</summary>
    public int StartFastPollSeconds { get; set; } = 3;

    /// <summary>How long a stop waits for the job to end (its trap removes the container) after scancel.</summary>
    public int CancelWaitSeconds { get; set; } = 30;
}
