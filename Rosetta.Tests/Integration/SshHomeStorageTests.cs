using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Integration;

/// <summary>
/// A user who adds their own SSH resource finds their home there in the file manager (<c>$HOME</c>, as the
/// host's SFTP server reports it), and in their tasks once they bind it; docker tasks never get that home
/// opened to the task's user with an ACL (its uid could then add a key to authorized_keys). The demo host shares this machine's
/// file system and engine, so the test looks at both sides.
/// </summary>
[Collection("ssh")]
public sealed class SshHomeStorageTests(SshPlatformFixture platform)
{
    private const string Home = $"/home/{DemoSshHost.User}";
    private RosettaAppFactory App => platform.App;

    [Fact]
    public async Task AnAddedResourceComesWithItsLoginsHomeBrowsableAndBoundOnlyOnRequestNeverOpenedToTheTasksUser()
    {
        using var client = await App.NewUserClientAsync();
        await DemoSshHost.AuthorizeAsync(await client.GetStringAsync("/api/v1/account/public-key"));
        var name = $"home host {Guid.NewGuid().ToString("N")[..6]}";
        var added = await client.PostAsJsonAsync("/api/v1/computing", new
        {
            name, kind = "ssh", host = DemoSshHost.Host, port = DemoSshHost.Port, username = DemoSshHost.User, engine = "docker",
        });
        Assert.True(added.StatusCode == HttpStatusCode.Created, await added.Content.ReadAsStringAsync());
        var computing = (string)JsonNode.Parse(await added.Content.ReadAsStringAsync())!["id"]!;

        var storages = JsonNode.Parse(await client.GetStringAsync("/api/v1/storages"))!.AsArray();
        var home = Assert.Single(storages, s => (string?)s!["computing"] == computing)!;
        Assert.Equal($"Home on {name}", (string?)home["name"]);
        Assert.Equal("$HOME", (string?)home["basePath"]);
        Assert.Equal("/storages/home", (string?)home["bindPath"]);
        Assert.False((bool)home["readOnly"]!);
        Assert.False((bool)home["bound"]!); // it holds the login's SSH keys: in tasks only once its owner says so
        Assert.False(string.IsNullOrEmpty((string?)home["owner"]));
        var storage = (string)home["id"]!;

        var mark = $"rosetta-home-{Guid.NewGuid().ToString("N")[..8]}";
        string? task = null, subStorage = null;
        try
        {
            // The file manager shows the login's own home: what the login wrote there, and what it uploads lands there.
            await DemoSshHost.RunAsUserAsync("sh", "-c", $"echo from-the-login > ~/{mark}-login.txt");
            Assert.Contains($"{mark}-login.txt", await StorageApi.NamesAsync(client, storage));
            await StorageApi.UploadAsync(client, storage, $"{mark}-upload.txt", "from the file manager"u8.ToArray());
            Assert.Equal("from the file manager", await File.ReadAllTextAsync($"{Home}/{mark}-upload.txt"));

            task = (string)(await TaskApi.StartAsync(client, new { name = "home not bound", software = "hello", computing }))["id"]!;
            var unbound = await TaskApi.WaitForStatusAsync(client, task, "running");
            Assert.DoesNotContain((await DockerEngine.InspectTaskContainerAsync(task)).Mounts, m => m.Destination == "/storages/home");
            Assert.Null((string?)unbound["statusDetail"]);
            await TaskApi.StopAndDeleteAsync(client, task);
            task = null;

            // Not bound, a storage claims no path in tasks: one at /storages/home/sub is taken, and stays unbound.
            var sub = await client.PostAsJsonAsync("/api/v1/storages", new { name = "sub", kind = "sftp", computing, basePath = $"$HOME/{mark}", bindPath = "/storages/home/sub", bound = false });
            Assert.True(sub.StatusCode == HttpStatusCode.Created, await sub.Content.ReadAsStringAsync());
            subStorage = (string)JsonNode.Parse(await sub.Content.ReadAsStringAsync())!["id"]!;
            var bind = await client.PutAsJsonAsync($"/api/v1/storages/{storage}", new { bound = true });
            Assert.True(bind.StatusCode == HttpStatusCode.OK, await bind.Content.ReadAsStringAsync());
            // Bound, a path in or around the home's would have the engine make a mount point inside the other folder.
            var nestedBound = await client.PutAsJsonAsync($"/api/v1/storages/{subStorage}", new { bound = true });
            Assert.Equal(HttpStatusCode.Conflict, nestedBound.StatusCode);
            foreach (var (bindPath, says) in new[] { ("/storages", "/storages would hold /storages/home"), ("/storages/home", "is bound at /storages/home") })
            {
                var nested = await client.PostAsJsonAsync("/api/v1/storages", new { name = "nested", kind = "sftp", computing, basePath = "$HOME/data", bindPath });
                Assert.Equal(HttpStatusCode.Conflict, nested.StatusCode);
                var detail = (string?)(await TaskApi.ProblemAsync(nested))["detail"];
                Assert.Contains(says, detail);
                Assert.Contains($"'Home on {name}'", detail);
                Assert.Contains($"on '{name}'", detail); // the resource by its name, as the user knows it
            }
            Assert.Contains("/storages/home/sub would lie in /storages/home", (string?)(await TaskApi.ProblemAsync(nestedBound))["detail"]);
            // A storage in a folder of the home is the user's to make, on their own resource.
            await DemoSshHost.RunAsUserAsync("sh", "-c", $"mkdir -p ~/{mark} && echo in-a-folder > ~/{mark}/seen.txt");
            Assert.Equal(["seen.txt"], await StorageApi.NamesAsync(client, subStorage));
            // The resource logs in with its owner's key, as them: an admin sees it and its storages, but acts through it in no way.
            using var admin = App.Client(await App.AdminTokenAsync());
            var forEveryone = await admin.PostAsJsonAsync("/api/v1/storages", new { name = "everyone's", kind = "sftp", computing, basePath = "/tmp", bindPath = "/storages/eh", platformWide = true });
            Assert.Equal(HttpStatusCode.BadRequest, forEveryone.StatusCode);
            Assert.Contains($"'{name}' is another user's own SSH resource, reached with their key: only they add storages on it.", await forEveryone.Content.ReadAsStringAsync());
            var browsed = await admin.GetAsync($"/api/v1/storages/{subStorage}/files");
            Assert.Equal(HttpStatusCode.Forbidden, browsed.StatusCode);
            Assert.Contains("it is on their own SSH resource, reached with their key", (string?)(await TaskApi.ProblemAsync(browsed))["detail"]);
            var moved = await admin.PutAsJsonAsync($"/api/v1/storages/{subStorage}", new { basePath = "$HOME/.ssh" });
            Assert.Equal(HttpStatusCode.Forbidden, moved.StatusCode);
            var tested = await admin.PostAsync($"/api/v1/computing/{computing}/test", null); // it logs in as the owner's login
            Assert.Equal(HttpStatusCode.Forbidden, tested.StatusCode);
            Assert.Contains("only they test it", (string?)(await TaskApi.ProblemAsync(tested))["detail"]);
            var started = await admin.PostAsJsonAsync("/api/v1/tasks", new { software = "hello", computing });
            Assert.Equal(HttpStatusCode.BadRequest, started.StatusCode);
            Assert.Contains("another user's own resource, reached with their SSH key: only they start tasks on it", await started.Content.ReadAsStringAsync());
            task = (string)(await TaskApi.StartAsync(client, new { name = "home bound", software = "hello", computing }))["id"]!;
            var running = await TaskApi.WaitForStatusAsync(client, task, "running");
            var container = await DockerEngine.InspectTaskContainerAsync(task);
            Assert.Equal(Home, container.Mounts.Single(m => m.Destination == "/storages/home").Source);
            Assert.Equal("from the file manager", await DockerEngine.ReadInContainerAsync(container.ID, $"/storages/home/{mark}-upload.txt"));
            // Not opened to the image's user: the status says why, and the home keeps no ACL entry.
            Assert.Contains($"On {DemoSshHost.Host}, storage folders not opened to this task's user: {Home}.", (string?)running["statusDetail"]);
            Assert.DoesNotContain("user:", (await DemoSshHost.AsUserAsync("getfacl", "-cn", Home)).Output.Replace("user::", ""));
        }
        finally
        {
            if (task is not null) await TaskApi.StopAndDeleteAsync(client, task);
            if (subStorage is not null) Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v1/storages/{subStorage}")).StatusCode);
            await DemoSshHost.RunAsUserAsync("sh", "-c", $"rm -rf ~/{mark}*");
        }

        // The home storage goes with the resource (its files stay); nothing else blocks the removal.
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v1/computing/{computing}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/v1/storages/{storage}")).StatusCode);
    }

