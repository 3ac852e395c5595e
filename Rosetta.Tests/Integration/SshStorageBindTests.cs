using System.Net;
using System.Net.Http.Json;
using Docker.DotNet.Models;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Integration;

/// <summary>
/// sftp storages of an SSH resource are bound into tasks there with <c>-v</c>: the folder is made on
/// the host first (as the login user, variables substituted), read-only where the storage is.
/// The demo host shares this machine's file system and engine, so the test can look at both sides.
/// </summary>
[Collection("ssh")]
public sealed class SshStorageBindTests(SshPlatformFixture platform)
{
    private RosettaAppFactory App => platform.App;

    [Fact]
    public async Task ATaskOnTheSshHostSeesItsStoragesAtTheirBindPaths()
    {
        var root = "/tmp/rosetta-sftp-" + Guid.NewGuid().ToString("N")[..8];
        using var admin = App.Client(await App.AdminTokenAsync());
        foreach (var (name, bindPath, readOnly) in new[] { ("remote", "/storages/remote", false), ("remote-ro", "/storages/remote-ro", true) })
        {
            var created = await admin.PostAsJsonAsync("/api/v1/storages", new
            {
                id = name, name, kind = "sftp", computing = SshPlatformFixture.DemoComputing, basePath = $"{root}/{name}/$SSH_USER/$USER",
                bindPath, readOnly, platformWide = true,
            });
            Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        }

        var user = "ssb" + Guid.NewGuid().ToString("N")[..6];
        using var client = await App.NewUserClientAsync(user);
        var id = (string)(await TaskApi.StartAsync(client, new { name = "binds over ssh", software = "hello", computing = SshPlatformFixture.DemoComputing }))["id"]!;
        try
        {
            await TaskApi.WaitForStatusAsync(client, id, "running");
            var folder = $"{root}/remote/{DemoSshHost.User}/{user}";
            Assert.True(Directory.Exists(folder), $"{folder} was not made on the host");
            await File.WriteAllTextAsync(Path.Combine(folder, "on-the-host.txt"), "from the host");

            var container = await DockerEngine.InspectTaskContainerAsync(id);
            Assert.Equal(folder, container.Mounts.Single(m => m.Destination == "/storages/remote").Source);
            Assert.True(container.Mounts.Single(m => m.Destination == "/storages/remote").RW);
            Assert.False(container.Mounts.Single(m => m.Destination == "/storages/remote-ro").RW);
            Assert.Equal("from the host", await DockerEngine.ReadInContainerAsync(container.ID, "/storages/remote/on-the-host.txt"));

            // The file manager sees the same file over SFTP.
            Assert.Equal(["on-the-host.txt"], await StorageApi.NamesAsync(client, "remote"));
        }
        finally
        {
            await TaskApi.StopAndDeleteAsync(client, id);
            // Platform-wide storages would be bound into every later task on demo-ssh (other tests' too).
            foreach (var storage in new[] { "remote", "remote-ro" })
                Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/storages/{storage}")).StatusCode);
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task AStorageFolderTheLoginMayNotCreateFailsTheTaskNamingTheFolderNotTheEngine()
    {
        // /root is closed to the login: mkdir is refused with "Permission denied", which from the
        // engine would mean "may not use docker"; here it is about the folder.
        var denied = "/root/rosetta-denied-" + Guid.NewGuid().ToString("N")[..8];
        using var admin = App.Client(await App.AdminTokenAsync());
        var storage = "denied-" + Guid.NewGuid().ToString("N")[..6];
        var created = await admin.PostAsJsonAsync("/api/v1/storages", new
        {
            id = storage, name = storage, kind = "sftp", computing = SshPlatformFixture.DemoComputing, basePath = denied + "/$USER",
            bindPath = "/storages/denied", platformWide = true,
        });
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        using var client = await App.NewUserClientAsync();
        var id = (string)(await TaskApi.StartAsync(client, new { name = "denied bind", software = "hello", computing = SshPlatformFixture.DemoComputing }))["id"]!;
        try
        {
            var failed = await TaskApi.WaitForStatusAsync(client, id, "failed");
            var error = (string?)failed["error"];
            Assert.Contains("The storage folders could not be created on 127.0.0.1", error);
            Assert.Contains("Permission denied", error);
            Assert.DoesNotContain("may not use", error);
            Assert.False(Directory.Exists(denied));
        }
        finally
        {
            await TaskApi.StopAndDeleteAsync(client, id);
            Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/storages/{storage}")).StatusCode);
        }
    }
}
