using System.Text;
using Renci.SshNet;
using Rosetta.Core.Remote;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Integration;

/// <summary>
/// The quoting helper against a real shell on a real sshd (the demo SSH host that ./rosetta.sh infra
/// starts on 127.0.0.1:2222): hostile strings come back byte-identical, and the host key is pinned.
/// </summary>
public sealed class RemoteShellQuotingTests
{
    public static TheoryData<string> Hostile => new()
    {
        "plain", "two  spaces", "'single'", "\"double\"", "it's \"mixed\"", "$(touch /tmp/rosetta-pwned)", "`touch /tmp/rosetta-pwned`",
        "${HOME}", "$HOME", "a;rm -rf /tmp/nothing", "a && b || c", "a | b", "a > /tmp/x < /dev/null", "line1\nline2", "tab\there",
        "back\\slash\\", "*", "?", "[a-z]", "~root", "-n", "--help", "#comment", "!event", "{a,b}", "ünïcödé ✓ 数据 📓",
        "trailing newline\n", "\r\ncarriage", "'; echo pwned; '", "\"; echo pwned; \"", "$'\\x41'", "%s %n", "=ls", "=x", "",
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
        var (_, privateKey) = await DemoSshHost.TestKeyAsync();
        var key = new PrivateKeyFile(new MemoryStream(Encoding.ASCII.GetBytes(privateKey)));
        using var ssh = new SshClient(new ConnectionInfo(DemoSshHost.Host, DemoSshHost.Port, DemoSshHost.User, new PrivateKeyAuthenticationMethod(DemoSshHost.User, key)));
        ssh.HostKeyReceived += (_, e) => e.CanTrust = e.FingerPrintSHA256 == "not-the-pinned-fingerprint";
        await Assert.ThrowsAnyAsync<Renci.SshNet.Common.SshConnectionException>(() => ssh.ConnectAsync(CancellationToken.None));
    }

    /// <summary>
    /// Trust on first use with two connections at once (commands and SFTP connect separately): the one that
    /// finds another key pinned meanwhile is refused, not kept on the key it was offered.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AFirstConnectionKeepsItsKeyOnlyIfItIsTheOnePinned(bool samePinned)
    {
        var (_, privateKey) = await DemoSshHost.TestKeyAsync();
        var computing = new Rosetta.Core.Domain.ComputingResource
        {
            Id = "race", Name = "Race", Kind = Rosetta.Core.Domain.ComputingKind.Ssh, Host = DemoSshHost.Host, Port = DemoSshHost.Port, Username = DemoSshHost.User,
        };
        string? offered = null;
        using var connection = new Rosetta.Core.Backends.Ssh.SshConnection(computing,
            _ => Task.FromResult(new Rosetta.Core.Backends.Ssh.SshCredentials(new PrivateKeyFile(new MemoryStream(Encoding.ASCII.GetBytes(privateKey))), PinnedFingerprint: null)),
            (fingerprint, _) => Task.FromResult<string?>(samePinned ? offered = fingerprint : "pinned-by-the-other-connection"),
            new Rosetta.Core.Backends.Ssh.SshOptions(), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, new Rosetta.Core.Backends.Ssh.TunnelAdmission());
        if (samePinned)
        {
            Assert.Equal("ok", (await connection.RunAsync("echo ok", null, CancellationToken.None)).Output.Trim());
            Assert.Equal(offered, connection.HostKeyFingerprint);
        }
        else
        {
            var refused = await Assert.ThrowsAsync<Rosetta.Core.Backends.BackendUnavailableException>(() => connection.RunAsync("echo ok", null, CancellationToken.None));
            Assert.Contains("is not the one pinned: the platform pinned SHA256:pinned-by-the-other-connection", refused.Message);
            Assert.Null(connection.HostKeyFingerprint);
        }
    }

    private static Task<SshClient> ConnectAsync() => DemoSshHost.ConnectAsync();
}
