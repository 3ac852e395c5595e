using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Rosetta.Core.Monitoring;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Integration;

/// <summary>
/// Where the platform reaches a local task (<c>Rosetta:Docker:TaskAddress</c>): the container's own
/// address by default, past Docker's userland proxy; the published loopback port when configured.
/// </summary>
[Collection("platform")]
public sealed class TaskAddressTests(PlatformFixture platform)
{
    [Fact]
    public async Task ByDefaultTheProxyReachesTheContainerAtItsOwnAddress()
    {
        using var client = platform.App.Client(await platform.App.AdminTokenAsync());
        var id = (string)(await TaskApi.StartAsync(client, new { software = "hello", computing = "local" }))["id"]!;
        await TaskApi.WaitForStatusAsync(client, id, "running", seconds: 60);

        var container = await DockerEngine.InspectTaskContainerAsync(id);
        var address = container.NetworkSettings!.Networks.Values.Select(n => n.IPAddress).First(ip => !string.IsNullOrEmpty(ip));
        var task = platform.App.Services.GetRequiredService<TaskMonitor>().Get(id)!;
        Assert.Equal(address, task.InterfaceHost);
        Assert.Equal(8080, task.InterfacePort); // the port inside the container, not the published one
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/t/{id}/")).StatusCode);
        await TaskApi.StopAndDeleteAsync(client, id);
    }

    [Fact]
    public async Task ThePublishedLoopbackPortIsUsedWhenConfigured()
    {
        await using var app = new RosettaAppFactory(settings: new Dictionary<string, string?> { ["Rosetta:Docker:TaskAddress"] = "Published" });
        using var client = app.Client(await app.AdminTokenAsync());
        var id = (string)(await TaskApi.StartAsync(client, new { software = "hello", computing = "local" }))["id"]!;
        await TaskApi.WaitForStatusAsync(client, id, "running", seconds: 60);

        var container = await DockerEngine.InspectTaskContainerAsync(id);
        var published = container.NetworkSettings!.Ports["8080/tcp"].Single(b => b.HostIP == "127.0.0.1");
        var task = app.Services.GetRequiredService<TaskMonitor>().Get(id)!;
        Assert.Equal("127.0.0.1", task.InterfaceHost);
        Assert.Equal(published.HostPort, task.InterfacePort.ToString());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/t/{id}/")).StatusCode);

        // An interface that stops answering is a 502 that says so, not an empty one.
        using (var docker = DockerEngine.Client())
            await docker.Networks.DisconnectNetworkAsync("bridge", new Docker.DotNet.Models.NetworkDisconnectParameters { Container = container.ID, Force = true });
        var broken = await client.GetAsync($"/t/{id}/");
        Assert.Equal(HttpStatusCode.BadGateway, broken.StatusCode);
        var problem = await TaskApi.ProblemAsync(broken);
        Assert.Equal("The task's interface did not answer.", (string?)problem["title"]);
        Assert.Contains("port " + published.HostPort, (string?)problem["detail"]);
        await TaskApi.StopAndDeleteAsync(client, id);
    }

    [Fact]
    public async Task ABrowserThatGivesUpOnASilentInterfaceLeavesNoWarningInTheLog()
    {
        var logs = new CapturedLogs();
        await using var app = new RosettaAppFactory(services: logs.AddTo);
        var token = await app.AdminTokenAsync();
        using var client = app.Client(token);
        var id = (string)(await TaskApi.StartAsync(client, new { software = "hello", computing = "local" }))["id"]!;
        await TaskApi.WaitForStatusAsync(client, id, "running", seconds: 60);

        // Off its network the container's address answers nothing: the proxy's connection attempt waits.
        var container = await DockerEngine.InspectTaskContainerAsync(id);
        using (var docker = DockerEngine.Client())
            await docker.Networks.DisconnectNetworkAsync("bridge", new Docker.DotNet.Models.NetworkDisconnectParameters { Container = container.ID, Force = true });
        using (var impatient = app.Client(token))
        {
            impatient.Timeout = TimeSpan.FromSeconds(1); // a reload, a closed tab
            await Assert.ThrowsAnyAsync<TaskCanceledException>(() => impatient.GetAsync($"/t/{id}/"));
        }

        const string category = "Rosetta.App.Proxy.TaskForwarding";
        await StorageApi.WaitUntilAsync(() => logs.Entries.Any(e => e.Category == category && e.Message.Contains("the client went away")),
            "the proxy noticed the browser left");
        Assert.DoesNotContain(logs.Entries, e => e.Category == category && e.Level >= LogLevel.Warning);
        await TaskApi.StopAndDeleteAsync(client, id);
    }
}
