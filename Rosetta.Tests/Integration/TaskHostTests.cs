using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Rosetta.App.Auth;
using Rosetta.App.Proxy;
using Rosetta.Core.Domain;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Integration;

/// <summary>
/// Per-task origins (<c>Rosetta:Proxy:TaskHost</c>) with real Kestrel on loopback and real hello tasks:
/// the dashboard hands a browser over with a one-time code, the task host swaps it for a host-only
/// cookie for that one task, and nothing else (another task's or user's code or cookie, a used or
/// expired code, another site's page) gets in. Its own class and platform: runs in parallel with the rest.
/// </summary>
public sealed class TaskHostTests(TaskHostFixture f, BrowserFixture browser) : IClassFixture<TaskHostFixture>, IClassFixture<BrowserFixture>
{
    /// <summary>
    /// The dashboard (127.0.0.1) frames a task as its desktop view does, and its tasks live on *.tasks.localhost:
    /// another site, so Chromium keeps the task host's SameSite=Lax session out of the frame. The frame says so and
    /// how to open the task, where it used to stay blank (its page refused to be framed by the dashboard).
    /// </summary>
    [Fact]
    public async Task ADashboardOfAnotherSiteFramingATaskShowsWhyAndHowToOpenIt()
    {
        await using var context = await browser.Browser.NewContextAsync(new() { BaseURL = f.App.BaseAddress.ToString() });
        var page = await context.NewPageAsync();
        await EndToEnd.DashboardBrowserTests.LogInAsync(page, f.AliceName, TaskHostFixture.PasswordOf(f.AliceName));
        await page.EvaluateAsync("src => { const frame = document.createElement('iframe'); frame.id = 'task-frame'; frame.src = src; document.body.appendChild(frame); }", $"/t/{f.A1}/");
        var frame = page.FrameLocator("#task-frame");
        await Microsoft.Playwright.Assertions.Expect(frame.Locator("h1")).ToHaveTextAsync("Open this task in its own tab");
        await Microsoft.Playwright.Assertions.Expect(frame.Locator("[data-problem-detail]")).ToContainTextAsync("the Own tab button above this frame");

        // Top level, the same address signs in and shows the task.
        await page.GotoAsync($"/t/{f.A1}/");
        await Microsoft.Playwright.Assertions.Expect(page.Locator("body")).ToContainTextAsync("Hello from Rosetta");
        Assert.StartsWith($"http://{f.A1}.{TaskHostFixture.Suffix}:", page.Url);
    }

    [Fact]
    public async Task AFramedPageWithoutASessionIsToldInTheFrameAndAnyPageMayFrameThatMessage()
    {
        using var anonymous = new BrowserLikeClient(f.App.BaseAddress);
        var framed = await anonymous.NavigateAsync(f.TaskHost(f.A1, "/second.html"), ("Sec-Fetch-Dest", "iframe"), ("Sec-Fetch-Mode", "navigate"), ("Sec-Fetch-Site", "cross-site"));
        Assert.Equal(HttpStatusCode.Forbidden, framed.StatusCode);
        var body = await framed.Content.ReadAsStringAsync();
        Assert.Contains("Open this task in its own tab", body);
        Assert.DoesNotContain("Second page of Rosetta hello", body);
        Assert.Equal("frame-ancestors 'self' *", framed.Headers.GetValues("Content-Security-Policy").Single());
        // Not framed, or framed by the same site (whose frames keep the session a hand-off sets): as before (no
        // Rosetta:PublicUrl here, so no way back to the dashboard to send it to).
        foreach (var (destination, site) in new[] { ("document", "cross-site"), ("iframe", "same-site") })
        {
            var other = await anonymous.NavigateAsync(f.TaskHost(f.A1, "/second.html"), ("Sec-Fetch-Dest", destination), ("Sec-Fetch-Mode", "navigate"), ("Sec-Fetch-Site", site));
            Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
            Assert.Equal("frame-ancestors 'none'", other.Headers.GetValues("Content-Security-Policy").Single());
        }
    }

