using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Rosetta.App.Proxy;
using Rosetta.Core.Monitoring;
using Rosetta.Core.Security;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Integration;

/// <summary>
/// View-only share links on a real desktop: the guest's noVNC loads and its WebSocket gets the screen, but
/// the relay keeps the guest's screen size (and input) from the VNC server and the guest cannot push the
/// owner off; the owner, on the same desktop, still resizes it.
/// </summary>
[Collection("platform")]
public sealed class ViewOnlyShareTests(PlatformFixture platform)
{
    private RosettaAppFactory App => platform.App;

    [Fact]
    public async Task AViewOnlyGuestSeesTheDesktopButNeitherResizesNorDisconnectsIt()
    {
        var token = await App.AdminTokenAsync();
        using var owner = App.Client(token);
        var desktop = (string)(await TaskApi.StartAsync(owner, new { software = "desktop", computing = "local" }))["id"]!;
        var hello = (string)(await TaskApi.StartAsync(owner, new { software = "hello", computing = "local" }))["id"]!;
        try
        {
            await TaskApi.WaitForStatusAsync(owner, desktop, "running", seconds: 90);

            // Only a desktop's links can be view-only: a web app's requests cannot be told apart.
            var refused = await owner.PostAsJsonAsync($"/api/v1/tasks/{hello}/shares", new { viewOnly = true });
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains("only for desktop tasks", (string?)(await TaskApi.ProblemAsync(refused))["errors"]!["viewOnly"]![0]);

            var created = await owner.PostAsJsonAsync($"/api/v1/tasks/{desktop}/shares", new { name = "audience", viewOnly = true });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var share = (await created.Content.ReadFromJsonAsync<JsonObject>())!;
            Assert.True((bool)share["viewOnly"]!);
            Assert.True((bool)Assert.Single((await owner.GetFromJsonAsync<JsonArray>($"/api/v1/tasks/{desktop}/shares"))!)!["viewOnly"]!);

            // The guest lands on noVNC told to be view-only and to scale rather than resize.
            var cookies = new CookieContainer();
            using var guest = new HttpClient(new SocketsHttpHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = App.BaseAddress };
            var opened = await guest.GetAsync(new Uri((string)share["url"]!).PathAndQuery);
            Assert.Equal(HttpStatusCode.Redirect, opened.StatusCode);
            Assert.Equal($"/t/{desktop}/{TaskProxy.ViewOnlyLanding}", opened.Headers.Location!.OriginalString);
            Assert.Equal(HttpStatusCode.OK, (await guest.GetAsync($"/t/{desktop}/vnc.html")).StatusCode);
            // Reading only: nothing but GET and HEAD reaches the desktop's web server.
            Assert.Equal(HttpStatusCode.OK, (await guest.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/t/{desktop}/vnc.html"))).StatusCode);
            var post = await guest.PostAsync($"/t/{desktop}/vnc.html", new StringContent("x"));
            Assert.Equal(HttpStatusCode.Forbidden, post.StatusCode);
            Assert.Contains("view-only", (string?)(await TaskApi.ProblemAsync(post))["title"]);
            // An upgrade ASP.NET does not call a WebSocket (websockify takes version 8) would pass the relay by: refused.
            Assert.StartsWith("HTTP/1.1 403", await RawUpgradeAsync($"/t/{desktop}/websockify", cookies.GetCookieHeader(new Uri(App.BaseAddress, $"/t/{desktop}/"))));

            await using var ownerSession = await VncThroughProxy.Session.OpenAsync(App, desktop, o => o.SetRequestHeader("Authorization", $"Bearer {token}"));
            var (width, height) = (ownerSession.Width, ownerSession.Height);
            // Not shared, the guest would push the owner off; the relay marks it shared.
            await using (var guestSession = await VncThroughProxy.Session.OpenAsync(App, desktop, o => o.Cookies = cookies, shared: false))
            {
                Assert.Equal((width, height), (guestSession.Width, guestSession.Height)); // the guest gets the screen
                await guestSession.RequestSizeAsync(width - 256, height - 200);
                await guestSession.SendAsync([4, 1, 0, 0, 0, 0, 0, 0x61, 5, 1, 0, 10, 0, 20]); // a key and a click, dropped
                await guestSession.BarrierAsync(); // the server has handled all of it
            }
            Assert.Equal((width, height), await VncThroughProxy.HandshakeAsync(App, token, desktop));

            // The owner's connection is still up, and the owner's own resize goes through.
            await ownerSession.RequestSizeAsync(width - 256, height - 200);
            await ownerSession.BarrierAsync();
            Assert.Equal((width - 256, height - 200), await VncThroughProxy.HandshakeAsync(App, token, desktop));
        }
        finally
        {
            await TaskApi.StopAndDeleteAsync(owner, desktop);
            await TaskApi.StopAndDeleteAsync(owner, hello);
        }
    }

    [Fact]
    public async Task TheDesktopItselfKnowsTheGuestIsViewOnly()
    {
        var token = await App.AdminTokenAsync();
        using var owner = App.Client(token);
        var desktop = (string)(await TaskApi.StartAsync(owner, new { software = "desktop", computing = "local" }))["id"]!;
        try
        {
            await TaskApi.WaitForStatusAsync(owner, desktop, "running", seconds: 90);
            var monitor = App.Services.GetRequiredService<TaskMonitor>();
            var task = monitor.Get(desktop)!;
            Assert.True(task.HasViewOnlyPassword);
            var secret = monitor.SecretOf(task)!;
            var direct = new Uri($"ws://{task.InterfaceHost}:{task.InterfacePort}/websockify");
            // Visitors who open the desktop's socket and leave before logging in (every one comes from websockify's
            // one address) do not get that address blocked, which would lock the owner out too.
            for (var i = 0; i < 8; i++) await VncThroughProxy.Session.LeaveBeforeLoginAsync(App, desktop, o => o.SetRequestHeader("Authorization", $"Bearer {token}"));
            var (width, height) = await VncThroughProxy.HandshakeAsync(App, token, desktop);
            // A client of RFB 3.7 that chose None gets no SecurityResult: the relay keeps the desktop's to itself.
            await using (var older = await VncThroughProxy.Session.TryOpenAsync(VncThroughProxy.Session.ProxiedUri(App, desktop),
                             o => o.SetRequestHeader("Authorization", $"Bearer {token}"), vncPassword: null, rfb37: true))
                Assert.Equal((width, height), (older!.Width, older.Height));

            // Straight to the desktop, past the platform's filter: with the view-only password Xvnc lets the
            // client watch but does not act on its resize; with the full password it does.
            await using (var watcher = await VncThroughProxy.Session.TryOpenAsync(direct, _ => { }, TaskSecrets.ViewOnlyOf(secret)))
            {
                Assert.NotNull(watcher);
                Assert.Equal((width, height), (watcher.Width, watcher.Height));
                await watcher.RequestSizeAsync(width - 256, height - 200);
                await watcher.BarrierAsync();
            }
            Assert.Equal((width, height), await VncThroughProxy.HandshakeAsync(App, token, desktop));
            await using (var controller = await VncThroughProxy.Session.TryOpenAsync(direct, _ => { }, secret))
            {
                Assert.NotNull(controller);
                await controller.RequestSizeAsync(width - 256, height - 200);
                await controller.BarrierAsync();
            }
            Assert.Equal((width - 256, height - 200), await VncThroughProxy.HandshakeAsync(App, token, desktop));

            // The relay logs a view-only guest in with the view-only password: once the desktop forgets it
            // (Xvnc reads its password file at every login, as an image that predates it never knew it), the
            // guest is refused and the owner is not. The platform then stops asking for it: the next guest gets
            // in with the full password, held back by the relay's filter alone.
            var created = await owner.PostAsJsonAsync($"/api/v1/tasks/{desktop}/shares", new { viewOnly = true });
            var cookies = new CookieContainer();
            using var guest = new HttpClient(new SocketsHttpHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = App.BaseAddress };
            Assert.Equal(HttpStatusCode.Redirect, (await guest.GetAsync(new Uri((string)(await created.Content.ReadFromJsonAsync<JsonObject>())!["url"]!).PathAndQuery)).StatusCode);
            var proxied = VncThroughProxy.Session.ProxiedUri(App, desktop);
            await using (var admitted = await VncThroughProxy.Session.TryOpenAsync(proxied, o => o.Cookies = cookies, vncPassword: null))
                Assert.NotNull(admitted);
            var container = (await DockerEngine.FindTaskContainerAsync(desktop))!.ID;
            var forget = await DockerEngine.ExecAsync(container, "1000:1000", "bash", "-c", "printf '%s\\n' \"$VNC_PASSWORD\" | vncpasswd -f > \"$HOME/.vnc/passwd\"");
            Assert.True(forget.ExitCode == 0, forget.Error);
            Assert.Null(await VncThroughProxy.Session.TryOpenAsync(proxied, o => o.Cookies = cookies, vncPassword: null));
            Assert.Equal((width - 256, height - 200), await VncThroughProxy.HandshakeAsync(App, token, desktop));
            Assert.False(monitor.Get(desktop)!.HasViewOnlyPassword);
            await using (var filtered = await VncThroughProxy.Session.TryOpenAsync(proxied, o => o.Cookies = cookies, vncPassword: null))
            {
                Assert.NotNull(filtered);
                await filtered.RequestSizeAsync(width, height);
                await filtered.BarrierAsync();
            }
            Assert.Equal((width - 256, height - 200), await VncThroughProxy.HandshakeAsync(App, token, desktop));
        }
        finally
        {
            await TaskApi.StopAndDeleteAsync(owner, desktop);
        }
    }

    /// <summary>Sends a WebSocket upgrade of protocol version 8 by hand and returns the status line.</summary>
    private async Task<string> RawUpgradeAsync(string path, string cookie)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(App.BaseAddress.Host, App.BaseAddress.Port);
        var stream = tcp.GetStream();
        var request = $"GET {path} HTTP/1.1\r\nHost: {App.BaseAddress.Authority}\r\nCookie: {cookie}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
                      "Sec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream, System.Text.Encoding.ASCII);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        return await reader.ReadLineAsync(timeout.Token) ?? "";
    }
}
