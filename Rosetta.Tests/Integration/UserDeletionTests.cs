using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Rosetta.App.Auth;
using Rosetta.Core.Persistence;
using Rosetta.Core.Security;
using Rosetta.Core.Storages;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Integration;

/// <summary>An admin deletes a user: what goes with them, what stays (their files, renamed), and what is refused.</summary>
[Collection("platform")]
public sealed class UserDeletionTests(PlatformFixture platform)
{
    private RosettaAppFactory App => platform.App;

    [Fact]
    public async Task AnAdminDeletesAUserWhoseTasksHaveEnded_TheirThingsGoAndTheirFilesStayForNobodyElse()
    {
        var name = "leaving" + Guid.NewGuid().ToString("N")[..8];
        using var user = await App.NewUserClientAsync(name);
        using var admin = App.Client(await App.AdminTokenAsync());
        var id = (await App.Services.GetRequiredService<UserAdministration>().ListAsync()).Single(u => u.Username == name).Id;
        var personal = Path.Combine(App.Services.GetRequiredService<IOptions<StorageOptions>>().Value.Root, "users", name);

        // What the user has: a file in their personal folder, software, a resource with a storage, a running task.
        var results = Encoding.UTF8.GetBytes("fit converged\n");
        await StorageApi.UploadAsync(user, "personal", "thesis/results.txt", results);
        Assert.Equal(HttpStatusCode.Created, (await user.PostAsJsonAsync("/api/v1/software", new { name = $"Tool {name}", image = "rosetta/hello", interfacePort = 8080 })).StatusCode);
        var computing = (string)(await (await user.PostAsJsonAsync("/api/v1/computing", new { name = "Own box", kind = "ssh", host = "127.0.0.1", port = 1, username = "demo" }))
            .Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
        Assert.Equal(HttpStatusCode.Created, (await user.PostAsJsonAsync("/api/v1/storages", new { name = "Box data", kind = "sftp", computing, basePath = "/data", bindPath = "/storages/box" })).StatusCode);
        Assert.StartsWith("ssh-ed25519 ", await user.GetStringAsync("/api/v1/account/public-key"));
        var task = (string)(await TaskApi.StartAsync(user, new { software = "hello", computing = "local", name = "long fit" }))["id"]!;
        await TaskApi.WaitForStatusAsync(user, task, "running");

        // Not while a task runs (nothing is lost that the user may still be working with).
        var running = await admin.DeleteAsync($"/api/v1/users/{id}");
        Assert.Equal(HttpStatusCode.Conflict, running.StatusCode);
        Assert.Contains("'long fit'", (string?)(await TaskApi.ProblemAsync(running))["detail"]);
        Assert.Equal(1, (int?)(await admin.GetFromJsonAsync<JsonArray>("/api/v1/users"))!.Single(u => (string?)u!["username"] == name)!["activeTasks"]);
        Assert.Equal(HttpStatusCode.OK, (await user.GetAsync("/api/v1/tasks")).StatusCode); // refused: nothing changed
        // Nor an unknown user, nor one's own account, nor by a non-admin.
        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteAsync("/api/v1/users/no-such-id")).StatusCode);
        var adminId = (await App.Services.GetRequiredService<UserAdministration>().ListAsync()).Single(u => u.Username == "admin").Id;
        Assert.Equal(HttpStatusCode.Conflict, (await admin.DeleteAsync($"/api/v1/users/{adminId}")).StatusCode);
        using (var other = await App.NewUserClientAsync())
            Assert.Equal(HttpStatusCode.Forbidden, (await other.DeleteAsync($"/api/v1/users/{id}")).StatusCode);