    [Fact]
    public async Task APlatformWideResourceHasNoHomeStorageAndTakesNoneNorAnyMisplacedHome()
    {
        using var admin = App.Client(await App.AdminTokenAsync());
        // demo-ssh is platform-wide: its login is the platform's, so it comes with no home storage.
        var all = JsonNode.Parse(await admin.GetStringAsync("/api/v1/storages"))!.AsArray();
        Assert.Null((string?)all.Single(s => (string?)s!["id"] == "personal")!["owner"]);
        Assert.DoesNotContain(all, s => (string?)s!["computing"] == SshPlatformFixture.DemoComputing && ((string?)s["basePath"])!.StartsWith("$HOME", StringComparison.Ordinal));

        // Its login's home, with the keys that run everyone's tasks, is nobody's storage, an admin's own neither.
        foreach (var platformWide in new[] { true, false })
        {
            var platformsHome = await admin.PostAsJsonAsync("/api/v1/storages", new
            {
                name = "platform's home", kind = "sftp", computing = SshPlatformFixture.DemoComputing, basePath = "$HOME/shared", bindPath = "/storages/ph", platformWide,
            });
            Assert.Equal(HttpStatusCode.BadRequest, platformsHome.StatusCode);
            Assert.Contains("cannot start with $HOME on a platform-wide resource", await platformsHome.Content.ReadAsStringAsync());
        }
        // On an admin's own resource, the home is theirs: not to give to everyone.
        var own = await admin.PostAsJsonAsync("/api/v1/computing", new
        {
            name = $"admin's host {Guid.NewGuid().ToString("N")[..6]}", kind = "ssh", host = DemoSshHost.Host, port = DemoSshHost.Port, username = DemoSshHost.User, engine = "docker",
        });
        Assert.True(own.StatusCode == HttpStatusCode.Created, await own.Content.ReadAsStringAsync());
        var ownId = (string)JsonNode.Parse(await own.Content.ReadAsStringAsync())!["id"]!;
        try
        {
            var everyone = await admin.PostAsJsonAsync("/api/v1/storages", new { name = "admin's home", kind = "sftp", computing = ownId, basePath = "$HOME/shared", bindPath = "/storages/ah", platformWide = true });
            Assert.Equal(HttpStatusCode.BadRequest, everyone.StatusCode);
            Assert.Contains("cannot start with $HOME in a storage for everyone", await everyone.Content.ReadAsStringAsync());
        }
        finally
        {
            Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/computing/{ownId}")).StatusCode);
        }
        // $HOME only at the start, and only for sftp: a 400 that says so.
        var misplaced = await admin.PostAsJsonAsync("/api/v1/storages", new
        {
            name = "misplaced", kind = "sftp", computing = SshPlatformFixture.DemoComputing, basePath = "/data/$HOME", bindPath = "/storages/misplaced",
        });
        Assert.Equal(HttpStatusCode.BadRequest, misplaced.StatusCode);
        Assert.Contains("can hold $HOME only at its start", await misplaced.Content.ReadAsStringAsync());
        var local = await admin.PostAsJsonAsync("/api/v1/storages", new { name = "local home", kind = "local", basePath = "$HOME", bindPath = "/storages/lh" });
        Assert.Equal(HttpStatusCode.BadRequest, local.StatusCode);
        Assert.Contains("$HOME exists only for sftp storages", await local.Content.ReadAsStringAsync());
    }
}
