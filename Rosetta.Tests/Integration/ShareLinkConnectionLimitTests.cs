using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json.Nodes;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Integration;

/// <summary>
/// <c>Rosetta:Sharing:MaxConnectionsPerLink</c> on the real platform and a real WebSocket echo: a link holds at most
/// that many WebSockets at once, one more is a 429 that says why, a closed one makes room, and neither the owner's
/// connections nor another link's count against it.
/// </summary>
[Collection("resilience")]
public sealed class ShareLinkConnectionLimitTests
{
    [Fact]
    public async Task ALinkHoldsAtMostTheConfiguredWebSocketsAndTheOwnerIsNotCounted()
    {
        await DockerEngine.EnsureAvailableAsync();
        await using var app = new RosettaAppFactory(settings: new Dictionary<string, string?> { ["Rosetta:Sharing:MaxConnectionsPerLink"] = "2" });
        var sockets = new List<ClientWebSocket>();
        try
        {
            var token = await app.AdminTokenAsync();
            using var owner = app.Client(token);
            var registered = await owner.PostAsJsonAsync("/api/v1/software", new
            {
                name = "WebSocket echo", image = "rosetta/hello", interfacePort = 8080, env = new Dictionary<string, string> { ["HELLO_WEBSOCKET_ECHO"] = "1" },
            });
            var software = (string)(await registered.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
            var id = (string)(await TaskApi.StartAsync(owner, new { software, computing = "local" }))["id"]!;
            await TaskApi.WaitForStatusAsync(owner, id, "running");
            var echo = new Uri($"ws://{app.BaseAddress.Authority}/t/{id}/echo");

            var link = await OpenLinkAsync(app, owner, id);
            for (var i = 0; i < 2; i++) sockets.Add(await HeldWebSockets.OpenAsync(echo, link));
            var refused = await TryOpenAsync(echo, link);
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.Status);
            Assert.Contains("may hold 2 open at once", refused.Body);
            // Plain requests are short: they are not counted.
            using (var guest = new HttpClient(new SocketsHttpHandler { CookieContainer = link }) { BaseAddress = app.BaseAddress })
                Assert.Equal(HttpStatusCode.OK, (await guest.GetAsync($"/t/{id}/")).StatusCode);

            // Neither the owner nor another link shares the count.
            for (var i = 0; i < 3; i++) sockets.Add(await HeldWebSockets.OpenAsync(echo, authorization: $"Bearer {token}"));
            sockets.Add(await HeldWebSockets.OpenAsync(echo, await OpenLinkAsync(app, owner, id)));
            // The owner sees how many each link holds.
            var listed = (await owner.GetFromJsonAsync<JsonArray>($"/api/v1/tasks/{id}/shares"))!;
            Assert.Equal([1, 2], listed.Select(l => (int)l!["openConnections"]!).Order());

            // A closed one makes room (the proxy lets go of it once both ends have closed).
            await sockets[0].CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            (HttpStatusCode Status, string Body, ClientWebSocket? Socket) again;
            while ((again = await TryOpenAsync(echo, link)).Socket is null)
            {
                Assert.Equal(HttpStatusCode.TooManyRequests, again.Status);
                await Task.Delay(100, deadline.Token);
            }
            sockets.Add(again.Socket);
            Assert.Equal(HttpStatusCode.TooManyRequests, (await TryOpenAsync(echo, link)).Status);
            await TaskApi.StopAndDeleteAsync(owner, id);
        }
        finally
        {
            foreach (var socket in sockets) socket.Dispose();
            await RosettaAppFactory.RemoveContainersAsync(app.InstanceId);
        }
    }

    /// <summary>A new full share link of the task, opened: its cookie jar.</summary>
    private static async Task<CookieContainer> OpenLinkAsync(RosettaAppFactory app, HttpClient owner, string taskId)
    {
        var created = await owner.PostAsJsonAsync($"/api/v1/tasks/{taskId}/shares", new { });
        var url = new Uri((string)(await created.Content.ReadFromJsonAsync<JsonObject>())!["url"]!);
        var cookies = new CookieContainer();
        using var guest = new HttpClient(new SocketsHttpHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = app.BaseAddress };
        Assert.Equal(HttpStatusCode.Redirect, (await guest.GetAsync(url.PathAndQuery)).StatusCode);
        return cookies;
    }

    /// <summary>Tries to open a WebSocket with the link; on a refusal, the status and the problem's text.</summary>
    private static async Task<(HttpStatusCode Status, string Body, ClientWebSocket? Socket)> TryOpenAsync(Uri uri, CookieContainer link)
    {
        var socket = new ClientWebSocket();
        socket.Options.Cookies = link;
        socket.Options.CollectHttpResponseDetails = true;
        try
        {
            await socket.ConnectAsync(uri, CancellationToken.None);
            return (HttpStatusCode.SwitchingProtocols, "", socket);
        }
        catch (WebSocketException)
        {
            var status = socket.HttpStatusCode;
            socket.Dispose();
            // ClientWebSocket keeps no body: the same request made over plain HTTP gets the same answer.
            using var http = new HttpClient(new SocketsHttpHandler { CookieContainer = link });
            var request = new HttpRequestMessage(HttpMethod.Get, new UriBuilder(uri) { Scheme = "http" }.Uri);
            foreach (var (name, value) in new[] { ("Connection", "Upgrade"), ("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13"), ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==") })
                request.Headers.TryAddWithoutValidation(name, value);
            var body = await (await http.SendAsync(request)).Content.ReadAsStringAsync();
            return (status, body, null);
        }
    }
}
