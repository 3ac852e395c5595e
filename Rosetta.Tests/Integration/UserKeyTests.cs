using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Renci.SshNet;
using Rosetta.App.Auth;
using Rosetta.Core.Domain;
using Rosetta.Core.Security;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Integration;

/// <summary>Per-user SSH keys: one OpenSSH line per user, rotatable, accepted by a real OpenSSH server.</summary>
[Collection("platform")]
public sealed class UserKeyTests(PlatformFixture platform)
{
    private RosettaAppFactory App => platform.App;

    [Fact]
    public async Task EachUserHasTheirOwnKeyWhichARealSshServerAcceptsAndWhichRotates()
    {
        var name = "keys" + Guid.NewGuid().ToString("N")[..6];
        using var alice = await App.NewUserClientAsync(name);
        using var bob = await App.NewUserClientAsync();

        var response = await alice.GetAsync("/api/v1/account/public-key");
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        var publicKey = (await response.Content.ReadAsStringAsync()).TrimEnd('\n');
        Assert.Matches($"^ssh-ed25519 [A-Za-z0-9+/=]+ rosetta:{name}$", publicKey);
        Assert.DoesNotContain('\n', publicKey);
        Assert.Equal(publicKey, (await alice.GetStringAsync("/api/v1/account/public-key")).TrimEnd('\n'));
        Assert.NotEqual(publicKey, (await bob.GetStringAsync("/api/v1/account/public-key")).TrimEnd('\n'));

        // The platform's private half logs into a real sshd that trusts the public half.
        var userId = (await App.Services.GetRequiredService<UserAdministration>().ListAsync()).Single(u => u.Username == name).Id;
        var privateKey = await App.Services.GetRequiredService<UserKeyService>().PrivateKeyAsync(userId, name, CancellationToken.None);
        var id = (string)(await TaskApi.StartAsync(alice, new
        {
            software = "ssh", computing = "local",
            options = new { env = new Dictionary<string, string> { ["SSH_AUTHORIZED_KEYS"] = publicKey } },
        }))["id"]!;
        try
        {
            await TaskApi.WaitForStatusAsync(alice, id, "running", seconds: 60);
            var deadline = DateTime.UtcNow.AddSeconds(15);
            int? port = null;
            while (port is null && DateTime.UtcNow < deadline)
            {
                port = (int?)(await TaskApi.GetAsync(alice, id))["interface"]!["port"];
                if (port is null) await Task.Delay(100);
            }
            using var keyStream = new MemoryStream(System.Text.Encoding.ASCII.GetBytes(privateKey));
            using var ssh = new SshClient(new ConnectionInfo("127.0.0.1", port!.Value, "scientist", new PrivateKeyAuthenticationMethod("scientist", new PrivateKeyFile(keyStream))));
            await ssh.ConnectAsync(CancellationToken.None);
            Assert.Equal("key-ok", ssh.RunCommand("echo key-ok").Result.Trim());
        }
        finally
        {
            await TaskApi.StopAndDeleteAsync(alice, id);
        }

        var rotated = (await (await alice.PostAsync("/api/v1/account/public-key/rotate", null)).Content.ReadAsStringAsync()).TrimEnd('\n');
        Assert.NotEqual(publicKey, rotated);
        Assert.Equal(rotated, (await alice.GetStringAsync("/api/v1/account/public-key")).TrimEnd('\n'));
    }

    [Fact]
    public async Task GeneratedKeysAreValidForOpenSsh()
    {
        var (publicKey, privateKey) = UserKeyService.Generate("rosetta:test");
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, privateKey);
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            var start = new ProcessStartInfo("ssh-keygen", ["-y", "-f", file]) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var process = Process.Start(start)!;
            var derived = (await process.StandardOutput.ReadToEndAsync()).Trim();
            await process.WaitForExitAsync();
            Assert.Equal(0, process.ExitCode);
            Assert.Equal(string.Join(' ', publicKey.Split(' ')[..2]), string.Join(' ', derived.Split(' ')[..2]));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task ADisabledUsersTokenStopsWorkingAtOnce()
    {
        var name = "gone" + Guid.NewGuid().ToString("N")[..6];
        using var client = await App.NewUserClientAsync(name);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/tasks")).StatusCode);
        var users = App.Services.GetRequiredService<UserAdministration>();
        var user = (await users.ListAsync()).Single(u => u.Username == name);
        await users.SetDisabledAsync(new Caller("someone-else", IsAdmin: true), user.Id, disabled: true);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/v1/tasks")).StatusCode);
    }
}
