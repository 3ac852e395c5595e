using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Integration;

/// <summary>
/// Share links: scoped to one task, expiring, revocable, checked on every HTTP request and WebSocket
/// upgrade; the link holder needs no account and never gets the interface's own secret.
/// </summary>
[Collection("resilience")]
public sealed class ShareLinkTests
{
    [Fact]
    public async Task ALinkHolderReachesTheInterfaceUntilRevokedOrExpiredAndNobodyElseDoes()
    {
        await DockerEngine.EnsureAvailableAsync();
        var clock = new MovableClock();
        await using var app = new RosettaAppFactory(services: s => s.AddSingleton<TimeProvider>(clock));
        try
        {
            using var owner = await app.NewUserClientAsync();
            var id = (string)(await TaskApi.StartAsync(owner, new { software = "jupyter", computing = "local" }))["id"]!;
            var other = (string)(await TaskApi.StartAsync(owner, new { software = "hello", computing = "local" }))["id"]!;
            await TaskApi.WaitForStatusAsync(owner, id, "running", seconds: 90);
            await TaskApi.WaitForStatusAsync(owner, other, "running");
            // The bundled notebook offers no terminal (Debian's xterm.js cannot load in a browser: its page would be blank).
            Assert.Equal(HttpStatusCode.NotFound, (await owner.GetAsync($"/t/{id}/api/terminals")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync($"/t/{id}/api/kernelspecs")).StatusCode);

            // Only the owner creates links.
            using var stranger = await app.NewUserClientAsync();
            Assert.Equal(HttpStatusCode.NotFound, (await stranger.PostAsJsonAsync($"/api/v1/tasks/{id}/shares", new { })).StatusCode);
            var created = await owner.PostAsJsonAsync($"/api/v1/tasks/{id}/shares", new { name = "for Bob", expiresInMinutes = 60 });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var share = (await created.Content.ReadFromJsonAsync<JsonObject>())!;
            var url = new Uri((string)share["url"]!);

            // Someone without an account opens the link: the secret becomes a cookie for this task's path only.
            var cookies = new CookieContainer();
            using var guest = new HttpClient(new SocketsHttpHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = app.BaseAddress };
            var opened = await guest.GetAsync(url.PathAndQuery);
            Assert.Equal(HttpStatusCode.Redirect, opened.StatusCode);
            Assert.Equal($"/t/{id}/", opened.Headers.Location!.OriginalString);
            Assert.Contains(cookies.GetAllCookies(), c => c.Path == $"/t/{id}/" && c.HttpOnly);

            Assert.Equal(HttpStatusCode.OK, (await guest.GetAsync($"/t/{id}/api/status")).StatusCode);
            var kernel = await guest.PostAsJsonAsync($"/t/{id}/api/kernels", new { name = "python3" });
            Assert.Equal(HttpStatusCode.Created, kernel.StatusCode);
            var kernelId = (string)(await kernel.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
            var channels = new Uri($"ws://{app.BaseAddress.Authority}/t/{id}/api/kernels/{kernelId}/channels");
            await ConnectAsync(channels, cookies); // WebSocket upgrade with the link's cookie
            using var held = await HeldWebSockets.OpenAsync(channels, cookies);

            // The link opens this task and no other, and gives nothing on the API.
            Assert.NotEqual(HttpStatusCode.OK, (await guest.GetAsync($"/t/{other}/")).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await guest.GetAsync($"/api/v1/tasks/{id}")).StatusCode);

            // Listed on the task, for its owner and for admins, who cannot make links to it themselves.
            var listed = await owner.GetFromJsonAsync<JsonArray>($"/api/v1/tasks/{id}/shares");
            Assert.Equal("for Bob", (string?)Assert.Single(listed!)!["name"]);
            Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/api/v1/tasks/{id}/shares")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await stranger.DeleteAsync($"/api/v1/tasks/{id}/shares/{share["id"]}")).StatusCode);
            // The owner revoking a link the task does not have learns that, not that the task is not theirs.
            var noSuchLink = await owner.DeleteAsync($"/api/v1/tasks/{id}/shares/nonexistent");
            Assert.Equal(HttpStatusCode.NotFound, noSuchLink.StatusCode);
            Assert.StartsWith("The task has no share link 'nonexistent'", (string?)(await TaskApi.ProblemAsync(noSuchLink))["detail"]);
            using var admin = app.Client(await app.AdminTokenAsync());
            Assert.Equal("for Bob", (string?)Assert.Single((await admin.GetFromJsonAsync<JsonArray>($"/api/v1/tasks/{id}/shares"))!)!["name"]);
            var adminLink = await admin.PostAsJsonAsync($"/api/v1/tasks/{id}/shares", new { });
            Assert.Equal(HttpStatusCode.Forbidden, adminLink.StatusCode);
            Assert.StartsWith("Only the task's owner can share it", (string?)(await TaskApi.ProblemAsync(adminLink))["detail"]);

            // Revoked (here by an admin, as for a link that leaked), it stops working at once, WebSockets included.
            Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/tasks/{id}/shares/{share["id"]}")).StatusCode);
            await AssertLinkDeadAsync(guest, $"/t/{id}/api/status");
            await AssertLinkDeadAsync(guest, $"/t/{id}/", page: true);
            await Assert.ThrowsAsync<WebSocketException>(() => ConnectAsync(channels, cookies));
            await HeldWebSockets.AssertEndsAsync(held); // the one opened before the revocation too
            Assert.Equal(HttpStatusCode.NotFound, (await guest.GetAsync(url.PathAndQuery)).StatusCode);

            // A second link expires.
            var second = (await (await owner.PostAsJsonAsync($"/api/v1/tasks/{id}/shares", new { expiresInMinutes = 5 })).Content.ReadFromJsonAsync<JsonObject>())!;
            var expiring = new CookieContainer();
            using var late = new HttpClient(new SocketsHttpHandler { CookieContainer = expiring, AllowAutoRedirect = false }) { BaseAddress = app.BaseAddress };
            await late.GetAsync(new Uri((string)second["url"]!).PathAndQuery);
            Assert.Equal(HttpStatusCode.OK, (await late.GetAsync($"/t/{id}/api/status")).StatusCode);
            using var heldUntilExpiry = await HeldWebSockets.OpenAsync(channels, expiring);
            clock.Offset = TimeSpan.FromMinutes(6);
            await AssertLinkDeadAsync(late, $"/t/{id}/api/status");
            // Someone who never held a link is sent to sign in, with no word about links.
            using var anonymous = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = app.BaseAddress };
            using var visit = new HttpRequestMessage(HttpMethod.Get, $"/t/{id}/");
            visit.Headers.Accept.ParseAdd("text/html");
            var login = (await anonymous.SendAsync(visit)).Headers.Location!.OriginalString;
            Assert.Contains("/login?ReturnUrl=", login);
            Assert.DoesNotContain("notice", login);
            var program = await anonymous.GetAsync($"/t/{id}/api/status");
            Assert.Equal(HttpStatusCode.Unauthorized, program.StatusCode);
            Assert.DoesNotContain("share link", await program.Content.ReadAsStringAsync());
            await HeldWebSockets.AssertEndsAsync(heldUntilExpiry);

            // Invalid lifetimes are refused.
            Assert.Equal(HttpStatusCode.BadRequest, (await owner.PostAsJsonAsync($"/api/v1/tasks/{id}/shares", new { expiresInMinutes = 0 })).StatusCode);
            foreach (var minutes in new[] { 60L * 24 * 31, 99_999_999_999_999L, long.MaxValue, long.MinValue }) // out of range, not "the wrong type" (nor a 500)
            {
                var tooLong = await owner.PostAsJsonAsync($"/api/v1/tasks/{id}/shares", new { expiresInMinutes = minutes });
                Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
                Assert.Equal("must be between 1 minute and 30 days.", (string?)(await TaskApi.ProblemAsync(tooLong))["errors"]!["expiresInMinutes"]![0]);
            }
            foreach (var task in new[] { id, other }) await TaskApi.StopAndDeleteAsync(owner, task);
        }
        finally
        {
            await RosettaAppFactory.RemoveContainersAsync(app.InstanceId);
        }
    }

    /// <summary>
    /// A guest whose link died meets what anyone anonymous meets (a browser the login page, a program
    /// 401), told why: they have no account to log in with.
    /// </summary>
    private static async Task AssertLinkDeadAsync(HttpClient guest, string path, bool page = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (page) request.Headers.Accept.ParseAdd("text/html");
        using var answer = await guest.SendAsync(request);
        if (!page)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, answer.StatusCode);
            Assert.Equal("application/problem+json", answer.Content.Headers.ContentType?.MediaType);
            Assert.Contains("The share link you opened no longer works", await answer.Content.ReadAsStringAsync());
            return;
        }
        Assert.Equal(HttpStatusCode.Redirect, answer.StatusCode);
        var login = answer.Headers.Location!.OriginalString;
        Assert.Equal($"/login?notice=share-link-ended&ReturnUrl={Uri.EscapeDataString(path)}", login);
        var shown = WebUtility.HtmlDecode(await guest.GetStringAsync(login));
        Assert.Contains(Rosetta.App.Auth.LoginNotices.ShareLinkEndedText, shown);
        Assert.DoesNotContain(Rosetta.App.Auth.LoginNotices.ShareLinkEndedText, WebUtility.HtmlDecode(await guest.GetStringAsync("/login?notice=anything-else")));
    }

    /// <summary>
    /// In path mode a shared task's page runs on the dashboard's origin: someone signed in as another user
    /// is told so before it opens, and opens it signed out (or in a private window).
    /// </summary>
    [Fact]
    public async Task ASignedInVisitorOfAnotherUsersLinkIsWarnedAndOpensItSignedOut()
    {
        await DockerEngine.EnsureAvailableAsync();
        await using var app = new RosettaAppFactory();
        try
        {
            var ownerName = "own" + Guid.NewGuid().ToString("N")[..8];
            using var owner = await app.NewUserClientAsync(ownerName);
            var id = (string)(await TaskApi.StartAsync(owner, new { software = "hello", computing = "local" }))["id"]!;
            await TaskApi.WaitForStatusAsync(owner, id, "running");
            var share = (await (await owner.PostAsJsonAsync($"/api/v1/tasks/{id}/shares", new { })).Content.ReadFromJsonAsync<JsonObject>())!;
            var url = new Uri((string)share["url"]!);
            var account = new Uri(app.BaseAddress, "/account"); // a signed-in page: 200, or the way to the login page

            // The owner's own link opens at once.
            using var ownerBrowser = new BrowserLikeClient(app.BaseAddress);
            await ownerBrowser.LogInAsync(app.BaseAddress, ownerName, "password-" + ownerName);
            Assert.Equal(HttpStatusCode.Redirect, (await ownerBrowser.NavigateAsync(url)).StatusCode);

            // Bob, signed in, is told first; nothing opens, and a post without the page's token changes nothing.
            var bobName = "bob" + Guid.NewGuid().ToString("N")[..8];
            (await app.NewUserClientAsync(bobName)).Dispose();
            using var bob = new BrowserLikeClient(app.BaseAddress);
            await bob.LogInAsync(app.BaseAddress, bobName, "password-" + bobName);
            var warning = await bob.NavigateAsync(url);
            Assert.Equal(HttpStatusCode.OK, warning.StatusCode);
            var page = await warning.Content.ReadAsStringAsync();
            Assert.Contains("data-test=\"share-warning\"", page);
            Assert.Contains(bobName, page);
            Assert.DoesNotContain(bob.Cookies.GetAllCookies(), c => c.Name.StartsWith("rosetta.share", StringComparison.Ordinal));
            HttpRequestMessage Confirm(string? token)
            {
                var fields = new Dictionary<string, string> { ["signOut"] = "1" };
                if (token is not null) fields["__RequestVerificationToken"] = token;
                var post = new HttpRequestMessage(HttpMethod.Post, url) { Content = new FormUrlEncodedContent(fields) };
                post.Headers.Add("Origin", app.BaseAddress.GetLeftPart(UriPartial.Authority));
                return post;
            }
            Assert.Equal(HttpStatusCode.OK, (await bob.SendAsync(Confirm(null))).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await bob.NavigateAsync(account)).StatusCode);
            Assert.NotEqual(HttpStatusCode.OK, (await bob.NavigateAsync(new Uri(app.BaseAddress, $"/t/{id}/"))).StatusCode);

            // Confirmed with the page's own form: signed out, then in.
            var opened = await bob.SendAsync(Confirm(BrowserLikeClient.AntiforgeryToken(page)));
            Assert.Equal(HttpStatusCode.Redirect, opened.StatusCode);
            Assert.Equal($"/t/{id}/", opened.Headers.Location!.OriginalString);
            Assert.Equal(HttpStatusCode.Redirect, (await bob.NavigateAsync(account)).StatusCode);
            var shared = await bob.NavigateAsync(new Uri(app.BaseAddress, $"/t/{id}/"));
            Assert.Equal(HttpStatusCode.OK, shared.StatusCode);
            Assert.DoesNotContain("share-warning", await shared.Content.ReadAsStringAsync());

            // Signed in again later (another tab), the link's page warns again before it runs beside that session;
            // what the page itself asks for meanwhile is not a page load and passes.
            await bob.LogInAsync(app.BaseAddress, bobName, "password-" + bobName);
            var again = await bob.NavigateAsync(new Uri(app.BaseAddress, $"/t/{id}/"), ("Sec-Fetch-Dest", "document"));
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            Assert.Contains("share-warning", await again.Content.ReadAsStringAsync());
            Assert.Contains($"action=\"/s/", await again.Content.ReadAsStringAsync());
            var script = new HttpRequestMessage(HttpMethod.Get, new Uri(app.BaseAddress, $"/t/{id}/"));
            script.Headers.Add("Sec-Fetch-Dest", "empty");
            Assert.DoesNotContain("share-warning", await (await bob.SendAsync(script)).Content.ReadAsStringAsync());
            await TaskApi.StopAndDeleteAsync(owner, id);
        }
        finally
        {
            await RosettaAppFactory.RemoveContainersAsync(app.InstanceId);
        }
    }

    private static async Task ConnectAsync(Uri uri, CookieContainer cookies)
    {
        using var socket = new ClientWebSocket();
        socket.Options.Cookies = cookies;
        await socket.ConnectAsync(uri, CancellationToken.None);
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
    }
}
