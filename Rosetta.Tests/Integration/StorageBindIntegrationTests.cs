using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Docker.DotNet.Models;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Integration;

/// <summary>
/// A file uploaded through the API is what a task on <c>local</c> sees at the storage's bind path,
/// a read-only storage is read-only inside the task too, and a task whose image runs unprivileged
/// (jupyter as uid 1000) can write what the platform made there.
/// </summary>
[Collection("platform")]
public sealed class StorageBindIntegrationTests(PlatformFixture platform)
{
    private RosettaAppFactory App => platform.App;

    [Fact]
    public async Task AFileUploadedThroughTheApiIsInsideARunningTaskAtItsBindPath()
    {
        using var client = await App.NewUserClientAsync();
        var content = "uploaded through the file manager " + Guid.NewGuid().ToString("N");
        await StorageApi.UploadAsync(client, "personal", "notes/hello.txt", Encoding.UTF8.GetBytes(content));

        var referenceFolder = Path.Combine(App.DataDirectory, "reference-" + Guid.NewGuid().ToString("N")[..6]);
        using var admin = App.Client(await App.AdminTokenAsync());
        var bindPath = "/storages/" + Path.GetFileName(referenceFolder);
        var created = await admin.PostAsJsonAsync("/api/v1/storages", new
        {
            name = "Reference", kind = "local", basePath = referenceFolder, bindPath, readOnly = true, platformWide = true,
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        var task = await TaskApi.StartAsync(client, new { name = "binds", software = "hello", computing = "local" });
        var id = (string)task["id"]!;
        try
        {
            await TaskApi.WaitForStatusAsync(client, id, "running");
            var container = await DockerEngine.InspectTaskContainerAsync(id);
            Assert.Equal(content, (await ExecAsync(container.ID, "cat", "/storages/personal/notes/hello.txt")).Output);

            // Writable where the storage is, read-only where it is not: even root in the task cannot write there.
            Assert.Equal(0, (await ExecAsync(container.ID, "touch", "/storages/personal/written-by-task")).ExitCode);
            Assert.Contains("written-by-task", await StorageApi.NamesAsync(client, "personal"));
            Assert.NotEqual(0, (await ExecAsync(container.ID, "touch", bindPath + "/written-by-task")).ExitCode);
            Assert.False(File.Exists(Path.Combine(referenceFolder, "written-by-task")));
            Assert.True(Directory.Exists(referenceFolder)); // made by the platform before the engine bound it
        }
        finally
        {
            await TaskApi.StopAndDeleteAsync(client, id);
        }
    }

    [Fact]
    public async Task AJupyterTaskRunningUnprivilegedWritesItsStorageAndTheFileManagerSeesIt()
    {
        using var client = await App.NewUserClientAsync();
        await StorageApi.UploadAsync(client, "personal", "from-the-api/log.txt", "api\n"u8.ToArray());
        var id = (string)(await TaskApi.StartAsync(client, new { name = "writes storage", software = "jupyter", computing = "local" }))["id"]!;
        try
        {
            await TaskApi.WaitForStatusAsync(client, id, "running", seconds: 90);
            var container = await DockerEngine.InspectTaskContainerAsync(id);
            // As the image's own user (jovyan, uid 1000), not root: what a notebook would do.
            Assert.Equal("1000", (await ExecAsync(container.ID, asImageUser: true, "id", "-u")).Output.Trim());
            var wrote = await ExecAsync(container.ID, asImageUser: true, "sh", "-c",
                "mkdir /storages/personal/results && echo 42 > /storages/personal/results/answer.txt && echo task >> /storages/personal/from-the-api/log.txt");
            Assert.True(wrote.ExitCode == 0, "the task could not write its storage: " + wrote.Output);

            Assert.Equal(["answer.txt"], await StorageApi.NamesAsync(client, "personal", "results"));
            Assert.Equal("42\n", await client.GetStringAsync("/api/v1/storages/personal/download?path=results/answer.txt"));
            Assert.Equal("api\ntask\n", await client.GetStringAsync("/api/v1/storages/personal/download?path=from-the-api/log.txt"));
            Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync("/api/v1/storages/personal/files?path=results")).StatusCode);

            // Jupyter's own file browser (rooted at the home folder, which goes with the container) shows the
            // storages, and a notebook saved there through it lands in the storage, where it outlives the task.
            var root = await client.GetFromJsonAsync<JsonObject>($"/t/{id}/api/contents");
            Assert.Contains(root!["content"]!.AsArray(), e => (string?)e!["name"] == "personal" && (string?)e["type"] == "directory");
            var notebook = new JsonObject
            {
                ["type"] = "notebook",
                ["content"] = new JsonObject { ["cells"] = new JsonArray(), ["metadata"] = new JsonObject(), ["nbformat"] = 4, ["nbformat_minor"] = 5 },
            };
            Assert.Equal(HttpStatusCode.Created, (await client.PutAsJsonAsync($"/t/{id}/api/contents/personal/saved.ipynb", notebook)).StatusCode);
            Assert.Contains("saved.ipynb", await StorageApi.NamesAsync(client, "personal"));
        }
        finally
        {
            await TaskApi.StopAndDeleteAsync(client, id);
        }
    }

    private static Task<(string Output, long ExitCode)> ExecAsync(string containerId, params string[] command) =>
        ExecAsync(containerId, asImageUser: false, command);

    private static async Task<(string Output, long ExitCode)> ExecAsync(string containerId, bool asImageUser, params string[] command)
    {
        // Root by default: hello runs as nobody, and the read-only check must hold for root too.
        var (exitCode, output, _) = await DockerEngine.ExecAsync(containerId, asImageUser ? "" : "0", command);
        return (output, exitCode);
    }
}
