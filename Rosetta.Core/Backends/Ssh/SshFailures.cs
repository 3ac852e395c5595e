using System.Net.Sockets;
using Renci.SshNet.Common;
using Rosetta.Core.Domain;

namespace Rosetta.Core.Backends.Ssh;

/// <summary>
/// Turns what SSH.NET and the remote shell report into sentences that say what is wrong and what to
/// fix: the resource's test button and a failed task show them as they are.
/// </summary>
internal static class SshFailures
{
    public static BackendUnavailableException Connect(ComputingResource computing, Exception e, int timeoutSeconds)
    {
        var where = computing.Address;
        var message = e switch
        {
            SocketException { SocketErrorCode: SocketError.ConnectionRefused } =>
                $"{where} refused the connection: no SSH server listens there. Check the host and the port.",
            SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain } =>
                $"The host name '{computing.Host}' does not resolve. Check the host.",
            SocketException { SocketErrorCode: SocketError.TimedOut } or SshOperationTimeoutException or TimeoutException or OperationCanceledException =>
                $"{where} did not answer within {timeoutSeconds} s: the host is down or a firewall drops the connection.",
            SocketException { SocketErrorCode: SocketError.NetworkUnreachable or SocketError.HostUnreachable } socket =>
                $"{where} is unreachable from the platform ({socket.SocketErrorCode}).",
            // A user's own resource logs in with that user's key, a platform-wide one with the platform's.
            SshAuthenticationException => computing.OwnerId is null
                ? $"{computing.Host} refused the platform's key for user '{computing.Username}'. Add the platform's public key " +
                  $"(the admin's configuration, Rosetta:Ssh:PlatformKeyPath) to ~{computing.Username}/.ssh/authorized_keys on that host, and check the username."
                : $"{computing.Host} refused your key for user '{computing.Username}'. Add the public key shown on your Account page to " +
                  $"~{computing.Username}/.ssh/authorized_keys on that host, and check the username.",
            SshConnectionException when e.Message.Contains("identification", StringComparison.OrdinalIgnoreCase) =>
                $"{where} answered but is not an SSH server. Check the port.",
            _ => $"Could not connect to {where}: {e.GetBaseException().Message}",
        };
        return new BackendUnavailableException(message, e);
    }

    public static BackendUnavailableException HostKeyChanged(ComputingResource computing, string pinned, string offered) =>
        new(HostKeyChange.Message(computing, pinned, offered));

    public static BackendUnavailableException ConnectionLost(ComputingResource computing, Exception e) =>
        new($"The SSH connection to {computing.Address} was lost: {e.GetBaseException().Message}", e);

    /// <summary>
    /// A container-engine command failed in a way that means the engine is not usable at all. Not when the engine ran
    /// and a container did not start: its run exits 127 or 126 too when the image's program is missing or not executable
    /// (and says "permission denied" for the latter), which is the image's fault, not the host's.
    /// </summary>
    public static BackendUnavailableException? EngineUnusable(ComputingResource computing, string program, RemoteResult result)
    {
        var error = result.FirstErrorLine;
        if (FromTheEngine(result.Error)) return null;
        if (result.ExitStatus == 127 || error.Contains("command not found", StringComparison.OrdinalIgnoreCase))
            return new($"The container engine '{program}' is not installed on {computing.Host} (or not on the PATH of '{computing.Username}'): install it there, or choose the other engine for this resource.");
        if (error.Contains("permission denied", StringComparison.OrdinalIgnoreCase))
            return new($"User '{computing.Username}' on {computing.Host} may not use {program}: {error}");
        if (error.Contains("Cannot connect to the Docker daemon", StringComparison.OrdinalIgnoreCase) || error.Contains("Is the docker daemon running", StringComparison.OrdinalIgnoreCase))
            return new($"The {program} engine on {computing.Host} is not running: {error}");
        return null;
    }

    /// <summary>The engine's own answer about a container (docker's "Error response from daemon", an OCI runtime's words).</summary>
    private static bool FromTheEngine(string error) =>
        error.Contains("Error response from daemon", StringComparison.Ordinal) || error.Contains("OCI runtime", StringComparison.Ordinal);
}

/// <summary>What a remote command returned.</summary>
public sealed record RemoteResult(int ExitStatus, string Output, string Error)
{
    public bool Succeeded => ExitStatus == 0;

    /// <summary>The first non-empty line of standard error, for messages.</summary>
    public string FirstErrorLine => Error.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0) ?? $"exit status {ExitStatus}";
}