    [Fact]
    public async Task TheOwnerIsHandedOverWithAOneTimeCodeAndServedAtTheTaskHostsRoot()
    {
        using var alice = await f.LoggedInBrowserAsync(f.AliceName);

        // Connect on the dashboard → a redirect to the task host carrying only a one-time code.
        var handOff = await alice.NavigateAsync(f.Dashboard($"/t/{f.A1}/second.html?x=1"));
        Assert.Equal(HttpStatusCode.Redirect, handOff.StatusCode);
        var codeUrl = handOff.Headers.Location!;
        Assert.Equal(f.TaskHost(f.A1, "/_rosetta/ticket").GetLeftPart(UriPartial.Path), codeUrl.GetLeftPart(UriPartial.Path));
        Assert.StartsWith("?code=rht_", codeUrl.Query);
        Assert.Equal("no-store", handOff.Headers.CacheControl!.ToString());

        // The task host swaps it for a host-only, HttpOnly, SameSite=Lax cookie and redirects the code away.
        var redeemed = await alice.NavigateAsync(codeUrl);
        Assert.Equal(HttpStatusCode.Redirect, redeemed.StatusCode);
        Assert.Equal(f.TaskHost(f.A1, "/second.html?x=1"), redeemed.Headers.Location);
        Assert.Equal("no-referrer", redeemed.Headers.GetValues("Referrer-Policy").Single());
        var setCookie = Assert.Single(redeemed.Headers.GetValues("Set-Cookie")).ToLowerInvariant();
        Assert.StartsWith("rosetta.task=", setCookie);
        Assert.Contains("path=/", setCookie);
        Assert.Contains("httponly", setCookie);
        Assert.Contains("samesite=lax", setCookie);
        Assert.DoesNotContain("domain=", setCookie);
        Assert.DoesNotContain("secure", setCookie); // plain HTTP here; Secure (and __Host-) over HTTPS
        Assert.DoesNotContain(codeUrl.Query["?code=".Length..].ToLowerInvariant(), setCookie);

        // The interface at the host's root: pages, relative links; framed only by itself and the dashboard.
        var second = await alice.NavigateAsync(redeemed.Headers.Location!);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Contains("Second page of Rosetta hello", await second.Content.ReadAsStringAsync());
        Assert.Equal($"frame-ancestors 'self' http://127.0.0.1:{f.App.BaseAddress.Port}", second.Headers.GetValues("Content-Security-Policy").Single());
        var index = await alice.NavigateAsync(f.TaskHost(f.A1, "/"));
        Assert.Contains("href=\"second.html\"", await index.Content.ReadAsStringAsync());

        // Nothing of the dashboard answers on a task host (hello's own 404s), not even with a valid API token.
        Assert.Equal(HttpStatusCode.NotFound, (await alice.NavigateAsync(f.TaskHost(f.A1, "/login"))).StatusCode);
        var api = new HttpRequestMessage(HttpMethod.Get, f.TaskHost(f.A1, "/api/v1/tasks"));
        api.Headers.Authorization = f.Alice.DefaultRequestHeaders.Authorization;
        var apiOnTaskHost = await alice.SendAsync(api);
        Assert.Equal(HttpStatusCode.NotFound, apiOnTaskHost.StatusCode);
        Assert.NotEqual("application/json", apiOnTaskHost.Content.Headers.ContentType?.MediaType);

        // API clients (Bearer, no ambient credentials) keep /t/{id}/ on the dashboard, as the contract says;
        // a browser's non-navigation there is told where the interface lives.
        Assert.Contains("Hello from Rosetta", await f.Alice.GetStringAsync($"/t/{f.A1}/"));
        var post = await alice.SendAsync(new HttpRequestMessage(HttpMethod.Post, f.Dashboard($"/t/{f.A1}/")));
        Assert.Equal((HttpStatusCode)421, post.StatusCode);
    }

    [Fact]
    public async Task SoftwareServedUnderItsPrefixWorksOnItsTaskHost()
    {
        using var alice = await f.LoggedInBrowserAsync(f.AliceName);
        await f.OpenAsync(alice, f.PrefixTask);
        // hello with ROSETTA_BASE_PATH answers only under /t/{id}/: the task host adds the prefix...
        foreach (var path in new[] { "/", "/second.html", $"/t/{f.PrefixTask}/second.html" }) // ...unless the link already has it
        {
            var page = await alice.NavigateAsync(f.TaskHost(f.PrefixTask, path));
            Assert.True(page.StatusCode == HttpStatusCode.OK, $"{path} on the task host answered {(int)page.StatusCode}");
        }
    }

