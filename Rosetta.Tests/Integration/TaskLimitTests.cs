using System.Net;
using System.Net.Http.Json;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Integration;

/// <summary>
/// <c>Rosetta:Tasks:MaxActivePerUser</c> on the real platform: one task too many is a 409 that says why,
/// per user, and a stopped task makes room again.
/// </summary>
[Collection("resilience")]
public sealed class TaskLimitTests
{
    [Fact]
    public async Task OneTaskMoreThanAllowedIsAConflictUntilOneEnds()
    {
        await DockerEngine.EnsureAvailableAsync();
        await using var app = new RosettaAppFactory(settings: new Dictionary<string, string?> { ["Rosetta:Tasks:MaxActivePerUser"] = "1" });
        try
        {
            using var alice = await app.NewUserClientAsync();
            using var bob = await app.NewUserClientAsync();
            var first = (string)(await TaskApi.StartAsync(alice, new { software = "hello", computing = "local" }))["id"]!;

            var refused = await alice.PostAsJsonAsync("/api/v1/tasks", new { software = "hello", computing = "local" });
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
            Assert.Contains("You have 1 task that has not ended", (string?)(await TaskApi.ProblemAsync(refused))["detail"]);
            var bobs = (string)(await TaskApi.StartAsync(bob, new { software = "hello", computing = "local" }))["id"]!;

            await TaskApi.WaitForStatusAsync(alice, first, "running");
            Assert.Equal(HttpStatusCode.Accepted, (await alice.PostAsync($"/api/v1/tasks/{first}/stop", null)).StatusCode);
            await TaskApi.WaitForStatusAsync(alice, first, "stopped");
            var next = (string)(await TaskApi.StartAsync(alice, new { software = "hello", computing = "local" }))["id"]!;
            foreach (var (client, id) in new[] { (alice, first), (alice, next), (bob, bobs) }) await TaskApi.StopAndDeleteAsync(client, id);
        }
        finally
        {
            await RosettaAppFactory.RemoveContainersAsync(app.InstanceId);
        }
    }
}
