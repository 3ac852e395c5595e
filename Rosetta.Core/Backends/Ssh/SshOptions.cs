namespace Rosetta.Core.Backends.Ssh;

/// <summary>Settings of the SSH backend (configuration section <c>Rosetta:Ssh</c>).</summary>
public sealed class SshOptions
{
    /// <summary>
    /// An OpenSSH private key file with which the platform logs into platform-wide SSH resources
    /// (those an admin shares with everyone). Users' own resources use the user's own key.
    /// </summary>
    public string? PlatformKeyPath { get; set; }

    /// <summary>How long a connection attempt may take.</summary>
    public int ConnectTimeoutSeconds { get; set; } = 10;

    /// <summary>Keep-alive interval; a dead connection is noticed within about this time.</summary>
    public int KeepAliveSeconds { get; set; } = 10;

    /// <summary>
    /// Short commands (run, inspect, stop) running at once on one connection. Together with
    /// <see cref="MaxStreams"/> it stays under OpenSSH's default MaxSessions of 10.
    /// </summary>
    public int MaxCommands { get; set; } = 4;

    /// <summary>Long-running commands (followed logs, image pulls) at once on one connection.</summary>
    public int MaxStreams { get; set; } = 5;

    /// <summary>How often the monitor asks each remote engine for the state of its containers.</summary>
    public double PollIntervalSeconds { get; set; } = 2;

    /// <summary>Seconds a stopped container gets between SIGTERM and SIGKILL.</summary>
    public int StopGraceSeconds { get; set; } = 10;
}