    [Fact]
    public async Task CodesAreSingleUseShortLivedAndBoundToTheirTask()
    {
        using var alice = await f.LoggedInBrowserAsync(f.AliceName);
        using var bob = await f.LoggedInBrowserAsync(f.BobName);

        // A code for A1 opens neither A2 (same owner) nor, once tried elsewhere, A1 any more.
        var code = await f.CodeUrlAsync(alice, f.A1);
        Assert.Equal(HttpStatusCode.NotFound, (await alice.NavigateAsync(OnHost(code, f.A2))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await alice.NavigateAsync(code)).StatusCode);

        // Used once, it is gone.
        code = await f.CodeUrlAsync(alice, f.A1);
        Assert.Equal(HttpStatusCode.Redirect, (await alice.NavigateAsync(code)).StatusCode);
        using (var replay = new BrowserLikeClient(f.App.BaseAddress))
            Assert.Equal(HttpStatusCode.NotFound, (await replay.NavigateAsync(code)).StatusCode);

        // Unused for longer than its 30 s, it has expired.
        code = await f.CodeUrlAsync(alice, f.A1);
        f.Clock.Offset += TimeSpan.FromSeconds(31);
        Assert.Equal(HttpStatusCode.NotFound, (await alice.NavigateAsync(code)).StatusCode);

        // Bob's code for his task does not open Alice's, and Bob gets no code for Alice's task.
        var bobsCode = await f.CodeUrlAsync(bob, f.B1);
        using (var thief = new BrowserLikeClient(f.App.BaseAddress))
            Assert.Equal(HttpStatusCode.NotFound, (await thief.NavigateAsync(OnHost(bobsCode, f.A1))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bob.NavigateAsync(f.Dashboard($"/t/{f.A1}/"))).StatusCode);

        // Made-up codes and anonymous visitors get nothing; the latter are sent to log in.
        Assert.Equal(HttpStatusCode.NotFound, (await alice.NavigateAsync(f.TaskHost(f.A1, "/_rosetta/ticket?code=rht_madeup"))).StatusCode);
        using var anonymous = new BrowserLikeClient(f.App.BaseAddress);
        var login = await anonymous.NavigateAsync(f.Dashboard($"/t/{f.A1}/"));
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        Assert.Contains("/login", login.Headers.Location!.ToString());
    }

    [Fact]
    public async Task ASessionCookieOpensOnlyItsOwnTaskHostAndEndsWithTheAccountOrItsLifetime()
    {
        using var alice = await f.LoggedInBrowserAsync(f.AliceName);
        using var bob = await f.LoggedInBrowserAsync(f.BobName);
        await f.OpenAsync(alice, f.A1);
        await f.OpenAsync(bob, f.B1);
        var aliceA1 = TaskHostFixture.SessionCookie(alice, f.TaskHost(f.A1));
        var bobB1 = TaskHostFixture.SessionCookie(bob, f.TaskHost(f.B1));

        // Host-only: the browser keeps it for A1's host alone.
        Assert.Empty(alice.Cookies.GetCookies(f.TaskHost(f.A2)));
        Assert.DoesNotContain(alice.Cookies.GetCookies(f.Dashboard("/")), c => c.Name == "rosetta.task");

        // Replayed by hand, it opens A1 and nothing else: not Alice's A2, not Bob's B1; Bob's opens only B1.
        Assert.Equal(HttpStatusCode.OK, await WithCookieAsync(f.A1, aliceA1));
        Assert.Equal(HttpStatusCode.NotFound, await WithCookieAsync(f.A2, aliceA1));
        Assert.Equal(HttpStatusCode.NotFound, await WithCookieAsync(f.B1, aliceA1));
        Assert.Equal(HttpStatusCode.NotFound, await WithCookieAsync(f.A1, bobB1));
        Assert.Equal(HttpStatusCode.NotFound, await WithCookieAsync(f.A1, aliceA1[..^4] + "AAAA"));
        Assert.Equal(HttpStatusCode.NotFound, await WithCookieAsync(f.A1, null));

        // A cookie planted next to the real one (a sibling host's trick) does not shadow it.
        Assert.Equal(HttpStatusCode.OK, await WithCookieHeaderAsync(f.A1, $"rosetta.task={bobB1}; rosetta.task={aliceA1}"));

        // A disabled account's session stops at once.
        var carolName = "carol" + Guid.NewGuid().ToString("N")[..6];
        using var carolApi = await f.App.NewUserClientAsync(carolName);
        var c1 = (string)(await TaskApi.StartAsync(carolApi, new { software = "hello", computing = "local" }))["id"]!;
        await TaskApi.WaitForStatusAsync(carolApi, c1, "running");
        using var carol = await f.LoggedInBrowserAsync(carolName);
        await f.OpenAsync(carol, c1);
        Assert.Equal(HttpStatusCode.OK, (await carol.NavigateAsync(f.TaskHost(c1))).StatusCode);
        var users = f.App.Services.GetRequiredService<UserAdministration>();
        var carolId = (await users.ListAsync()).Single(u => u.Username == carolName).Id;
        var admin = (await users.ListAsync()).Single(u => u.Username == "admin").Id;
        await users.SetDisabledAsync(new Caller(admin, IsAdmin: true), carolId, disabled: true);
        Assert.Equal(HttpStatusCode.NotFound, (await carol.NavigateAsync(f.TaskHost(c1))).StatusCode);

        // So does one opened before the password changed: a stolen password stops opening task hosts too.
        var daveName = "dave" + Guid.NewGuid().ToString("N")[..6];
        using var daveApi = await f.App.NewUserClientAsync(daveName);
        var d1 = (string)(await TaskApi.StartAsync(daveApi, new { software = "hello", computing = "local" }))["id"]!;
        await TaskApi.WaitForStatusAsync(daveApi, d1, "running");
        using var dave = await f.LoggedInBrowserAsync(daveName);
        await f.OpenAsync(dave, d1);
        var daveD1 = TaskHostFixture.SessionCookie(dave, f.TaskHost(d1));
        Assert.Equal(HttpStatusCode.OK, await WithCookieAsync(d1, daveD1));
        var daveId = (await users.ListAsync()).Single(u => u.Username == daveName).Id;
        await users.ChangePasswordAsync(daveId, "password-" + daveName, "another-" + daveName);
        Assert.Equal(HttpStatusCode.NotFound, await WithCookieAsync(d1, daveD1));
        await TaskApi.StopAndDeleteAsync(daveApi, d1);

        // Sessions last 8 hours.
        f.Clock.Offset += TimeSpan.FromHours(8) + TimeSpan.FromMinutes(1);
        Assert.Equal(HttpStatusCode.NotFound, await WithCookieAsync(f.A1, aliceA1));
    }

