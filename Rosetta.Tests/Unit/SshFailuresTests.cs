using Renci.SshNet.Common;
using Rosetta.Core.Backends.Ssh;
using Rosetta.Core.Domain;

namespace Rosetta.Tests.Unit;

public sealed class SshFailuresTests
{
    [Fact]
    public void ARefusedKeyIsNamedAsTheOneThatWasUsed()
    {
        var refused = new SshAuthenticationException("Permission denied (publickey).");
        var platformWide = new ComputingResource { Id = "c", Name = "Cluster", Kind = ComputingKind.Slurm, Host = "hpc.example.org", Username = "svc" };
        var users = new ComputingResource { Id = "h", Name = "Mine", Kind = ComputingKind.Ssh, Host = "box.example.org", Username = "ada", OwnerId = "user-1" };

        var forPlatform = SshFailures.Connect(platformWide, refused, 10).Message;
        Assert.StartsWith("hpc.example.org refused the platform's key for user 'svc'.", forPlatform);
        Assert.Contains("Rosetta:Ssh:PlatformKeyPath", forPlatform);

        var forUser = SshFailures.Connect(users, refused, 10).Message;
        Assert.StartsWith("box.example.org refused your key for user 'ada'. Add the public key shown on your Account page to ~ada/.ssh/authorized_keys", forUser);
        Assert.DoesNotContain("platform", forUser);
    }

    [Fact]
    public void AnIPv6HostIsShownInBracketsSoItsPortReadsAsOne()
    {
        var refused = new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionRefused);
        var v6 = new ComputingResource { Id = "h", Name = "Mine", Kind = ComputingKind.Ssh, Host = "::1", Port = 2222, Username = "ada" };
        Assert.StartsWith("[::1]:2222 refused the connection", SshFailures.Connect(v6, refused, 10).Message);
        var v4 = new ComputingResource { Id = "h", Name = "Mine", Kind = ComputingKind.Ssh, Host = "127.0.0.1", Port = 2222, Username = "ada" };
        Assert.StartsWith("127.0.0.1:2222 refused the connection", SshFailures.Connect(v4, refused, 10).Message);
    }

    [Fact]
    public void AKeyOtherThanThePinnedOneIsNamedWithoutClaimingItChangedAndTheOfferedOneIsReadBack()
    {
        var host = new ComputingResource { Id = "h", Name = "Mine", Kind = ComputingKind.Ssh, Host = "box.example.org", Port = 22, Username = "ada" };
        var message = HostKeyChange.Message(host, "pinnedKey", "offeredKey");
        Assert.StartsWith("The host key of box.example.org:22 is not the one pinned: the platform pinned SHA256:pinnedKey but the host offered SHA256:offeredKey.", message);
        Assert.Contains("fingerprint given when the resource was added is mistyped", message); // a wrong pin at creation never changed
        Assert.Equal("SHA256:offeredKey", HostKeyChange.OfferedIn(message));
    }
}
