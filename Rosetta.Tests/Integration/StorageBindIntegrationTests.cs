using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Docker.DotNet.Models;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Integration;

/// <summary>
/// A file uploaded through the API is what a task on <c>local</c> sees at the storage's bind path,
/// and a read-only storage is read-only inside the task too.
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

    private static async Task<(string Output, long ExitCode)> ExecAsync(string containerId, params string[] command)
    {
        using var docker = DockerEngine.Client();
        var exec = await docker.Exec.CreateContainerExecAsync(containerId, new ContainerExecCreateParameters
        {
            // As root: the image's own user (nobody) could not write the root-owned folders anyway, and
            // the read-only check must hold for root too.
            Cmd = command, AttachStdout = true, AttachStderr = true, User = "0",
        });
        using var stream = await docker.Exec.StartContainerExecAsync(exec.ID, new ContainerExecStartParameters(), default);
        var (stdout, _) = await stream.ReadOutputToEndAsync(default);
        var inspected = await docker.Exec.InspectContainerExecAsync(exec.ID);
        return (stdout, inspected.ExitCode ?? -1);
    }
}