    [Fact]
    public async Task LoggingOutOfTheDashboardEndsTheTaskHostSessionsItHandedOutAndTheirWebSockets()
    {
        using var alice = await f.LoggedInBrowserAsync(f.AliceName);
        using var aliceElsewhere = await f.LoggedInBrowserAsync(f.AliceName); // her other computer
        await f.OpenAsync(alice, f.EchoTask);
        await f.OpenAsync(aliceElsewhere, f.EchoTask);
        var echo = new Uri($"ws://{f.TaskHost(f.EchoTask).Authority}/socket");
        var origin = f.TaskHost(f.EchoTask).GetLeftPart(UriPartial.Authority);
        using var socket = await ConnectAsync(alice, echo, origin);
        using var socketElsewhere = await ConnectAsync(aliceElsewhere, echo, origin);
        var taskHostCookie = TaskHostFixture.SessionCookie(alice, f.TaskHost(f.EchoTask));

        await alice.LogOutAsync(f.App.BaseAddress);

        await HeldWebSockets.AssertEndsAsync(socket);
        Assert.Equal(HttpStatusCode.NotFound, await WithCookieAsync(f.EchoTask, taskHostCookie));
        // Her other session goes on: its socket still echoes, its cookie still opens the task.
        await socketElsewhere.SendAsync(Encoding.UTF8.GetBytes("still here"), WebSocketMessageType.Text, true, CancellationToken.None);
        var buffer = new byte[32];
        var received = await socketElsewhere.ReceiveAsync(buffer, CancellationToken.None);
        Assert.Equal("still here", Encoding.UTF8.GetString(buffer, 0, received.Count));
        Assert.Equal(HttpStatusCode.OK, await WithCookieAsync(f.EchoTask, TaskHostFixture.SessionCookie(aliceElsewhere, f.TaskHost(f.EchoTask))));
    }

