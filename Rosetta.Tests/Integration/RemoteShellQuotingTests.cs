using System.Diagnostics;
using System.Text;
using Renci.SshNet;
using Rosetta.Core.Remote;
using Rosetta.Core.Security;

namespace Rosetta.Tests.Integration;

/// <summary>
/// The quoting helper against a real shell on a real sshd (the demo SSH host that ./rosetta.sh infra
/// starts on 127.0.0.1:2222): hostile strings come back byte-identical, and the host key is pinned.
/// </summary>
public sealed class RemoteShellQuotingTests
{
    private const string DemoUser = "rosetta-demo";
    private const string HostKeyPublic = "/var/lib/rosetta/demo-sshd/ssh_host_ed25519_key.pub";

    public static TheoryData<string> Hostile => new()
    {
        "plain", "two  spaces", "'single'", "\"double\"", "it's \"mixed\"", "$(touch /tmp/rosetta-pwned)", "`touch /tmp/rosetta-pwned`",
        "${HOME}", "$HOME", "a;rm -rf /tmp/nothing", "a && b || c", "a | b", "a > /tmp/x < /dev/null", "line1\nline2", "tab\there",
        "back\\slash\\", "*", "?", "[a-z]", "~root", "-n", "--help", "#comment", "!event", "{a,b}", "ünïcödé ✓ 数据 📓",
        "trailing newline\n", "\r\ncarriage", "'; echo pwned; '", "\"; echo pwned; \"", "$'\\x41'", "%s %n", "",
        new string('x', 4000),
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public async Task AHostileArgumentArrivesVerbatim(string hostile)
    {
        using var ssh = await ConnectAsync();
        using var command = ssh.CreateCommand(ShellCommand.Join("printf", "%s", hostile));
        await command.ExecuteAsync(CancellationToken.None);
        Assert.Equal(0, command.ExitStatus);
        Assert.Equal(Encoding.UTF8.GetBytes(hostile), Encoding.UTF8.GetBytes(command.Result));
        Assert.False(File.Exists("/tmp/rosetta-pwned"), "a command substitution ran");
    }

    [Fact]
    public async Task AChangedHostKeyIsRefused()
    {
        var key = await DemoKeyAsync();
        using var ssh = new SshClient(new ConnectionInfo("127.0.0.1", 2222, DemoUser, new PrivateKeyAuthenticationMethod(DemoUser, key)));
        ssh.HostKeyReceived += (_, e) => e.CanTrust = e.FingerPrintSHA256 == "not-the-pinned-fingerprint";
        await Assert.ThrowsAnyAsync<Renci.SshNet.Common.SshConnectionException>(() => ssh.ConnectAsync(CancellationToken.None));
    }

    private static async Task<SshClient> ConnectAsync()
    {
        var pinned = await PinnedFingerprintAsync();
        var ssh = new SshClient(new ConnectionInfo("127.0.0.1", 2222, DemoUser, new PrivateKeyAuthenticationMethod(DemoUser, await DemoKeyAsync())));
        ssh.HostKeyReceived += (_, e) => e.CanTrust = e.FingerPrintSHA256 == pinned;
        await ssh.ConnectAsync(CancellationToken.None);
        return ssh;
    }

    private static readonly SemaphoreSlim KeyGate = new(1, 1);
    private static PrivateKeyFile? _key;

    /// <summary>A key of this test run, authorised for the demo user (the tests run as root, like ./rosetta.sh test).</summary>
    private static async Task<PrivateKeyFile> DemoKeyAsync()
    {
        await KeyGate.WaitAsync();
        try
        {
            if (_key is not null) return _key;
            var home = $"/home/{DemoUser}/.ssh/authorized_keys";
            if (!File.Exists(home))
                throw new InvalidOperationException($"The demo SSH host is not set up ({home} missing): run ./rosetta.sh infra.");
            var (publicKey, privateKey) = UserKeyService.Generate("rosetta-tests");
            await File.AppendAllTextAsync(home, publicKey + "\n");
            return _key = new PrivateKeyFile(new MemoryStream(Encoding.ASCII.GetBytes(privateKey)));
        }
        finally
        {
            KeyGate.Release();
        }
    }

    private static async Task<string> PinnedFingerprintAsync()
    {
        var start = new ProcessStartInfo("ssh-keygen", ["-l", "-E", "sha256", "-f", HostKeyPublic]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"No demo host key at {HostKeyPublic}: run ./rosetta.sh infra.");
        // "256 SHA256:abc… comment (ED25519)" → "abc…", the form SSH.NET reports.
        return output.Split(' ')[1]["SHA256:".Length..];
    }
}
