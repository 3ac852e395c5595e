namespace Rosetta.Core.Backends.Ssh;

/// <summary>Settings of the SSH backend (configuration section <c>Rosetta:Ssh</c>).</summary>
public sealed class SshOptions
{
    /// <summary>
    /// An OpenSSH private key file with which the platform logs into platform-wide SSH resources
    /// (those an admin shares with everyone). Users' own resources use the user's own key.
    /// </summary>
    public string? PlatformKeyPath { get; set; }

    /// <summary>
    /// Thread-pool threads kept ready once tunnels are in use: each connection through a tunnel holds
    /// one for its lifetime (see <see cref="TunnelThreads"/>). Raise it for many simultaneous remote interfaces.
    /// </summary>
    public int TunnelThreads { get; set; } = 256;

    /// <summary>How long a connection attempt may take.</summary>
    public int ConnectTimeoutSeconds { get; set; } = 10;

    /// <summary>
    /// Keep-alive interval. SSH.NET's keep-alive expects no answer, so a connection that silently
    /// stopped carrying anything (a firewall or NAT dropped its state) would hang until TCP gives up,
    /// some 15 minutes: a connection idle this long is also asked to run <c>true</c>.
    /// </summary>
    public int KeepAliveSeconds { get; set; } = 10;

    /// <summary>How long that probe may go unanswered before the connection is given up and made anew.</summary>
    public int DeadAfterSeconds { get; set; } = 30;

    /// <summary>
    /// Short commands (run, inspect, stop) running at once on one connection. Together with
    /// <see cref="MaxStreams"/> and the one liveness probe it stays within OpenSSH's default MaxSessions of 10.
    /// </summary>
    public int MaxCommands { get; set; } = 4;

    /// <summary>Long-running commands (followed logs) at once on one connection; one more waits 10 s, then is refused saying so.</summary>
    public int MaxStreams { get; set; } = 5;

    /// <summary>
    /// How long a short command may run: one that hangs (a wedged engine, a stop of a process stuck in the kernel) would
    /// otherwise hold one of the <see cref="MaxCommands"/> for good, and every stop, inspection and poll of the host waits.
    /// </summary>
    public int CommandTimeoutSeconds { get; set; } = 300;

    /// <summary>
    /// How long a long command may run: an image pull (in one of the <see cref="MaxCommands"/> places; one pull at a time
    /// per host), or the first grant of a storage's tree to the tasks' user (setfacl -R over millions of files).
    /// </summary>
    public int LongCommandTimeoutMinutes { get; set; } = 60;

    /// <summary>
    /// The most output kept of one command, per stream (standard output, standard error): a host printing without end
    /// would otherwise fill the platform's memory. A listing of a thousand containers is some 10 MB.
    /// </summary>
    public int MaxCommandOutputMegabytes { get; set; } = 64;

    /// <summary>How often the monitor asks each remote engine for the state of its containers.</summary>
    public double PollIntervalSeconds { get; set; } = 2;

    /// <summary>Seconds a stopped container gets between SIGTERM and SIGKILL.</summary>
    public int StopGraceSeconds { get; set; } = 10;
}