        Assert.Equal(HttpStatusCode.Accepted, (await user.PostAsync($"/api/v1/tasks/{task}/stop", null)).StatusCode);
        await TaskApi.WaitForStatusAsync(user, task, "stopped");
        var deleted = await admin.DeleteAsync($"/api/v1/users/{id}");
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        var body = (await deleted.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(name, (string?)body["username"]);

        // The files stay, renamed; the old name is free.
        var setAside = (string)Assert.Single(body["foldersSetAside"]!.AsArray())!;
        Assert.StartsWith(personal + "+deleted-", setAside);
        Assert.Equal(results, File.ReadAllBytes(Path.Combine(setAside, "thesis/results.txt")));
        Assert.False(Directory.Exists(personal));

        // The rest goes: the account, its token, its task, software, resource and storage.
        Assert.DoesNotContain(name, (await admin.GetFromJsonAsync<JsonArray>("/api/v1/users"))!.Select(u => (string?)u!["username"]));
        Assert.Equal(HttpStatusCode.Unauthorized, (await user.GetAsync("/api/v1/tasks")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/api/v1/tasks/{task}")).StatusCode);
        Assert.DoesNotContain($"Tool {name}", (await admin.GetFromJsonAsync<JsonArray>("/api/v1/software"))!.Select(s => (string?)s!["name"]));
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/api/v1/computing/{computing}")).StatusCode);
        Assert.DoesNotContain("Box data", (await admin.GetFromJsonAsync<JsonArray>("/api/v1/storages"))!.Select(s => (string?)s!["name"]));
        // Nothing is left under the user's id: not a revoked token, not the key pair (with its private half).
        await using (var db = await App.Services.GetRequiredService<IDbContextFactory<RosettaDbContext>>().CreateDbContextAsync())
        {
            Assert.False(await db.ApiTokens.AnyAsync(t => t.UserId == id));
            Assert.False(await db.Set<UserKey>().AnyAsync(k => k.UserId == id));
        }

        // Someone new of the same name starts with an empty personal folder.
        using var newcomer = await App.NewUserClientAsync(name);
        Assert.Empty(await StorageApi.NamesAsync(newcomer, "personal"));
    }
    /// <summary>
    /// A deletion that stops after the folders were renamed (here: an admin's storage on the user's own
    /// host) says where they went, since deleting again finds none to rename.
    /// </summary>
    [Fact]
    public async Task ADeletionStoppedHalfWaySaysWhereTheFoldersWentAndFinishesWhenRunAgain()
    {
        var name = "half" + Guid.NewGuid().ToString("N")[..8];
        using var user = await App.NewUserClientAsync(name);
        using var admin = App.Client(await App.AdminTokenAsync());
        await StorageApi.UploadAsync(user, "personal", "keep.txt", "keep"u8.ToArray());
        var computing = (string)(await (await user.PostAsJsonAsync("/api/v1/computing", new { name = "Own box", kind = "ssh", host = "127.0.0.1", port = 1, username = "demo" }))
            .Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
        var administration = App.Services.GetRequiredService<UserAdministration>();
        var users = await administration.ListAsync();
        var (id, adminId) = (users.Single(u => u.Username == name).Id, users.Single(u => u.Username == "admin").Id);
        var database = App.Services.GetRequiredService<IDbContextFactory<RosettaDbContext>>();
        await using (var db = await database.CreateDbContextAsync())
        {
            db.Storages.Add(new Rosetta.Core.Domain.Storage { Id = "on-" + name, Name = "Admin's data on " + name, Kind = Rosetta.Core.Domain.StorageKind.Sftp,
                ComputingId = computing, OwnerId = adminId, BasePath = "/data", BindPath = "/storages/admins" });
            await db.SaveChangesAsync();
        }

        var stopped = await admin.DeleteAsync($"/api/v1/users/{id}");
        Assert.Equal(HttpStatusCode.Conflict, stopped.StatusCode);
        var detail = (string)(await TaskApi.ProblemAsync(stopped))["detail"]!;
        var personal = Path.Combine(App.Services.GetRequiredService<IOptions<StorageOptions>>().Value.Root, "users", name);
        Assert.Contains($"folders already have their new names: {personal}+deleted-", detail);

        await using (var db = await database.CreateDbContextAsync())
            await db.Storages.Where(s => s.Id == "on-" + name).ExecuteDeleteAsync();
        var finished = await admin.DeleteAsync($"/api/v1/users/{id}");
        Assert.Equal(HttpStatusCode.OK, finished.StatusCode);
        Assert.Empty((await finished.Content.ReadFromJsonAsync<JsonObject>())!["foldersSetAside"]!.AsArray());
        Assert.Equal("keep", File.ReadAllText(Path.Combine(Directory.GetDirectories(Path.GetDirectoryName(personal)!, name + "+deleted-*").Single(), "keep.txt")));
    }

    /// <summary>
    /// Only folders that are the user's alone get a new name: storages an admin set up so that one
    /// user's folder is another's (<c>tmp-$USER</c> next to <c>$USER</c>), and read-only ones (managed
    /// outside the platform), are left as they are and said.
    /// </summary>
    [Fact]
    public async Task FoldersBearingTheNameThatAreNotTheUsersAloneAreLeftAndSaid()
    {
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var root = Path.Combine(App.DataDirectory, "deletion-" + suffix);
        using var admin = App.Client(await App.AdminTokenAsync());
        async Task<string> AddStorageAsync(string basePath, string bind, bool readOnly)
        {
            var created = await admin.PostAsJsonAsync("/api/v1/storages", new { name = bind, kind = "local", basePath, bindPath = $"/storages/{bind}", readOnly, platformWide = true });
            Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
            return (string)(await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
        }
        string[] storages =
        [
            await AddStorageAsync(root + "/scratch/$USER", "scr-" + suffix, readOnly: false),
            await AddStorageAsync(root + "/scratch/tmp-$USER/work", "tmp-" + suffix, readOnly: false),
            await AddStorageAsync(root + "/datasets/$USER", "ds-" + suffix, readOnly: true),
        ];
        try
        {
            var name = "al" + suffix;
            using var leaving = await App.NewUserClientAsync(name);
            using var staying = await App.NewUserClientAsync("tmp-" + name); // their /scratch/$USER is the leaving user's /scratch/tmp-$USER
            await StorageApi.UploadAsync(leaving, storages[0], "mine.txt", "mine"u8.ToArray());
            await StorageApi.UploadAsync(staying, storages[0], "theirs.txt", "theirs"u8.ToArray());
            Directory.CreateDirectory(Path.Combine(root, "datasets", name));
            var id = (await App.Services.GetRequiredService<UserAdministration>().ListAsync()).Single(u => u.Username == name).Id;

            var deleted = await admin.DeleteAsync($"/api/v1/users/{id}");
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
            var body = (await deleted.Content.ReadFromJsonAsync<JsonObject>())!;
            Assert.StartsWith(Path.Combine(root, "scratch", name) + "+deleted-", (string?)Assert.Single(body["foldersSetAside"]!.AsArray()));
            var left = body["foldersLeft"]!.AsArray().ToDictionary(f => (string)f!["path"]!, f => (string)f!["why"]!);
            Assert.Equal([Path.Combine(root, "datasets", name), Path.Combine(root, "scratch", "tmp-" + name)], left.Keys.Order());
            Assert.Contains("read-only", left[Path.Combine(root, "datasets", name)]);
            Assert.Contains("not " + name + "'s alone", left[Path.Combine(root, "scratch", "tmp-" + name)]);
            Assert.Equal("theirs", File.ReadAllText(Path.Combine(root, "scratch", "tmp-" + name, "theirs.txt")));
            Assert.True(Directory.Exists(Path.Combine(root, "datasets", name)));
        }
        finally
        {
            // Storages for everyone would be bound into every other test's tasks.
            foreach (var storage in storages) await admin.DeleteAsync($"/api/v1/storages/{storage}");
        }
    }
}
