using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Rosetta.Tests.Infrastructure;

/// <summary>
/// An sshd of one test's own on a free loopback port (user rosetta-demo, keys from a file of this
/// test), so the test may kill and restart it without disturbing the shared demo host.
/// </summary>
public sealed class PrivateSshd : IAsyncDisposable
{
    private readonly DirectoryInfo _directory;
    private Process? _process;

    private PrivateSshd(DirectoryInfo directory, int port)
    {
        _directory = directory;
        Port = port;
    }

    public int Port { get; }
    public string HostKeyPublicFile => Path.Combine(_directory.FullName, "host_ed25519.pub");
    private string AuthorizedKeysFile => Path.Combine(_directory.FullName, "authorized_keys");

    /// <param name="authorizedKey">The one public key allowed in.</param>
    /// <param name="extraConfig">More sshd_config lines, e.g. <c>SetEnv PATH=/nowhere</c> to hide the engine.</param>
    public static async Task<PrivateSshd> StartAsync(string authorizedKey, string extraConfig = "")
    {
        var directory = Directory.CreateTempSubdirectory("rosetta-sshd");
        // sshd reads authorized_keys as the target user, who must be able to get there.
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(directory.FullName, (UnixFileMode)0b111_101_101);
        var sshd = new PrivateSshd(directory, FreePort());
        await Run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", Path.Combine(directory.FullName, "host_ed25519"));
        await File.WriteAllTextAsync(sshd.AuthorizedKeysFile, authorizedKey.Trim() + "\n");
        await File.WriteAllTextAsync(Path.Combine(directory.FullName, "sshd_config"), $"""
            ListenAddress 127.0.0.1
            Port {sshd.Port}
            HostKey {Path.Combine(directory.FullName, "host_ed25519")}
            PidFile {Path.Combine(directory.FullName, "sshd.pid")}
            AuthorizedKeysFile {sshd.AuthorizedKeysFile}
            StrictModes no
            AuthenticationMethods publickey
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            UsePAM no
            AllowUsers {DemoSshHost.User}
            AllowTcpForwarding yes
            Subsystem sftp internal-sftp
            {extraConfig}
            """);
        await sshd.StartAsync();
        return sshd;
    }

    /// <summary>Starts (or starts again) the daemon and waits for its banner.</summary>
    public async Task StartAsync()
    {
        var start = new ProcessStartInfo("/usr/sbin/sshd") { RedirectStandardError = true };
        foreach (var argument in new[] { "-D", "-f", Path.Combine(_directory.FullName, "sshd_config"), "-E", Path.Combine(_directory.FullName, "sshd.log") })
            start.ArgumentList.Add(argument);
        _process = Process.Start(start)!;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                var banner = new byte[4];
                if (await client.GetStream().ReadAsync(banner) == 4) return;
            }
            catch (SocketException)
            {
            }
            // A daemon that exited (a bad configuration) says why in its log at once.
            if (_process.HasExited || DateTime.UtcNow > deadline)
            {
                var said = _process.HasExited ? await _process.StandardError.ReadToEndAsync() : "";
                var log = Path.Combine(_directory.FullName, "sshd.log");
                throw new InvalidOperationException($"sshd did not start: {said}{(File.Exists(log) ? await File.ReadAllTextAsync(log) : "")}");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>The host reinstalled: a new host key, and the daemon started again with it.</summary>
    public async Task NewHostKeyAsync()
    {
        Kill();
        var key = Path.Combine(_directory.FullName, "host_ed25519");
        File.Delete(key);
        File.Delete(key + ".pub");
        await Run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key);
        await StartAsync();
    }

    /// <summary>The host key's fingerprint as its owner would read it out: <c>SHA256:…</c> from <c>ssh-keygen -lf</c>.</summary>
    public async Task<string> FingerprintAsync()
    {
        var start = new ProcessStartInfo("ssh-keygen") { RedirectStandardOutput = true };
        foreach (var argument in new[] { "-lf", HostKeyPublicFile }) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output.Split(' ')[1];
    }

    /// <summary>Kills the daemon and every session it serves, like a host whose sshd is restarted hard.</summary>
    public void Kill()
    {
        _process?.Kill(entireProcessTree: true);
        _process?.WaitForExit();
        _process?.Dispose();
        _process = null;
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        await Task.Yield();
        _directory.Delete(recursive: true);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task Run(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardError = true };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{file} failed: {await process.StandardError.ReadToEndAsync()}");
    }
}
