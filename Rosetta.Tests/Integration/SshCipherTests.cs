using Rosetta.Core.Backends.Ssh;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Integration;

/// <summary>The cipher the platform's connections settle on with a real OpenSSH server (the demo sshd).</summary>
public sealed class SshCipherTests
{
    [Fact]
    public async Task ThePlatformSettlesOnAesGcmWithOpenSsh()
    {
        using var ssh = await DemoSshHost.ConnectAsync(SshCiphers.PreferFastest);
        Assert.Equal("aes128-gcm@openssh.com", ssh.ConnectionInfo.CurrentClientEncryption);
        Assert.Equal("aes128-gcm@openssh.com", ssh.ConnectionInfo.CurrentServerEncryption);
    }

    [Fact]
    public async Task EveryOtherCipherStaysOfferedForHostsThatLackAesGcm()
    {
        string[] defaults = [];
        using var ssh = await DemoSshHost.ConnectAsync(info =>
        {
            defaults = [.. info.Encryptions.Keys];
            SshCiphers.PreferFastest(info);
            Assert.Equal(SshCiphers.Preferred, info.Encryptions.Keys.Take(SshCiphers.Preferred.Count));
            Assert.Equal(defaults.Order(), info.Encryptions.Keys.Order());
            // As if the host offered no AES-GCM: the next cipher in SSH.NET's own order is agreed.
            foreach (var name in SshCiphers.Preferred) info.Encryptions.Remove(name);
        });
        Assert.Equal(defaults.First(name => !SshCiphers.Preferred.Contains(name)), ssh.ConnectionInfo.CurrentClientEncryption);
    }
}
