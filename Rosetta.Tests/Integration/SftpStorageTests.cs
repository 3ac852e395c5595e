using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Integration;

/// <summary>
/// sftp storages through the API against the real demo sshd: every operation, traversal, links
/// planted on the host (never followed), read-only. The demo host shares this machine's file
/// system, so the test checks the remote side directly.
/// </summary>
[Collection("ssh")]
public sealed class SftpStorageTests(SshPlatformFixture platform)
{
    private RosettaAppFactory App => platform.App;

    private async Task<(string Id, string Root)> AddStorageAsync(bool readOnly)
    {
        var root = "/tmp/rosetta-sftp-" + Guid.NewGuid().ToString("N")[..8];
        using var admin = App.Client(await App.AdminTokenAsync());
        var id = "sftp-" + Guid.NewGuid().ToString("N")[..6];
        var created = await admin.PostAsJsonAsync("/api/v1/storages", new
        {
            id, name = id, kind = "sftp", computing = SshPlatformFixture.DemoComputing, basePath = root + "/$USER", bindPath = "/storages/" + id, readOnly, platformWide = true,
        });
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        return (id, root);
    }

    /// <summary>Platform-wide storages would be bound into every later task on demo-ssh (other tests' too).</summary>
    private async Task RemoveAsync(string id)
    {
        using var admin = App.Client(await App.AdminTokenAsync());
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/storages/{id}")).StatusCode);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task EveryOperationWorksOverSftpAndStaysInTheFolder()
    {
        var (id, root) = await AddStorageAsync(readOnly: false);
        var user = "sf" + Guid.NewGuid().ToString("N")[..6];
        using var client = await App.NewUserClientAsync(user);
        var folder = $"{root}/{user}";
        try
        {
            Assert.Empty(await StorageApi.ListAsync(client, id));
            Assert.True(Directory.Exists(folder), "the per-user folder is made on first use");

            var content = new byte[300_000];
            Random.Shared.NextBytes(content);
            await StorageApi.UploadAsync(client, id, "runs/data.bin", content);
            Assert.Equal(content, await File.ReadAllBytesAsync($"{folder}/runs/data.bin"));
            Assert.Equal(content, await client.GetByteArrayAsync($"/api/v1/storages/{id}/download?path=runs/data.bin"));
            await StorageApi.AssertDownloadAsync(client, id, "runs/data.bin", content);
            var entry = (await StorageApi.ListAsync(client, id, "runs")).Single()!;
            Assert.Equal(content.Length, (long)entry["size"]!);

            Assert.Equal(HttpStatusCode.Created, (await StorageApi.PostJsonAsync(client, id, "folders", new { path = "a/b" })).StatusCode);
            Assert.Equal(HttpStatusCode.Conflict, (await StorageApi.PostJsonAsync(client, id, "folders", new { path = "a/b" })).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await StorageApi.PostJsonAsync(client, id, "move", new { from = "runs/data.bin", to = "a/b/moved.bin" })).StatusCode);
            Assert.Equal(["a", "runs"], await StorageApi.NamesAsync(client, id));

            using (var zip = new ZipArchive(new MemoryStream(await client.GetByteArrayAsync($"/api/v1/storages/{id}/download?path=a"))))
                Assert.Equal(content.Length, zip.GetEntry("b/moved.bin")!.Length);

            // Replacing a file is atomic, leaves no temporary file behind, and keeps the file's permissions (but not setuid).
            const UnixFileMode script = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute;
            File.SetUnixFileMode($"{folder}/a/b/moved.bin", script | UnixFileMode.SetUser); // setuid is not the uploader's to keep
            await StorageApi.UploadAsync(client, id, "a/b/moved.bin", "small"u8.ToArray());
            Assert.Equal(["moved.bin"], Directory.GetFileSystemEntries($"{folder}/a/b").Select(Path.GetFileName));
            Assert.Equal("small", await File.ReadAllTextAsync($"{folder}/a/b/moved.bin"));
            Assert.Equal(script, File.GetUnixFileMode($"{folder}/a/b/moved.bin"));

            Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v1/storages/{id}/files?path=a")).StatusCode);
            Assert.Equal(["runs"], await StorageApi.NamesAsync(client, id));

            var traversal = await client.GetAsync($"/api/v1/storages/{id}/files?path=..%2F..%2Fetc");
            Assert.Equal(HttpStatusCode.BadRequest, traversal.StatusCode);
        }
        finally
        {
            await RemoveAsync(id);
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task CopiesFilesAndFoldersThroughSftpWithoutLinksOrLeftovers()
    {
        var (id, root) = await AddStorageAsync(readOnly: false);
        var user = "sc" + Guid.NewGuid().ToString("N")[..6];
        using var client = await App.NewUserClientAsync(user);
        var folder = $"{root}/{user}";
        try
        {
            var content = new byte[700_000]; // more than one SFTP read and write
            Random.Shared.NextBytes(content);
            await StorageApi.UploadAsync(client, id, "runs/2026/data.bin", content);
            await StorageApi.UploadAsync(client, id, "runs/notes.txt", "notes"u8.ToArray());
            Assert.Equal(HttpStatusCode.Created, (await StorageApi.PostJsonAsync(client, id, "folders", new { path = "backup" })).StatusCode);
            File.CreateSymbolicLink($"{folder}/runs/passwd", "/etc/passwd");

            Assert.Equal(HttpStatusCode.Created, (await StorageApi.PostJsonAsync(client, id, "copy", new { from = "runs/notes.txt", to = "notes-copy.txt" })).StatusCode);
            Assert.Equal("notes", await File.ReadAllTextAsync($"{folder}/notes-copy.txt"));

            Assert.Equal(HttpStatusCode.Created, (await StorageApi.PostJsonAsync(client, id, "copy", new { from = "runs", to = "backup/runs" })).StatusCode);
            Assert.Equal(content, await File.ReadAllBytesAsync($"{folder}/backup/runs/2026/data.bin"));
            Assert.Equal(["2026", "notes.txt"], await StorageApi.NamesAsync(client, id, "backup/runs")); // the link is not copied
            Assert.Equal(content, await File.ReadAllBytesAsync($"{folder}/runs/2026/data.bin")); // the original stays

            var exists = await StorageApi.PostJsonAsync(client, id, "copy", new { from = "runs", to = "backup/runs" });
            Assert.Equal(HttpStatusCode.Conflict, exists.StatusCode);
            var into = await StorageApi.PostJsonAsync(client, id, "copy", new { from = "runs", to = "runs/again" });
            Assert.Equal(HttpStatusCode.BadRequest, into.StatusCode);
            Assert.Contains("is inside 'runs', which is being copied", (string?)(await TaskApi.ProblemAsync(into))["detail"]);
            var missing = await StorageApi.PostJsonAsync(client, id, "copy", new { from = "nothing", to = "x" });
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            var throughLink = await StorageApi.PostJsonAsync(client, id, "copy", new { from = "runs/passwd", to = "stolen" });
            Assert.Equal(HttpStatusCode.BadRequest, throughLink.StatusCode);
            Assert.False(File.Exists($"{folder}/stolen"));

            Assert.Empty(Directory.GetFileSystemEntries(folder, ".rosetta-upload-*", SearchOption.AllDirectories));
        }
        finally
        {
            await RemoveAsync(id);
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task AnUploadCutOffHalfwayLeavesNothingOnTheHost()
    {
        var (id, root) = await AddStorageAsync(readOnly: false);
        var user = "sa" + Guid.NewGuid().ToString("N")[..6];
        using var client = await App.NewUserClientAsync(user);
        var folder = $"{root}/{user}";
        try
        {
            await StorageApi.UploadAsync(client, id, "result.bin", new byte[1000]);
            await StorageApi.AbortUploadHalfwayAsync(App.BaseAddress, client.DefaultRequestHeaders.Authorization!.Parameter!, id, "result.bin", 3_000_000, 1_000_000,
                () => StorageApi.UploadsInProgress(folder).Length == 1);

            await StorageApi.WaitUntilAsync(() => StorageApi.UploadsInProgress(folder).Length == 0, "the temporary file of the cut-off upload is removed");
            Assert.Equal(["result.bin"], Directory.GetFileSystemEntries(folder).Select(Path.GetFileName));
            Assert.Equal(1000, new FileInfo($"{folder}/result.bin").Length);
        }
        finally
        {
            await RemoveAsync(id);
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task WhatTheLoginMayNotDoOnTheHostIsA403SayingSo()
    {
        var (id, root) = await AddStorageAsync(readOnly: false);
        var user = "sp" + Guid.NewGuid().ToString("N")[..6];
        using var client = await App.NewUserClientAsync(user);
        var folder = $"{root}/{user}";
        try
        {
            Assert.Empty(await StorageApi.ListAsync(client, id));
            // A folder of root's in the login's folder, closed to the login (the test runs as root).
            Directory.CreateDirectory($"{folder}/locked");
            await File.WriteAllTextAsync($"{folder}/locked/root.txt", "root's");
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode($"{folder}/locked", (UnixFileMode)0b101_101_101);

            var refusals = new[]
            {
                await StorageApi.PutAsync(client, id, "locked/new.txt", "x"u8.ToArray()),
                await StorageApi.PostJsonAsync(client, id, "folders", new { path = "locked/sub" }),
                await client.DeleteAsync($"/api/v1/storages/{id}/files?path=locked"),
            };
            foreach (var refused in refusals)
            {
                Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
                Assert.Contains($"The login '{DemoSshHost.User}@", (string?)(await TaskApi.ProblemAsync(refused))["detail"]);
            }
            Assert.Equal(["root.txt"], Directory.GetFileSystemEntries($"{folder}/locked").Select(Path.GetFileName));

            // A file the login may not read: a 403 before the download starts, not a 200 cut short.
            await File.WriteAllTextAsync($"{folder}/private.txt", "root's only");
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode($"{folder}/private.txt", UnixFileMode.UserRead | UnixFileMode.UserWrite);
            var unreadable = await client.GetAsync($"/api/v1/storages/{id}/download?path=private.txt");
            Assert.Equal(HttpStatusCode.Forbidden, unreadable.StatusCode);
            Assert.Contains($"The login '{DemoSshHost.User}@", (string?)(await TaskApi.ProblemAsync(unreadable))["detail"]);
            File.Delete($"{folder}/private.txt");

            // A name a task gave a backslash and a control character is archived like any other.
            await File.WriteAllTextAsync($"{folder}/odd\\name\u0001.txt", "odd");
            var zip = await client.GetAsync($"/api/v1/storages/{id}/download?path=");
            Assert.Equal(HttpStatusCode.OK, zip.StatusCode);
            using var archive = new System.IO.Compression.ZipArchive(await zip.Content.ReadAsStreamAsync());
            Assert.Contains(archive.Entries, e => e.FullName == "odd\\name\u0001.txt");
        }
        finally
        {
            await RemoveAsync(id);
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>
    /// The host's SFTP server opens a FIFO as a program does and waits for a writer: one user's download
    /// of a FIFO (a task can make one in its bind) held the resource's SFTP connection, and every other
    /// user's listings with it, until the requests timed out after 30 s.
    /// </summary>
    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task AFifoOnTheHostIsNeverOpenedSoTheConnectionStaysFree()
    {
        var (id, root) = await AddStorageAsync(readOnly: false);
        var user = "sf" + Guid.NewGuid().ToString("N")[..6];
        using var client = await App.NewUserClientAsync(user);
        client.Timeout = TimeSpan.FromSeconds(15); // a stalled connection answers only after 30 s
        try
        {
            await StorageApi.UploadAsync(client, id, "odd/data.txt", "data"u8.ToArray());
            await SshInterfaceTests.RunAsync("mkfifo", $"{root}/{user}/odd/fifo.png");

            foreach (var response in new[]
            {
                await client.GetAsync($"/api/v1/storages/{id}/download?path=odd/fifo.png"),
                await client.GetAsync($"/api/v1/storages/{id}/preview?path=odd/fifo.png"),
                await StorageApi.PostJsonAsync(client, id, "copy", new { from = "odd/fifo.png", to = "copied" }),
            })
            {
                Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
                Assert.Contains("not a regular file", (string?)(await TaskApi.ProblemAsync(response))["detail"]);
            }

            // The folder's archive and copy leave the FIFO out, as on the platform host.
            using (var zip = new System.IO.Compression.ZipArchive(await client.GetStreamAsync($"/api/v1/storages/{id}/download?path=odd")))
                Assert.Equal(["data.txt"], zip.Entries.Select(e => e.FullName).Where(n => !n.EndsWith('/')).ToArray());
            Assert.Equal(HttpStatusCode.Created, (await StorageApi.PostJsonAsync(client, id, "copy", new { from = "odd", to = "odd2" })).StatusCode);
            Assert.Equal(["data.txt"], (await StorageApi.NamesAsync(client, id, "odd2")).ToArray());

            // The connection is free: the listing answers at once, and so does another user's.
            Assert.Contains("fifo.png", await StorageApi.NamesAsync(client, id, "odd"));
            using var other = await App.NewUserClientAsync();
            other.Timeout = TimeSpan.FromSeconds(15);
            Assert.NotNull(await StorageApi.ListAsync(other, id));
            // And the FIFO can be deleted with its folder.
            Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v1/storages/{id}/files?path=odd")).StatusCode);
        }
        finally
        {
            await RemoveAsync(id);
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>
    /// SFTP hands names over as UTF-8: a name that is not (a Latin-1 archive unpacked on the host) cannot be
    /// named back. It ended a folder's archive half-way, and deleting its folder was a 500 that deleted nothing.
    /// </summary>
    [Fact]
    public async Task ANameThatIsNotUtf8IsListedAsSuchAndSaidWhenItsFolderCannotBeDeleted()
    {
        var (id, root) = await AddStorageAsync(readOnly: false);
        var user = "su" + Guid.NewGuid().ToString("N")[..6];
        using var client = await App.NewUserClientAsync(user);
        try
        {
            await StorageApi.UploadAsync(client, id, "latin1/fine.txt", "fine"u8.ToArray());
            await SshInterfaceTests.RunAsync("bash", "-c", "printf x > \"$1\"/$'caf\\xe9.txt'", "bash", $"{root}/{user}/latin1");

            var listed = await StorageApi.ListAsync(client, id, "latin1");
            Assert.True("invalid-name" == (string?)listed.Single(e => (string?)e!["name"] != "fine.txt")!["kind"], listed.ToJsonString());
            using (var zip = new System.IO.Compression.ZipArchive(await client.GetStreamAsync($"/api/v1/storages/{id}/download?path=latin1")))
                Assert.Equal(["fine.txt"], zip.Entries.Select(e => e.FullName).ToArray());

            var refused = await client.DeleteAsync($"/api/v1/storages/{id}/files?path=latin1");
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains("not UTF-8", (string?)(await TaskApi.ProblemAsync(refused))["detail"]);
            Assert.Equal(2, Directory.GetFiles($"{root}/{user}/latin1").Length); // nothing deleted half-way
        }
        finally
        {
            await RemoveAsync(id);
            await SshInterfaceTests.RunAsync("rm", "-rf", root); // .NET cannot name what it holds either
        }
    }

    [Fact]
    public async Task LinksPlantedOnTheHostAreListedButNeverFollowed()
    {
        var (id, root) = await AddStorageAsync(readOnly: false);
        var user = "sl" + Guid.NewGuid().ToString("N")[..6];
        using var client = await App.NewUserClientAsync(user);
        try
        {
            Assert.Empty(await StorageApi.ListAsync(client, id));
            var folder = $"{root}/{user}";
            File.CreateSymbolicLink($"{folder}/escape", "/etc");
            File.CreateSymbolicLink($"{folder}/passwd", "/etc/passwd");

            var listed = await StorageApi.ListAsync(client, id);
            Assert.All(listed, e => Assert.Equal("link", (string?)e!["kind"]));
            foreach (var url in new[] { "files?path=escape", "download?path=escape/passwd", "download?path=passwd", "download?path=escape" })
            {
                var response = await client.GetAsync($"/api/v1/storages/{id}/{url}");
                Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
                Assert.Contains("symbolic link", (string?)(await TaskApi.ProblemAsync(response))["detail"]);
            }
            Assert.Equal(HttpStatusCode.BadRequest, (await StorageApi.PutAsync(client, id, "escape/planted", "x"u8.ToArray())).StatusCode);
            Assert.False(File.Exists("/etc/planted"));

            // SSH.NET resolves a link at the end of a path before acting, so a link is never changed through
            // SFTP: deleting, moving or overwriting one, or deleting a folder holding one, is refused.
            await StorageApi.UploadAsync(client, id, "mine/own.txt", "own"u8.ToArray());
            File.CreateSymbolicLink($"{folder}/mine/link", $"{folder}/mine/own.txt");
            var refusals = new[]
            {
                await client.DeleteAsync($"/api/v1/storages/{id}/files?path=passwd"),
                await StorageApi.PostJsonAsync(client, id, "move", new { from = "passwd", to = "moved" }),
                await StorageApi.PutAsync(client, id, "mine/link", "replaced"u8.ToArray()),
                await client.DeleteAsync($"/api/v1/storages/{id}/files?path=mine"),
            };
            foreach (var refused in refusals)
            {
                Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
                Assert.Contains("symbolic link", (string?)(await TaskApi.ProblemAsync(refused))["detail"]);
            }
            Assert.True(File.Exists("/etc/passwd"));
            Assert.Equal("own", await File.ReadAllTextAsync($"{folder}/mine/own.txt"));
            Assert.NotNull(new FileInfo($"{folder}/passwd").LinkTarget);
        }
        finally
        {
            await RemoveAsync(id);
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task AReadOnlySftpStorageRefusesWrites()
    {
        var (id, root) = await AddStorageAsync(readOnly: true);
        using var client = await App.NewUserClientAsync();
        try
        {
            Assert.Empty(await StorageApi.ListAsync(client, id));
            var put = await StorageApi.PutAsync(client, id, "x.txt", "x"u8.ToArray());
            Assert.Equal(HttpStatusCode.Forbidden, put.StatusCode);
            Assert.Contains("read-only", (string?)(await TaskApi.ProblemAsync(put))["detail"]);
        }
        finally
        {
            await RemoveAsync(id);
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task ListingAWritableFolderRemovesTransfersAStoppedPlatformLeftThere()
    {
        var (writable, writableRoot) = await AddStorageAsync(readOnly: false);
        var (readOnly, readOnlyRoot) = await AddStorageAsync(readOnly: true);
        var user = "sl" + Guid.NewGuid().ToString("N")[..6];
        using var client = await App.NewUserClientAsync(user);
        try
        {
            Assert.Empty(await StorageApi.ListAsync(client, writable)); // makes the per-user folders
            Assert.Empty(await StorageApi.ListAsync(client, readOnly));
            // What a platform stopped mid-transfer leaves, made by the login as the platform would have.
            var stale = $"{writableRoot}/{user}/.rosetta-upload-a.part";
            var staleFolder = $"{writableRoot}/{user}/.rosetta-upload-b.part";
            var fresh = $"{writableRoot}/{user}/.rosetta-upload-c.part";
            var staleReadOnly = $"{readOnlyRoot}/{user}/.rosetta-upload-d.part";
            // And one a task has planted a link in, to a file of the login's outside the storage: SSH.NET would delete
            // the link's target, so that leftover stays.
            var planted = $"{writableRoot}/{user}/.rosetta-upload-e.part";
            var precious = $"{writableRoot}-outside-{user}.txt";
            await DemoSshHost.RunAsUserAsync("mkdir", "-p", staleFolder + "/inner", planted);
            await DemoSshHost.RunAsUserAsync("touch", stale, fresh, staleReadOnly, staleFolder + "/inner/half.bin", precious);
            await DemoSshHost.RunAsUserAsync("ln", "-s", precious, planted + "/link");
            await DemoSshHost.RunAsUserAsync("touch", "-d", "2 days ago", stale, staleFolder, staleReadOnly, planted);

            Assert.Empty(await StorageApi.ListAsync(client, writable));
            Assert.False(File.Exists(stale));
            Assert.False(Directory.Exists(staleFolder));
            Assert.True(File.Exists(fresh), "a transfer written to recently may still be going on");
            Assert.True(File.Exists(precious), "cleaning up a leftover deleted what a link in it points to");
            Assert.True(Directory.Exists(planted));

            Assert.Empty(await StorageApi.ListAsync(client, readOnly));
            Assert.True(File.Exists(staleReadOnly), "the platform writes nothing on a read-only storage");
        }
        finally
        {
            await RemoveAsync(writable);
            await RemoveAsync(readOnly);
            foreach (var root in new[] { writableRoot, readOnlyRoot })
                if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
            File.Delete($"{writableRoot}-outside-{user}.txt");
        }
    }
}
