using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Integration;

/// <summary>
/// A task on an SSH host writes its read-write storages as the bundled images' user (uid 1000),
/// although the folders are the SSH login's (rosetta-demo, uid 1001): docker gets POSIX ACLs,
/// rootless podman a user namespace that maps the login to uid 1000. What the task writes the file
/// manager lists, downloads, changes and deletes, and what the file manager uploads the task can
/// change; read-only storages stay read-only. The demo host shares this machine's file system and
/// engines, so the test acts inside the container directly, as the image's user would.
/// </summary>
[Collection("ssh")]
public sealed class SshStorageWriteTests(SshPlatformFixture platform)
{
    private const string ImageUser = "1000:1000";
    /// <summary>What the task does in its read-write storage: new files and folders, and appends to what the file manager uploaded.</summary>
    private const string TaskWrites =
        "umask 022 && echo task > /storages/rw/by-task.txt && mkdir -p /storages/rw/results/2026 && echo 42 > /storages/rw/results/2026/answer.txt " +
        "&& echo task >> /storages/rw/before/notes.txt && echo task >> /storages/rw/during.txt";
    private RosettaAppFactory App => platform.App;

    [Fact]
    public async Task WithDockerTheImagesUserWritesTheStorageAndTheFileManagerKeepsFullRightsOverIt()
    {
        var root = "/tmp/rosetta-sftp-" + Guid.NewGuid().ToString("N")[..8];
        using var client = await App.NewUserClientAsync();
        var computing = await AddOwnHostAsync(client, "docker");
        var (rw, ro) = await AddStoragesAsync(client, computing, root);
        // Uploaded before any task: the first grant must reach what the folder already holds.
        await StorageApi.UploadAsync(client, rw, "before/notes.txt", "manager\n"u8.ToArray());

        var id = (string)(await TaskApi.StartAsync(client, new { name = "writes over ssh", software = "hello", computing }))["id"]!;
        try
        {
            await TaskApi.WaitForStatusAsync(client, id, "running");
            var container = (await DockerEngine.InspectTaskContainerAsync(id)).ID;
            // Uploaded while the task runs: inherits the folder's default entries.
            await StorageApi.UploadAsync(client, rw, "during.txt", "manager\n"u8.ToArray());

            var wrote = await DockerEngine.ExecAsync(container, ImageUser, "sh", "-c",
                TaskWrites);
            Assert.True(wrote.ExitCode == 0, $"the image's user could not write its storage over ssh: {wrote.Error}");
            await AssertFileManagerOwnsWhatTheTaskWroteAsync(client, rw, $"{root}/rw/{DemoSshHost.User}");

            var refused = await DockerEngine.ExecAsync(container, ImageUser, "touch", "/storages/ro/by-task.txt");
            Assert.NotEqual(0, refused.ExitCode);
            Assert.False(File.Exists($"{root}/ro/{DemoSshHost.User}/by-task.txt"));
            // Nothing was granted on the read-only storage's folder either.
            Assert.DoesNotContain("user:1000:", (await DemoSshHost.AsUserAsync("getfacl", "-cn", $"{root}/ro/{DemoSshHost.User}")).Output);
        }
        finally
        {
            await TaskApi.StopAndDeleteAsync(client, id);
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task WithRootlessPodmanTheLoginIsTheImagesUserInsideSoItsStoragesAreWritable()
    {
        var root = "/tmp/rosetta-sftp-" + Guid.NewGuid().ToString("N")[..8];
        using var client = await App.NewUserClientAsync();
        var computing = await AddOwnHostAsync(client, "podman");
        var (rw, ro) = await AddStoragesAsync(client, computing, root);
        await StorageApi.UploadAsync(client, rw, "before/notes.txt", "manager\n"u8.ToArray());

        var id = (string)(await TaskApi.StartAsync(client, new { name = "podman writes", software = "hello", computing }))["id"]!;
        try
        {
            await TaskApi.WaitForStatusAsync(client, id, "running");
            // The interface still answers with the user namespace in place.
            Assert.Contains("Hello from Rosetta", await client.GetStringAsync($"/t/{id}/"));
            await StorageApi.UploadAsync(client, rw, "during.txt", "manager\n"u8.ToArray());

            var container = $"rosetta-{id}";
            await DemoSshHost.PodmanAsync("exec", "--user", ImageUser, container, "sh", "-c",
                TaskWrites);
            await AssertFileManagerOwnsWhatTheTaskWroteAsync(client, rw, $"{root}/rw/{DemoSshHost.User}");

            await AssertReadOnlyStorageRefusesAsync(DemoSshHost.PodmanAsync, container);
        }
        finally
        {
            await TaskApi.StopAndDeleteAsync(client, id);
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>
    /// Rootless docker maps the image's uid 1000 to one of the login's subordinate uids: the grant goes
    /// to that uid, so the task writes its storage, and host uid 1000 (an unrelated account) gets nothing.
    /// The host: an sshd whose sessions reach the login's own rootless daemon through DOCKER_HOST.
    /// </summary>
    [Fact]
    public async Task WithRootlessDockerTheGrantGoesToTheUidTheTaskRunsAsOnTheHost()
    {
        var root = "/tmp/rosetta-sftp-" + Guid.NewGuid().ToString("N")[..8];
        var mapped = await SubordinateUidAsync(1000);
        using var client = await App.NewUserClientAsync();
        await using var host = await PrivateSshd.StartAsync(await client.GetStringAsync("/api/v1/account/public-key"), $"SetEnv DOCKER_HOST={DemoSshHost.RootlessDockerHost}");
        var computing = await AddHostAsync(client, host.Port, "docker");
        // The home storage the resource came with is never granted to the task (and its status would say so): this test is about grants.
        var home = (await client.GetFromJsonAsync<JsonArray>("/api/v1/storages"))!.Single(s => (string?)s!["computing"] == computing && (string?)s["basePath"] == "$HOME")!;
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v1/storages/{home["id"]}")).StatusCode);
        var (rw, ro) = await AddStoragesAsync(client, computing, root);
        await StorageApi.UploadAsync(client, rw, "before/notes.txt", "manager\n"u8.ToArray());

        var id = (string)(await TaskApi.StartAsync(client, new { name = "rootless docker writes", software = "hello", computing }))["id"]!;
        try
        {
            var running = await TaskApi.WaitForStatusAsync(client, id, "running");
            Assert.Null((string?)running["statusDetail"]);
            Assert.Contains("Hello from Rosetta", await client.GetStringAsync($"/t/{id}/"));
            await StorageApi.UploadAsync(client, rw, "during.txt", "manager\n"u8.ToArray());

            var container = $"rosetta-{id}";
            await DemoSshHost.RootlessDockerAsync("exec", "--user", ImageUser, container, "sh", "-c",
                TaskWrites);
            var folder = $"{root}/rw/{DemoSshHost.User}";
            Assert.Equal(mapped, await OwnerUidAsync($"{folder}/by-task.txt")); // the task really ran as the subordinate uid
            var acl = (await DemoSshHost.AsUserAsync("getfacl", "-cn", folder)).Output;
            Assert.Contains($"default:user:{mapped}:rwx", acl);
            Assert.DoesNotContain("user:1000:", acl);
            await AssertFileManagerOwnsWhatTheTaskWroteAsync(client, rw, folder);

            await AssertReadOnlyStorageRefusesAsync(DemoSshHost.RootlessDockerAsync, container);
        }
        finally
        {
            await TaskApi.StopAndDeleteAsync(client, id);
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>The host uid that container uid <paramref name="uid"/> (≥ 1) is under the demo login's rootless engines: its first subordinate uid + uid − 1.</summary>
    private static async Task<int> SubordinateUidAsync(int uid)
    {
        var line = (await File.ReadAllLinesAsync("/etc/subuid")).First(l => l.StartsWith(DemoSshHost.User + ":", StringComparison.Ordinal));
        return int.Parse(line.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture) + uid - 1;
    }

    private static async Task<int> OwnerUidAsync(string path) =>
        int.Parse((await DemoSshHost.RunAsUserAsync("stat", "-c", "%u", path)).Trim(), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// The desktop under keep-id: its user (uid 1000) keeps the image's home, so Xvnc starts, the VNC
    /// handshake completes through the proxy, and a program of the session writes the storage.
    /// </summary>
    [Fact]
    public async Task WithRootlessPodmanTheDesktopStartsAndItsSessionWritesTheStorage()
    {
        var root = "/tmp/rosetta-sftp-" + Guid.NewGuid().ToString("N")[..8];
        using var client = await App.NewUserClientAsync();
        var computing = await AddOwnHostAsync(client, "podman");
        var (rw, _) = await AddStoragesAsync(client, computing, root);

        var id = (string)(await TaskApi.StartAsync(client, new { name = "podman desktop", software = "desktop", computing }))["id"]!;
        try
        {
            await TaskApi.WaitForStatusAsync(client, id, "running", seconds: 90);
            var (width, height) = await VncThroughProxy.HandshakeAsync(App, client.DefaultRequestHeaders.Authorization!.Parameter!, id);
            Assert.True(width > 0 && height > 0, $"desktop size {width}x{height}");
            // As the session's programs run: the exec's default user is the container's.
            await DemoSshHost.PodmanAsync("exec", $"rosetta-{id}", "sh", "-c",
                "test \"$(id -u)\" = 1000 && test -w \"$HOME\" && echo desktop > /storages/rw/from-desktop.txt");
            Assert.Equal("desktop\n", await client.GetStringAsync($"/api/v1/storages/{rw}/download?path=from-desktop.txt"));
        }
        finally
        {
            await TaskApi.StopAndDeleteAsync(client, id);
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>
    /// keep-id would make its user the default of an image that names no USER; an image meant to
    /// start as root (like the bundled ssh image, which creates its user at start) must still start
    /// as root, and its uid-1000 processes still write the storage. The image: hello rebuilt without
    /// a USER, refusing to serve unless it runs as root.
    /// </summary>
    [Fact]
    public async Task WithRootlessPodmanAnImageThatStartsAsRootStillDoes()
    {
        var root = "/tmp/rosetta-sftp-" + Guid.NewGuid().ToString("N")[..8];
        var repository = "localhost/rosetta-test/hello-as-root-" + Guid.NewGuid().ToString("N")[..8];
        var context = Directory.CreateTempSubdirectory("rosetta-root-image").FullName;
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(context, (UnixFileMode)0b111_101_101); // podman builds as the login
        await File.WriteAllTextAsync(Path.Combine(context, "Containerfile"), """
            FROM scratch
            COPY --from=localhost/rosetta/hello:latest / /
            ENV PATH=/bin PORT=8080
            ENTRYPOINT ["/bin/sh", "-c", "test $(id -u) = 0 || { echo hello-as-root: started as uid $(id -u), not root >&2; exit 3; }; exec /bin/sh /entrypoint.sh"]
            """);
        await DemoSshHost.PodmanAsync("build", "-q", "-t", $"{repository}:v1", context);
        Directory.Delete(context, recursive: true);

        using var client = await App.NewUserClientAsync();
        var software = await client.PostAsJsonAsync("/api/v1/software", new { name = "hello as root", image = repository, tag = "v1", interfacePort = 8080 });
        Assert.True(software.StatusCode == HttpStatusCode.Created, await software.Content.ReadAsStringAsync());
        var softwareId = (string)(await software.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
        var computing = await AddOwnHostAsync(client, "podman");
        var (rw, _) = await AddStoragesAsync(client, computing, root);

        var id = (string)(await TaskApi.StartAsync(client, new { name = "root image", software = softwareId, computing }))["id"]!;
        try
        {
            await TaskApi.WaitForStatusAsync(client, id, "running");
            Assert.Contains("Hello from Rosetta", await client.GetStringAsync($"/t/{id}/"));
            Assert.Equal("0", (await DemoSshHost.PodmanAsync("exec", $"rosetta-{id}", "id", "-u")).Trim());
            await DemoSshHost.PodmanAsync("exec", "--user", ImageUser, $"rosetta-{id}", "sh", "-c", "echo task > /storages/rw/by-task.txt");
            Assert.Equal("task\n", await client.GetStringAsync($"/api/v1/storages/{rw}/download?path=by-task.txt"));
        }
        finally
        {
            await TaskApi.StopAndDeleteAsync(client, id);
            await DemoSshHost.PodmanAsync("rmi", $"{repository}:v1");
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>
    /// A host without setfacl (an sshd whose sessions find docker, mkdir and id but not setfacl)
    /// still runs the task, and its status says what to install.
    /// </summary>
    [Fact]
    public async Task AHostWithoutSetfaclStillRunsTheTaskAndSaysToInstallTheAclPackage()
    {
        var root = "/tmp/rosetta-sftp-" + Guid.NewGuid().ToString("N")[..8];
        var bin = Directory.CreateTempSubdirectory("rosetta-noacl-bin").FullName;
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(bin, (UnixFileMode)0b111_101_101); // the login must reach it
        foreach (var program in new[] { "docker", "mkdir", "id" })
            File.CreateSymbolicLink(Path.Combine(bin, program), Path.Combine("/usr/bin", program));
        using var client = await App.NewUserClientAsync();
        await using var host = await PrivateSshd.StartAsync(await client.GetStringAsync("/api/v1/account/public-key"), $"SetEnv PATH={bin}");
        var computing = await AddHostAsync(client, host.Port, "docker");
        await AddStoragesAsync(client, computing, root);

        var id = (string)(await TaskApi.StartAsync(client, new { name = "no acl", software = "hello", computing }))["id"]!;
        try
        {
            var running = await TaskApi.WaitForStatusAsync(client, id, "running");
            Assert.Contains("install the acl package on 127.0.0.1 so tasks can write into storages", (string?)running["statusDetail"]);
            Assert.True(Directory.Exists($"{root}/rw/{DemoSshHost.User}"));
        }
        finally
        {
            await TaskApi.StopAndDeleteAsync(client, id);
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
            Directory.Delete(bin, recursive: true);
        }
    }

    /// <summary>The read-only storage refuses the image's user, through the host's engine CLI (<paramref name="engine"/>: its arguments, a failure throws).</summary>
    private static async Task AssertReadOnlyStorageRefusesAsync(Func<string[], Task<string>> engine, string container)
    {
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => engine(["exec", "--user", ImageUser, container, "touch", "/storages/ro/by-task.txt"]));
        Assert.Contains("Read-only file system", refused.Message);
    }

    /// <summary>What the task wrote, the file manager lists, downloads, overwrites and deletes; the login itself may change it in place.</summary>
    private static async Task AssertFileManagerOwnsWhatTheTaskWroteAsync(HttpClient client, string storage, string folder)
    {
        Assert.Equal(["before", "results", "by-task.txt", "during.txt"], await StorageApi.NamesAsync(client, storage)); // folders first
        Assert.Equal("task\n", await client.GetStringAsync($"/api/v1/storages/{storage}/download?path=by-task.txt"));
        Assert.Equal("42\n", await client.GetStringAsync($"/api/v1/storages/{storage}/download?path=results/2026/answer.txt"));
        Assert.Equal("manager\ntask\n", await client.GetStringAsync($"/api/v1/storages/{storage}/download?path=before/notes.txt"));
        Assert.Equal("manager\ntask\n", await client.GetStringAsync($"/api/v1/storages/{storage}/download?path=during.txt"));

        // The SSH login (whose rights the file manager has) writes the task's file in place, not only replaces it.
        var appended = await DemoSshHost.AsUserAsync("sh", "-c", $"echo login >> '{folder}/by-task.txt'");
        Assert.True(appended.ExitCode == 0, appended.Error);
        await StorageApi.UploadAsync(client, storage, "results/2026/answer.txt", "43\n"u8.ToArray());
        Assert.Equal("43\n", await client.GetStringAsync($"/api/v1/storages/{storage}/download?path=results/2026/answer.txt"));
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v1/storages/{storage}/files?path=results")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v1/storages/{storage}/files?path=by-task.txt")).StatusCode);
        Assert.Equal(["before", "during.txt"], await StorageApi.NamesAsync(client, storage));
    }

    /// <summary>The demo host as the user's own SSH resource, so its storages are bound into this test's tasks only.</summary>
    private static async Task<string> AddOwnHostAsync(HttpClient client, string engine)
    {
        await DemoSshHost.AuthorizeAsync(await client.GetStringAsync("/api/v1/account/public-key"));
        return await AddHostAsync(client, DemoSshHost.Port, engine);
    }

    private static async Task<string> AddHostAsync(HttpClient client, int port, string engine)
    {
        var response = await client.PostAsJsonAsync("/api/v1/computing", new
        {
            name = $"writes {engine} {port} {Guid.NewGuid().ToString("N")[..4]}", kind = "ssh", host = DemoSshHost.Host, port, username = DemoSshHost.User, engine,
        });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        return (string)JsonNode.Parse(text)!["id"]!;
    }

    /// <summary>A read-write and a read-only sftp storage of the user on <paramref name="computing"/>, at /storages/rw and /storages/ro.</summary>
    private static async Task<(string ReadWrite, string ReadOnly)> AddStoragesAsync(HttpClient client, string computing, string root)
    {
        var ids = new List<string>();
        foreach (var (name, readOnly) in new[] { ("rw", false), ("ro", true) })
        {
            var id = $"{name}-{Guid.NewGuid().ToString("N")[..6]}";
            var created = await client.PostAsJsonAsync("/api/v1/storages", new
            {
                id, name, kind = "sftp", computing, basePath = $"{root}/{name}/$SSH_USER", bindPath = $"/storages/{name}", readOnly,
            });
            Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
            ids.Add(id);
        }
        return (ids[0], ids[1]);
    }
}
