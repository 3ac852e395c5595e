using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Rosetta.App.Auth;
using Rosetta.Core.Domain;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Integration;

/// <summary>
/// Credentials are checked when a connection opens; a disabled account's connections that are
/// already open (a kernel's WebSocket, the task hub) must end with it, not hours later.
/// </summary>
public sealed class DisabledAccountTests
{
    [Fact]
    public async Task DisablingAnAccountEndsItsOpenInterfaceWebSocketsAndHubConnectionsAndEnablingItLetsThemReopen()
    {
        await DockerEngine.EnsureAvailableAsync();
        await using var app = new RosettaAppFactory();
        try
        {
            var username = "user" + Guid.NewGuid().ToString("N")[..8];
            using var owner = await app.NewUserClientAsync(username);
            using var bystander = await app.NewUserClientAsync();
            var authorization = owner.DefaultRequestHeaders.Authorization!.ToString();
            var id = (string)(await TaskApi.StartAsync(owner, new { software = "jupyter", computing = "local" }))["id"]!;
            await TaskApi.WaitForStatusAsync(owner, id, "running", seconds: 90);
            var kernel = await owner.PostAsJsonAsync($"/t/{id}/api/kernels", new { name = "python3" });
            Assert.Equal(HttpStatusCode.Created, kernel.StatusCode);
            var channels = new Uri($"ws://{app.BaseAddress.Authority}/t/{id}/api/kernels/{(string)(await kernel.Content.ReadFromJsonAsync<JsonObject>())!["id"]!}/channels");

            using var held = await HeldWebSockets.OpenAsync(channels, authorization: authorization);
            await using var ownersHub = Hub(app, owner);
            await ownersHub.StartAsync();
            var ownersHubClosed = new TaskCompletionSource();
            ownersHub.Closed += _ => { ownersHubClosed.TrySetResult(); return Task.CompletedTask; };
            await using var bystandersHub = Hub(app, bystander);
            await bystandersHub.StartAsync();

            var administration = app.Services.GetRequiredService<UserAdministration>();
            var admin = new Caller("the admin", IsAdmin: true);
            var userId = (await administration.ListAsync()).Single(u => u.Username == username).Id;
            await administration.SetDisabledAsync(admin, userId, disabled: true);

            await HeldWebSockets.AssertEndsAsync(held);
            await ownersHubClosed.Task.WaitAsync(TimeSpan.FromSeconds(15));
            Assert.Equal(HttpStatusCode.Unauthorized, (await owner.GetAsync($"/t/{id}/api/status")).StatusCode);
            await Assert.ThrowsAsync<WebSocketException>(() => HeldWebSockets.OpenAsync(channels, authorization: authorization));
            // Only that account's connections end.
            Assert.Equal(HubConnectionState.Connected, bystandersHub.State);
            Assert.NotNull(await bystandersHub.InvokeAsync<JsonArray>("GetTasks"));

            // Enabled again, the same token opens connections that stay open.
            await administration.SetDisabledAsync(admin, userId, disabled: false);
            using var reopened = await HeldWebSockets.OpenAsync(channels, authorization: authorization);
            Assert.Equal(WebSocketState.Open, reopened.State);
            await using var hubAgain = Hub(app, owner);
            await hubAgain.StartAsync();
            var tasks = await hubAgain.InvokeAsync<JsonArray>("GetTasks");
            Assert.Equal(id, (string?)Assert.Single(tasks)!["id"]);
            await reopened.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            await TaskApi.StopAndDeleteAsync(owner, id);
        }
        finally
        {
            await RosettaAppFactory.RemoveContainersAsync(app.InstanceId);
        }
    }

    private static HubConnection Hub(RosettaAppFactory app, HttpClient client) => new HubConnectionBuilder()
        .WithUrl(new Uri(app.BaseAddress, "/hubs/tasks"), o => o.Headers["Authorization"] = client.DefaultRequestHeaders.Authorization!.ToString())
        .Build();
}
