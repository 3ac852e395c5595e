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
/// Credentials are checked when a connection opens; when an account changes (disabled, demoted), what
/// it has open already (a kernel's WebSocket, the task hub, a browser session) must follow at once,
/// not hours later.
/// </summary>
public sealed class AccountChangeTests
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
            // A guest holds the same kernel open through a share link.
            var share = (await (await owner.PostAsJsonAsync($"/api/v1/tasks/{id}/shares", new { })).Content.ReadFromJsonAsync<JsonObject>())!;
            var guestCookies = new CookieContainer();
            using var guest = new HttpClient(new SocketsHttpHandler { CookieContainer = guestCookies, AllowAutoRedirect = false }) { BaseAddress = app.BaseAddress };
            await guest.GetAsync(new Uri((string)share["url"]!).PathAndQuery);
            using var guestHeld = await HeldWebSockets.OpenAsync(channels, guestCookies);
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
            await HeldWebSockets.AssertEndsAsync(guestHeld);
            await ownersHubClosed.Task.WaitAsync(TimeSpan.FromSeconds(15));
            Assert.Equal(HttpStatusCode.Unauthorized, (await owner.GetAsync($"/t/{id}/api/status")).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await guest.GetAsync($"/t/{id}/api/status")).StatusCode);
            await Assert.ThrowsAsync<WebSocketException>(() => HeldWebSockets.OpenAsync(channels, authorization: authorization));
            // Only that account's connections end.
            Assert.Equal(HubConnectionState.Connected, bystandersHub.State);
            Assert.NotNull(await bystandersHub.InvokeAsync<JsonArray>("GetTasks"));

            // Enabled again, the same token opens connections that stay open.
            await administration.SetDisabledAsync(admin, userId, disabled: false);
            using var reopened = await HeldWebSockets.OpenAsync(channels, authorization: authorization);
            Assert.Equal(WebSocketState.Open, reopened.State);
            Assert.Equal(HttpStatusCode.OK, (await guest.GetAsync($"/t/{id}/api/status")).StatusCode);
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

    [Fact]
    public async Task ADemotedAdminsBrowserSessionsEndSoTheyCarryNoAdminRightsFurther()
    {
        await using var app = new RosettaAppFactory();
        var username = "admin" + Guid.NewGuid().ToString("N")[..8];
        using (var admin = app.Client(await app.AdminTokenAsync()))
            (await admin.PostAsJsonAsync("/api/v1/users", new { username, password = "password-" + username, admin = true })).EnsureSuccessStatusCode();
        using var browser = new BrowserLikeClient(app.BaseAddress);
        await browser.LogInAsync(app.BaseAddress, username, "password-" + username);
        // The users list through the API, as the dashboard's links reach it: the session cookie with the dashboard's token.
        async Task<Uri> UsersAsync() => new(app.BaseAddress, "/api/v1/users?dashboardToken=" + await app.DashboardTokenAsync(username));
        var users = await UsersAsync();
        Assert.Equal(HttpStatusCode.OK, (await browser.SendAsync(new HttpRequestMessage(HttpMethod.Get, users))).StatusCode);

        var administration = app.Services.GetRequiredService<UserAdministration>();
        var userId = (await administration.ListAsync()).Single(u => u.Username == username).Id;
        await administration.SetAdminAsync(new Caller("the admin", IsAdmin: true), userId, admin: false);

        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.SendAsync(new HttpRequestMessage(HttpMethod.Get, users))).StatusCode);
        // Logged in again, the session carries the roles the account has now.
        await browser.LogInAsync(app.BaseAddress, username, "password-" + username);
        // The dashboard's token from before the change went with the sessions of then.
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.SendAsync(new HttpRequestMessage(HttpMethod.Get, users))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await browser.SendAsync(new HttpRequestMessage(HttpMethod.Get, await UsersAsync()))).StatusCode);
    }

    private static HubConnection Hub(RosettaAppFactory app, HttpClient client) => new HubConnectionBuilder()
        .WithUrl(new Uri(app.BaseAddress, "/hubs/tasks"), o => o.Headers["Authorization"] = client.DefaultRequestHeaders.Authorization!.ToString())
        .Build();
}
