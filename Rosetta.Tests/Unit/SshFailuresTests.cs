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
}
