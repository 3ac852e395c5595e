using System.Diagnostics;
using System.Text;
using Renci.SshNet;
using Rosetta.Core.Security;

namespace Rosetta.Tests.Infrastructure;

/// <summary>
/// The demo SSH host that `./rosetta.sh infra` starts: sshd on 127.0.0.1:2222, user rosetta-demo
/// who may use the Docker engine. Tests authorise their own keys for it (they run as root, like
/// `./rosetta.sh test`). There is no skip: a missing host fails the test with what to run.
/// </summary>
public static class DemoSshHost
{
    public const string Host = "127.0.0.1";
    public const int Port = 2222;
    public const string User = "rosetta-demo";
    private const string AuthorizedKeys = $"/home/{User}/.ssh/authorized_keys";
    private const string HostKeyPublic = "/var/lib/rosetta/demo-sshd/ssh_host_ed25519_key.pub";
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static (string Public, string Private)? _testKey;

    /// <summary>A key pair of this test run, authorised for the demo user.</summary>
    public static async Task<(string PublicKey, string PrivateKey)> TestKeyAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (_testKey is { } known) return known;
            var (publicKey, privateKey) = UserKeyService.Generate("rosetta-tests");
            await AuthorizeUnlockedAsync(publicKey);
            _testKey = (publicKey, privateKey);
            return _testKey.Value;
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>What a user does by hand: puts a public key into the demo user's authorized_keys.</summary>
    public static async Task AuthorizeAsync(string publicKey)
    {
        await Gate.WaitAsync();
        try
        {
            await AuthorizeUnlockedAsync(publicKey);
        }
        finally
        {
            Gate.Release();
        }
    }

    private static async Task AuthorizeUnlockedAsync(string publicKey)
    {
        if (!File.Exists(AuthorizedKeys))
            throw new InvalidOperationException($"The demo SSH host is not set up ({AuthorizedKeys} missing): run ./rosetta.sh infra.");
        await File.AppendAllTextAsync(AuthorizedKeys, publicKey.Trim() + "\n");
    }

    /// <summary>Writes the test key to a file (mode 0600) for the platform's Rosetta:Ssh:PlatformKeyPath.</summary>
    public static async Task<string> TestKeyFileAsync(string directory)
    {
        var (_, privateKey) = await TestKeyAsync();
        var path = Path.Combine(directory, "platform_ed25519");
        await File.WriteAllTextAsync(path, privateKey);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }

    /// <param name="configure">Changes the connection's settings before it connects (e.g. the ciphers offered).</param>
    public static async Task<SshClient> ConnectAsync(Action<ConnectionInfo>? configure = null)
    {
        var pinned = await FingerprintAsync(HostKeyPublic);
        var (_, privateKey) = await TestKeyAsync();
        var key = new PrivateKeyFile(new MemoryStream(Encoding.ASCII.GetBytes(privateKey)));
        var info = new ConnectionInfo(Host, Port, User, new PrivateKeyAuthenticationMethod(User, key));
        configure?.Invoke(info);
        var ssh = new SshClient(info);
        ssh.HostKeyReceived += (_, e) => e.CanTrust = e.FingerPrintSHA256 == pinned;
        await ssh.ConnectAsync(CancellationToken.None);
        return ssh;
    }

    public static Task<string> FingerprintAsync() => FingerprintAsync(HostKeyPublic);

    /// <summary>Runs the demo user's rootless podman (which `./rosetta.sh infra` sets up) and returns its output.</summary>
    public static Task<string> PodmanAsync(params string[] arguments) => RunAsUserAsync(["podman", .. arguments]);

    /// <summary>The demo login's own rootless docker daemon (started by ./rosetta.sh infra), which sessions reach with DOCKER_HOST.</summary>
    public static string RootlessDockerHost =>
        $"unix:///run/user/{File.ReadLines("/etc/passwd").Select(l => l.Split(':')).Single(f => f[0] == User)[2]}/docker.sock";

    public static Task<string> RootlessDockerAsync(params string[] arguments) => RunAsUserAsync(["env", $"DOCKER_HOST={RootlessDockerHost}", "docker", .. arguments]);

    /// <summary>Runs a program as the demo login (what a task or the user would do on the host) and returns its output; a failure throws.</summary>
    public static async Task<string> RunAsUserAsync(params string[] command)
    {
        var (exitCode, output, error) = await AsUserAsync(command);
        if (exitCode != 0) throw new InvalidOperationException($"{string.Join(' ', command)} failed as {User} ({error.Trim()}): run ./rosetta.sh infra.");
        return output;
    }

    /// <summary>Runs a command as the demo user (the SSH login, whose rights the file manager has over SFTP).</summary>
    public static async Task<(int ExitCode, string Output, string Error)> AsUserAsync(params string[] command)
    {
        var start = new ProcessStartInfo("runuser", ["-u", User, "--", .. command])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = $"/home/{User}",
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("runuser did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await error);
    }

    /// <summary>The SHA-256 fingerprint of a public host key file, in the form SSH.NET reports (base64, no prefix).</summary>
    public static async Task<string> FingerprintAsync(string publicKeyFile)
    {
        var start = new ProcessStartInfo("ssh-keygen", ["-l", "-E", "sha256", "-f", publicKeyFile]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"No host key at {publicKeyFile}: run ./rosetta.sh infra.");
        // "256 SHA256:abc… comment (ED25519)" → "abc…"
        return output.Split(' ')[1]["SHA256:".Length..];
    }
}
