using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.SignalR.Client;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Integration;

/// <summary>User B is denied everything of user A's: API, logs, proxy (HTTP and WebSocket) and hub.</summary>
[Collection("platform")]
public sealed class IsolationTests(PlatformFixture platform)
{
    private RosettaAppFactory App => platform.App;

    [Fact]
    public async Task AnotherUserCannotSeeStopDeleteReadOrReachATask()
    {
        using var alice = await App.NewUserClientAsync();
        using var bob = await App.NewUserClientAsync();
        var id = (string)(await TaskApi.StartAsync(alice, new { software = "hello", computing = "local" }))["id"]!;
        try
        {
            await TaskApi.WaitForStatusAsync(alice, id, "running");

            Assert.Empty((await bob.GetFromJsonAsync<JsonArray>("/api/v1/tasks"))!);
            Assert.Equal(HttpStatusCode.NotFound, (await bob.GetAsync($"/api/v1/tasks/{id}")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await bob.GetAsync($"/api/v1/tasks/{id}/logs")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await bob.PostAsync($"/api/v1/tasks/{id}/stop", null)).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await bob.DeleteAsync($"/api/v1/tasks/{id}")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await bob.GetAsync($"/t/{id}/")).StatusCode);
            // Same answer as for a task that does not exist: existence is not revealed.
            Assert.Equal(HttpStatusCode.NotFound, (await bob.GetAsync("/t/0123456789abcdef/")).StatusCode);

            using var bobSocket = new ClientWebSocket();
            bobSocket.Options.SetRequestHeader("Authorization", bob.DefaultRequestHeaders.Authorization!.ToString());
            var refused = await Assert.ThrowsAsync<WebSocketException>(() =>
                bobSocket.ConnectAsync(new Uri($"ws://{App.BaseAddress.Authority}/t/{id}/"), CancellationToken.None));
            Assert.Contains("404", refused.Message);

            // The task is untouched and still answers its owner.
            Assert.Equal("running", (string?)(await TaskApi.GetAsync(alice, id))["status"]);
            Assert.Equal(HttpStatusCode.OK, (await alice.GetAsync($"/t/{id}/")).StatusCode);
        }
        finally
        {
            await TaskApi.StopAndDeleteAsync(alice, id);
        }
    }

    [Fact]
    public async Task AnonymousProxyRequestsGet401OrTheLoginPage()
    {
        using var alice = await App.NewUserClientAsync();
        var id = (string)(await TaskApi.StartAsync(alice, new { software = "hello", computing = "local" }))["id"]!;
        try
        {
            await TaskApi.WaitForStatusAsync(alice, id, "running");
            using var anonymous = App.Client();
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/t/{id}/")).StatusCode);

            using var browser = new HttpRequestMessage(HttpMethod.Get, $"/t/{id}/");
            browser.Headers.Accept.ParseAdd("text/html");
            var page = await anonymous.SendAsync(browser);
            Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
            Assert.Contains("/login", page.Headers.Location!.ToString());
        }
        finally
        {
            await TaskApi.StopAndDeleteAsync(alice, id);
        }
    }

    [Fact]
    public async Task AdminsSeeEveryTaskButCannotOpenItsInterface()
    {
        using var alice = await App.NewUserClientAsync();
        using var admin = App.Client(await App.AdminTokenAsync());
        var id = (string)(await TaskApi.StartAsync(alice, new { software = "hello", computing = "local" }))["id"]!;
        try
        {
            await TaskApi.WaitForStatusAsync(alice, id, "running");
            Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"/api/v1/tasks/{id}")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/t/{id}/")).StatusCode);
        }
        finally
        {
            await TaskApi.StopAndDeleteAsync(alice, id);
        }
    }

    [Fact]
    public async Task HubSendsEachUserTheirOwnTaskChangesOnly()
    {
        using var alice = await App.NewUserClientAsync();
        using var bob = await App.NewUserClientAsync();
        await using var aliceHub = Hub(alice);
        await using var bobHub = Hub(bob);
        var aliceStatuses = new List<string>();
        var bobSaw = new List<string>();
        var running = new TaskCompletionSource();
        aliceHub.On<JsonObject>("TaskChanged", t =>
        {
            lock (aliceStatuses) aliceStatuses.Add((string)t["status"]!);
            if ((string?)t["status"] == "running") running.TrySetResult();
        });
        bobHub.On<JsonObject>("TaskChanged", t => { lock (bobSaw) bobSaw.Add((string)t["id"]!); });
        await aliceHub.StartAsync();
        await bobHub.StartAsync();

        var id = (string)(await TaskApi.StartAsync(alice, new { software = "hello", computing = "local" }))["id"]!;
        try
        {
            await running.Task.WaitAsync(TimeSpan.FromSeconds(60));
            var snapshot = await aliceHub.InvokeAsync<JsonArray>("GetTasks");
            Assert.Contains(snapshot, t => (string?)t!["id"] == id);
            Assert.Empty(await bobHub.InvokeAsync<JsonArray>("GetTasks"));
            // An admin's hub too holds only the admin's own tasks: changes follow for those only.
            using var admin = App.Client();
            admin.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", await App.AdminTokenAsync());
            await using var adminHub = Hub(admin);
            await adminHub.StartAsync();
            Assert.DoesNotContain(await adminHub.InvokeAsync<JsonArray>("GetTasks"), t => (string?)t!["id"] == id);
            lock (aliceStatuses) Assert.Contains("starting", aliceStatuses);
        }
        finally
        {
            await TaskApi.StopAndDeleteAsync(alice, id);
        }
        lock (bobSaw) Assert.Empty(bobSaw);

        // Without credentials the hub refuses the connection.
        await using var anonymous = new HubConnectionBuilder().WithUrl(new Uri(App.BaseAddress, "/hubs/tasks")).Build();
        var error = await Assert.ThrowsAnyAsync<Exception>(() => anonymous.StartAsync());
        Assert.Contains("401", error.Message);
    }

    private HubConnection Hub(HttpClient client) => new HubConnectionBuilder()
        .WithUrl(new Uri(App.BaseAddress, "/hubs/tasks"), o => o.Headers["Authorization"] = client.DefaultRequestHeaders.Authorization!.ToString())
        .Build();
}