    [Fact]
    public async Task ANameUnderTheTaskDomainThatIsNoTaskServesNoDashboard()
    {
        using var anyone = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false });
        foreach (var name in new[] { "login", "0123456789abcdeg", "x." + f.A1 })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, f.Dashboard("/login"));
            request.Headers.Host = $"{name}.{TaskHostFixture.Suffix}:{f.App.BaseAddress.Port}";
            var answer = await anyone.SendAsync(request);
            Assert.Equal(HttpStatusCode.NotFound, answer.StatusCode);
            Assert.Contains("names no task", await answer.Content.ReadAsStringAsync());
        }
        Assert.Equal(HttpStatusCode.OK, (await anyone.GetAsync(f.Dashboard("/login"))).StatusCode);
    }

    [Fact]
    public async Task OtherSitesPagesCannotPostOrOpenWebSocketsWithTheSession()
    {
        using var alice = await f.LoggedInBrowserAsync(f.AliceName);
        await f.OpenAsync(alice, f.A1);
        await f.OpenAsync(alice, f.EchoTask);
        var sibling = f.TaskHost(f.A2).GetLeftPart(UriPartial.Authority);

        // A form post from a sibling task's page is refused by the platform; the task's own page reaches hello.
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync(alice, f.TaskHost(f.A1), sibling)).StatusCode);
        Assert.Equal(HttpStatusCode.NotImplemented, (await PostAsync(alice, f.TaskHost(f.A1), f.TaskHost(f.A1).GetLeftPart(UriPartial.Authority))).StatusCode);

        // WebSockets likewise: from the task's own page they work, from a sibling's they are refused.
        var echo = new Uri($"ws://{f.TaskHost(f.EchoTask).Authority}/socket");
        using (var own = await ConnectAsync(alice, echo, f.TaskHost(f.EchoTask).GetLeftPart(UriPartial.Authority)))
        {
            await own.SendAsync(Encoding.UTF8.GetBytes("hi"), WebSocketMessageType.Text, true, CancellationToken.None);
            var buffer = new byte[16];
            var received = await own.ReceiveAsync(buffer, CancellationToken.None);
            Assert.Equal("hi", Encoding.UTF8.GetString(buffer, 0, received.Count));
        }
        await Assert.ThrowsAsync<WebSocketException>(() => ConnectAsync(alice, echo, sibling));
    }

    [Fact]
    public async Task AShareLinkOpensItsTaskHostUntilRevoked()
    {
        var created = await f.Alice.PostAsJsonAsync($"/api/v1/tasks/{f.A1}/shares", new { name = "for a guest", expiresInMinutes = 24 * 60 });
        var share = (await created.Content.ReadFromJsonAsync<JsonObject>())!;
        using var guest = new BrowserLikeClient(f.App.BaseAddress);

        var opened = await guest.NavigateAsync(new Uri((string)share["url"]!));
        Assert.Equal(HttpStatusCode.Redirect, opened.StatusCode);
        Assert.Equal(f.TaskHost(f.A1).Host, opened.Headers.Location!.Host);
        var redeemed = await guest.NavigateAsync(opened.Headers.Location);
        Assert.Equal(f.TaskHost(f.A1), redeemed.Headers.Location);
        Assert.Contains("Hello from Rosetta", await (await guest.NavigateAsync(f.TaskHost(f.A1))).Content.ReadAsStringAsync());

        // The link's session is for A1 alone, and revoking the link ends it at once.
        Assert.Equal(HttpStatusCode.NotFound, await WithCookieAsync(f.A2, TaskHostFixture.SessionCookie(guest, f.TaskHost(f.A1))));
        Assert.Equal(HttpStatusCode.NoContent, (await f.Alice.DeleteAsync($"/api/v1/tasks/{f.A1}/shares/{share["id"]}")).StatusCode);
        var ended = await guest.NavigateAsync(f.TaskHost(f.A1));
        Assert.Equal(HttpStatusCode.Unauthorized, ended.StatusCode); // told why (no public URL here to send a browser to the login page)
        Assert.Contains("no longer works: its owner revoked it, or it expired", WebUtility.HtmlDecode(await ended.Content.ReadAsStringAsync()));
    }

    [Fact]
    public async Task ADesktopWorksOnItsTaskHostWithTheProxyDoingTheVncHandshake()
    {
        var id = (string)(await TaskApi.StartAsync(f.Alice, new { software = "desktop", computing = "local" }))["id"]!;
        await TaskApi.WaitForStatusAsync(f.Alice, id, "running", seconds: 90);
        using var alice = await f.LoggedInBrowserAsync(f.AliceName);
        await f.OpenAsync(alice, id, "/vnc.html");
        Assert.Contains("noVNC", await (await alice.NavigateAsync(f.TaskHost(id, "/vnc.html"))).Content.ReadAsStringAsync());

        // The WebSocket goes through the VNC relay (it needs the WebSocket middleware ahead of task hosts):
        // the browser is offered only "None", the proxy answers the server's challenge.
        using var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("binary");
        socket.Options.SetRequestHeader("Origin", f.TaskHost(id).GetLeftPart(UriPartial.Authority));
        await socket.ConnectAsync(new Uri($"ws://{f.TaskHost(id).Authority}/websockify"), new HttpMessageInvoker(alice.Handler, disposeHandler: false), CancellationToken.None);
        var received = new List<byte>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        async Task<byte[]> ReadAsync(int count)
        {
            var chunk = new byte[4096];
            while (received.Count < count)
            {
                var result = await socket.ReceiveAsync(chunk, timeout.Token);
                received.AddRange(chunk.Take(result.Count));
            }
            var bytes = received.GetRange(0, count).ToArray();
            received.RemoveRange(0, count);
            return bytes;
        }
        Assert.Equal("RFB 003.008\n", Encoding.ASCII.GetString(await ReadAsync(12)));
        await socket.SendAsync(Encoding.ASCII.GetBytes("RFB 003.008\n"), WebSocketMessageType.Binary, true, timeout.Token);
        var count = (await ReadAsync(1))[0];
        var types = await ReadAsync(count);
        Assert.Equal(new byte[] { 1 }, types); // only "None": the proxy answers the VNC challenge
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);

        // A view-only guest lands on noVNC told so, and its session on the task host stays view-only.
        var share = (await (await f.Alice.PostAsJsonAsync($"/api/v1/tasks/{id}/shares", new { viewOnly = true })).Content.ReadFromJsonAsync<JsonObject>())!;
        using var guest = new BrowserLikeClient(f.App.BaseAddress);
        var handOff = (await guest.NavigateAsync(new Uri((string)share["url"]!))).Headers.Location!;
        Assert.Equal(f.TaskHost(id, $"/{TaskProxy.ViewOnlyLanding}"), (await guest.NavigateAsync(handOff)).Headers.Location);
        Assert.Contains("noVNC", await (await guest.NavigateAsync(f.TaskHost(id, "/vnc.html"))).Content.ReadAsStringAsync());
        using var post = new HttpRequestMessage(HttpMethod.Post, f.TaskHost(id, "/vnc.html")) { Content = new StringContent("x") };
        post.Headers.Add("Origin", f.TaskHost(id).GetLeftPart(UriPartial.Authority));
        var refused = await guest.SendAsync(post);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("view-only", await refused.Content.ReadAsStringAsync());
        await TaskApi.StopAndDeleteAsync(f.Alice, id);
    }

    /// <summary>The same one-time-code URL, presented to another task's host.</summary>
    private Uri OnHost(Uri codeUrl, string taskId) => new(f.TaskHost(taskId, codeUrl.PathAndQuery).ToString());

    private Task<HttpStatusCode> WithCookieAsync(string taskId, string? session) =>
        WithCookieHeaderAsync(taskId, session is null ? null : $"rosetta.task={session}");

    /// <summary>A fresh client (no cookie jar) sending exactly this Cookie header to a task host.</summary>
    private async Task<HttpStatusCode> WithCookieHeaderAsync(string taskId, string? cookieHeader)
    {
        using var client = new BrowserLikeClient(f.App.BaseAddress);
        var request = new HttpRequestMessage(HttpMethod.Get, f.TaskHost(taskId));
        if (cookieHeader is not null) request.Headers.Add("Cookie", cookieHeader);
        return (await client.SendAsync(request)).StatusCode;
    }

    private static Task<HttpResponseMessage> PostAsync(BrowserLikeClient browser, Uri target, string origin)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, target) { Content = new StringContent("x=1", Encoding.UTF8, "application/x-www-form-urlencoded") };
        request.Headers.Add("Origin", origin);
        return browser.SendAsync(request);
    }

    private static async Task<ClientWebSocket> ConnectAsync(BrowserLikeClient browser, Uri uri, string origin)
    {
        var socket = new ClientWebSocket();
        // The browser's handler carries its cookie jar (with an invoker, ClientWebSocket takes no cookies of its own).
        socket.Options.SetRequestHeader("Origin", origin);
        try
        {
            await socket.ConnectAsync(uri, new HttpMessageInvoker(browser.Handler, disposeHandler: false), CancellationToken.None);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
