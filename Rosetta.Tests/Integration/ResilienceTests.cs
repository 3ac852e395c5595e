using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Docker.DotNet.Models;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Integration;

/// <summary>Platform restarts and engine outages: tasks keep their state, nothing is started twice, everything recovers.</summary>
[Collection("resilience")]
public sealed class ResilienceTests
{
    [Fact]
    public async Task RestartedPlatformReadoptsRunningTasksRestoresTheirRoutesAndNoticesTheOnesThatDied()
    {
        await DockerEngine.EnsureAvailableAsync();
        var first = new RosettaAppFactory();
        var instance = first.InstanceId;
        try
        {
            var token = await first.AdminTokenAsync();
            string hello, jupyter, doomed, vanished;
            using (var client = first.Client(token))
            {
                hello = (string)(await TaskApi.StartAsync(client, new { software = "hello", computing = "local" }))["id"]!;
                jupyter = (string)(await TaskApi.StartAsync(client, new { software = "jupyter", computing = "local" }))["id"]!;
                doomed = (string)(await TaskApi.StartAsync(client, new { software = "hello", computing = "local" }))["id"]!;
                vanished = (string)(await TaskApi.StartAsync(client, new { software = "hello", computing = "local" }))["id"]!;
                foreach (var id in new[] { hello, doomed, vanished }) await TaskApi.WaitForStatusAsync(client, id, "running");
                await TaskApi.WaitForStatusAsync(client, jupyter, "running", seconds: 90);
            }
            var helloContainer = (await DockerEngine.FindTaskContainerAsync(hello))!.ID;
            await first.DisposeAsync();

            // While the platform is down: its containers keep running; one dies, one is removed.
            Assert.Equal("running", (await DockerEngine.FindTaskContainerAsync(hello))!.State);
            using (var docker = DockerEngine.Client())
            {
                await docker.Containers.KillContainerAsync((await DockerEngine.FindTaskContainerAsync(doomed))!.ID, new ContainerKillParameters { Signal = "SIGKILL" });
                await docker.Containers.RemoveContainerAsync((await DockerEngine.FindTaskContainerAsync(vanished))!.ID, new ContainerRemoveParameters { Force = true });
            }

            await using var second = new RosettaAppFactory(first.DataDirectory);
            Assert.Equal(instance, second.InstanceId);
            using var again = second.Client(token); // tokens survive the restart
            Assert.Equal("running", (string?)(await TaskApi.GetAsync(again, hello))["status"]);
            var page = await again.GetAsync($"/t/{hello}/");
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Equal(helloContainer, (await DockerEngine.FindTaskContainerAsync(hello))!.ID); // same container, none started twice
            // Jupyter's token was kept encrypted in the database and still opens it.
            Assert.Equal(HttpStatusCode.OK, (await again.GetAsync($"/t/{jupyter}/api/status")).StatusCode);

            var exited = await TaskApi.WaitForStatusAsync(again, doomed, "exited", seconds: 20);
            Assert.Equal(137, (int?)exited["exitCode"]);
            var failed = await TaskApi.WaitForStatusAsync(again, vanished, "failed", seconds: 20);
            Assert.Contains("disappeared", (string?)failed["error"]);
            foreach (var id in new[] { hello, jupyter, doomed, vanished }) await TaskApi.StopAndDeleteAsync(again, id);
        }
        finally
        {
            await RosettaAppFactory.RemoveContainersAsync(instance);
        }
    }

    [Fact]
    public async Task EngineOutageKeepsLastKnownStateReportsUnreachableAndRecoversByItself()
    {
        await DockerEngine.EnsureAvailableAsync();
        await using var relay = new UnixSocketRelay();
        await using var app = new RosettaAppFactory(settings: new Dictionary<string, string?>
        {
            ["Rosetta:Docker:Endpoint"] = relay.Endpoint,
            ["Rosetta:Tasks:MaxReconnectDelaySeconds"] = "1",
        });
        try
        {
            using var client = app.Client(await app.AdminTokenAsync());
            var survivor = (string)(await TaskApi.StartAsync(client, new { software = "hello", computing = "local" }))["id"]!;
            var victim = (string)(await TaskApi.StartAsync(client, new { software = "hello", computing = "local" }))["id"]!;
            await TaskApi.WaitForStatusAsync(client, survivor, "running");
            await TaskApi.WaitForStatusAsync(client, victim, "running");

            await relay.PauseAsync();
            await TaskApi.WaitForComputingStateAsync(client, "local", "unreachable");
            var refused = await client.PostAsJsonAsync("/api/v1/tasks", new { software = "hello", computing = "local" });
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Contains("unreachable", (string?)(await TaskApi.ProblemAsync(refused))["detail"]);
            Assert.Equal("running", (string?)(await TaskApi.GetAsync(client, survivor))["status"]);

            // Something happens while the platform cannot see the engine.
            using (var docker = DockerEngine.Client())
                await docker.Containers.KillContainerAsync((await DockerEngine.FindTaskContainerAsync(victim))!.ID, new ContainerKillParameters { Signal = "SIGKILL" });

            relay.Resume();
            await TaskApi.WaitForComputingStateAsync(client, "local", "available");
            await TaskApi.WaitForStatusAsync(client, victim, "exited", seconds: 20);
            Assert.Equal("running", (string?)(await TaskApi.GetAsync(client, survivor))["status"]);
            var fresh = (string)(await TaskApi.StartAsync(client, new { software = "hello", computing = "local" }))["id"]!;
            await TaskApi.WaitForStatusAsync(client, fresh, "running");
            foreach (var id in new[] { survivor, victim, fresh }) await TaskApi.StopAndDeleteAsync(client, id);
        }
        finally
        {
            await RosettaAppFactory.RemoveContainersAsync(app.InstanceId);
        }
    }

    [Fact]
    public async Task AnInterfaceThatNeverAnswersFailsAtTheStartTimeoutWithAClearErrorAndIsStopped()
    {
        await DockerEngine.EnsureAvailableAsync();
        await using var app = new RosettaAppFactory(settings: new Dictionary<string, string?> { ["Rosetta:Tasks:StartTimeoutSeconds"] = "3" });
        try
        {
            using var client = app.Client(await app.AdminTokenAsync());
            // hello listens on 8080; this entry claims 9999, where nothing ever answers.
            var software = await client.PostAsJsonAsync("/api/v1/software", new { name = "Wrong port", image = "rosetta/hello", interfacePort = 9999 });
            Assert.Equal(HttpStatusCode.Created, software.StatusCode);
            var softwareId = (string)(await software.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;

            var id = (string)(await TaskApi.StartAsync(client, new { software = softwareId, computing = "local" }))["id"]!;
            var failed = await TaskApi.WaitForStatusAsync(client, id, "failed", seconds: 30);
            Assert.Contains("did not answer on port 9999 within 3 s", (string?)failed["error"]);
            var container = await DockerEngine.FindTaskContainerAsync(id);
            Assert.NotEqual("running", container?.State);
            Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v1/tasks/{id}")).StatusCode);
        }
        finally
        {
            await RosettaAppFactory.RemoveContainersAsync(app.InstanceId);
        }
    }
}
