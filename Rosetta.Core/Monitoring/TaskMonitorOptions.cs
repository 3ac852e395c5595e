namespace Rosetta.Core.Monitoring;

/// <summary>Configuration section <c>Rosetta:Tasks</c>.</summary>
public sealed class TaskMonitorOptions
{
    /// <summary>How long a task may take from launch until its interface answers.</summary>
    public int StartTimeoutSeconds { get; set; } = 120;
    /// <summary>Pause between two readiness probes of a starting interface.</summary>
    public int ProbeIntervalMilliseconds { get; set; } = 50;
    /// <summary>How many of a failed container's last output lines go into the task's error.</summary>
    public int ErrorLogLines { get; set; } = 20;
    /// <summary>Longest wait before reconnecting to an engine that went away.</summary>
    public int MaxReconnectDelaySeconds { get; set; } = 10;
    /// <summary>How often time limits (walltime) are checked.</summary>
    public int WalltimeCheckSeconds { get; set; } = 5;
    /// <summary>
    /// Most tasks one user may have that have not ended (created, queued, starting, running, stopping),
    /// so one person cannot take a shared machine for themselves; 0: no limit.
    /// </summary>
    public int MaxActivePerUser { get; set; }
}
