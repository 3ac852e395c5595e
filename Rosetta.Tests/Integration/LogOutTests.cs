using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rosetta.Core.Persistence;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Integration;

/// <summary>
/// Logging out ends the session on the server, not only in the browser that clicked: a copy of its cookie
/// (another tab, one that was stolen) stops working, and what the session holds open through the proxy
/// ends with it. The user's other sessions (another computer) go on.
/// </summary>
public sealed class LogOutTests(PlatformFixture platform) : IClassFixture<PlatformFixture>
{
    private RosettaAppFactory App => platform.App;

    [Fact]
    public async Task LoggingOutEndsTheSessionForEveryCopyOfItsCookieAndWhatItHoldsOpen()
    {
        await DockerEngine.EnsureAvailableAsync();
        var name = "lo" + Guid.NewGuid().ToString("N")[..8];
        using var api = await App.NewUserClientAsync(name);
        var id = await StartEchoTaskAsync(api);
        try
        {
            using var browser = new BrowserLikeClient(App.BaseAddress);
            await browser.LogInAsync(App.BaseAddress, name, "password-" + name);
            using var elsewhere = new BrowserLikeClient(App.BaseAddress); // the same user on another computer
            await elsewhere.LogInAsync(App.BaseAddress, name, "password-" + name);
            var cookie = browser.Cookies.GetAllCookies().Single(c => c.Name == "rosetta.auth").Value;
            using var socket = await EchoSocketAsync(browser, id);
            using var socketElsewhere = await EchoSocketAsync(elsewhere, id);
            Assert.Equal(HttpStatusCode.OK, await WithCookieAsync("/account", cookie));
            Assert.Equal(HttpStatusCode.OK, await WithCookieAsync($"/t/{id}/", cookie));
            // The cookie names the session: the account's claims are kept on the server, the key only as a hash.
            await using (var db = await App.Services.GetRequiredService<IDbContextFactory<RosettaDbContext>>().CreateDbContextAsync())
                Assert.DoesNotContain(await db.SignInSessions.Select(s => s.KeyHash).ToListAsync(), hash => cookie.Contains(hash, StringComparison.OrdinalIgnoreCase));

            await browser.LogOutAsync(App.BaseAddress);

            await HeldWebSockets.AssertEndsAsync(socket);
            // The copy of the cookie (another tab, a thief's) is a signed-out visitor now.
            Assert.Equal(HttpStatusCode.Redirect, await WithCookieAsync("/account", cookie));
            Assert.Equal(HttpStatusCode.Redirect, await WithCookieAsync($"/t/{id}/", cookie));
            // The other session goes on.
            Assert.Equal("still here", await EchoAsync(socketElsewhere, "still here"));
            Assert.Equal(HttpStatusCode.OK, (await elsewhere.NavigateAsync(new Uri(App.BaseAddress, "/account"))).StatusCode);
            // And the same browser signs in again.
            await browser.LogInAsync(App.BaseAddress, name, "password-" + name);
            using var again = await EchoSocketAsync(browser, id);
            Assert.Equal("back", await EchoAsync(again, "back"));
        }
        finally
        {
            await TaskApi.StopAndDeleteAsync(api, id);
        }
    }

    /// <summary>
    /// Revoking an API token ends what it opened, as logging out ends a session's: a followed log and a task
    /// interface's WebSocket and a task-hub connection were let in once and went on after the revocation. The user's other token goes on.
    /// </summary>
    [Fact]
    public async Task RevokingAnApiTokenEndsTheFollowedLogAndTheWebSocketItOpened()
    {
        await DockerEngine.EnsureAvailableAsync();
        var name = "rv" + Guid.NewGuid().ToString("N")[..8];
        using var api = await App.NewUserClientAsync(name);
        var id = await StartEchoTaskAsync(api);
        try
        {
            var token = await App.TokenAsync(name, "password-" + name);
            using var streams = App.Client(token);
            using var log = await streams.GetAsync($"/api/v1/tasks/{id}/logs?follow=true", HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, log.StatusCode);
            await using var lines = await log.Content.ReadAsStreamAsync();
            using var socket = await HeldWebSockets.OpenAsync(new Uri($"ws://{App.BaseAddress.Authority}/t/{id}/echo"), authorization: "Bearer " + token);
            Assert.Equal("hello", await EchoAsync(socket, "hello"));
            using var other = await HeldWebSockets.OpenAsync(new Uri($"ws://{App.BaseAddress.Authority}/t/{id}/echo"), authorization: api.DefaultRequestHeaders.Authorization!.ToString());
            await using var hub = new HubConnectionBuilder()
                .WithUrl(new Uri(App.BaseAddress, "/hubs/tasks"), o => o.Headers["Authorization"] = "Bearer " + token).Build();
            var hubClosed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            hub.Closed += _ => { hubClosed.TrySetResult(); return Task.CompletedTask; };
            await hub.StartAsync();

            var tokens = (await api.GetFromJsonAsync<JsonArray>("/api/v1/tokens"))!;
            var tokenId = (string)tokens.Single(t => token.StartsWith((string)t!["prefix"]!, StringComparison.Ordinal))!["id"]!;
            Assert.Equal(HttpStatusCode.NoContent, (await api.DeleteAsync($"/api/v1/tokens/{tokenId}")).StatusCode);

            await HeldWebSockets.AssertEndsAsync(socket);
            await hubClosed.Task.WaitAsync(TimeSpan.FromSeconds(15)); // the task hub's connection too
            using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15)))
            {
                var buffer = new byte[64 * 1024];
                var ended = false;
                while (!ended && !timeout.IsCancellationRequested)
                {
                    try { ended = await lines.ReadAsync(buffer, timeout.Token) == 0; }
                    catch (IOException) { ended = true; }
                    catch (HttpRequestException) { ended = true; }
                    catch (OperationCanceledException) when (timeout.IsCancellationRequested) { }
                }
                Assert.True(ended, "The followed log was still open 15 s after its token was revoked.");
            }
            Assert.Equal("still here", await EchoAsync(other, "still here")); // the other token's
        }
        finally
        {
            await TaskApi.StopAndDeleteAsync(api, id);
        }
    }

    /// <summary>
    /// A session cookie planted in someone's browser (a sibling task host can set one for the parent domain)
    /// is not renewed for them when they sign in: the sign-in starts a session of its own, and the planted
    /// one still speaks only for its planter.
    /// </summary>
    [Fact]
    public async Task SigningInStartsANewSessionSoAPlantedCookieGivesItsPlanterNothing()
    {
        var attacker = "at" + Guid.NewGuid().ToString("N")[..8];
        var victim = "vi" + Guid.NewGuid().ToString("N")[..8];
        (await App.NewUserClientAsync(attacker)).Dispose();
        (await App.NewUserClientAsync(victim)).Dispose();
        using var planter = new BrowserLikeClient(App.BaseAddress);
        await planter.LogInAsync(App.BaseAddress, attacker, "password-" + attacker);
        var planted = planter.Cookies.GetAllCookies().Single(c => c.Name == "rosetta.auth").Value;

        using var browser = new BrowserLikeClient(App.BaseAddress);
        browser.Cookies.Add(new Cookie("rosetta.auth", planted, "/", App.BaseAddress.Host));
        await browser.LogInAsync(App.BaseAddress, victim, "password-" + victim);

        var own = browser.Cookies.GetAllCookies().Single(c => c.Name == "rosetta.auth").Value;
        Assert.NotEqual(planted, own);
        Assert.Contains(victim, await PageAsync("/account", own));
        var withPlanted = await PageAsync("/account", planted);
        Assert.Contains(attacker, withPlanted);
        Assert.DoesNotContain(victim, withPlanted);
    }

    /// <summary>
    /// A changed or reset password, or a changed role, ends the user's sessions with what they hold open: the new security
    /// stamp refuses their next requests, but an interface's WebSocket makes none (a thief's kernel channel went on after
    /// the owner changed the password to be rid of them). The session the change is made in ends too: a stolen cookie is
    /// a copy of it.
    /// </summary>
    [Fact]
    public async Task APasswordChangeOrResetOrANewRoleEndsWhatTheUsersOtherSessionsHoldOpen()
    {
        await DockerEngine.EnsureAvailableAsync();
        var name = "pc" + Guid.NewGuid().ToString("N")[..8];
        using var api = await App.NewUserClientAsync(name);
        var id = await StartEchoTaskAsync(api);
        var administration = App.Services.GetRequiredService<Rosetta.App.Auth.UserAdministration>();
        var userId = (await administration.ListAsync()).Single(u => u.Username == name).Id;
        var admin = new Rosetta.Core.Domain.Caller((await administration.ListAsync()).Single(u => u.Username == "admin").Id, IsAdmin: true);
        try
        {
            using var laptop = new BrowserLikeClient(App.BaseAddress);
            await laptop.LogInAsync(App.BaseAddress, name, "password-" + name);
            string laptopSession;
            await using (var db = await App.Services.GetRequiredService<IDbContextFactory<RosettaDbContext>>().CreateDbContextAsync())
                laptopSession = await db.SignInSessions.Where(s => s.UserId == userId).Select(s => s.KeyHash).SingleAsync();
            using var thief = new BrowserLikeClient(App.BaseAddress);
            await thief.LogInAsync(App.BaseAddress, name, "password-" + name);
            using var laptopSocket = await EchoSocketAsync(laptop, id);
            using var thiefSocket = await EchoSocketAsync(thief, id);

            await administration.ChangePasswordAsync(userId, "password-" + name, "changed-" + name);
            await HeldWebSockets.AssertEndsAsync(thiefSocket);
            await HeldWebSockets.AssertEndsAsync(laptopSocket);
            await using (var db = await App.Services.GetRequiredService<IDbContextFactory<RosettaDbContext>>().CreateDbContextAsync())
                Assert.False(await db.SignInSessions.AnyAsync(s => s.KeyHash == laptopSession));

            using var later = new BrowserLikeClient(App.BaseAddress);
            await later.LogInAsync(App.BaseAddress, name, "changed-" + name);
            using var beforeReset = await EchoSocketAsync(later, id);
            await administration.ResetPasswordAsync(admin, userId, "reset-" + name);
            await HeldWebSockets.AssertEndsAsync(beforeReset);

            using var promoted = new BrowserLikeClient(App.BaseAddress);
            await promoted.LogInAsync(App.BaseAddress, name, "reset-" + name);
            using var beforePromotion = await EchoSocketAsync(promoted, id);
            await administration.SetAdminAsync(admin, userId, admin: true);
            await HeldWebSockets.AssertEndsAsync(beforePromotion);
        }
        finally
        {
            await TaskApi.StopAndDeleteAsync(api, id);
        }
    }

    /// <summary>A running task whose interface echoes on the WebSocket at <c>/echo</c> (hello's echo mode); its id.</summary>
    private static async Task<string> StartEchoTaskAsync(HttpClient api)
    {
        var registered = await api.PostAsJsonAsync("/api/v1/software", new
        {
            name = "WebSocket echo", image = "rosetta/hello", interfacePort = 8080, env = new Dictionary<string, string> { ["HELLO_WEBSOCKET_ECHO"] = "1" },
        });
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        var software = (string)(await registered.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
        var id = (string)(await TaskApi.StartAsync(api, new { software, computing = "local" }))["id"]!;
        await TaskApi.WaitForStatusAsync(api, id, "running");
        return id;
    }

    private async Task<string> PageAsync(string path, string cookie)
    {
        using var bare = new HttpClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = App.BaseAddress };
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Cookie", $"rosetta.auth={cookie}");
        request.Headers.Accept.ParseAdd("text/html");
        var answer = await bare.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        return await answer.Content.ReadAsStringAsync();
    }

    /// <summary>A navigation with exactly this session cookie, as a copied cookie would be sent.</summary>
    private async Task<HttpStatusCode> WithCookieAsync(string path, string cookie)
    {
        using var bare = new HttpClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = App.BaseAddress };
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Cookie", $"rosetta.auth={cookie}");
        request.Headers.Accept.ParseAdd("text/html");
        request.Headers.Add("Sec-Fetch-Dest", "document");
        request.Headers.Add("Sec-Fetch-Mode", "navigate");
        return (await bare.SendAsync(request)).StatusCode;
    }

    /// <summary>The echo task's WebSocket, opened by a page of the dashboard's origin with the browser's cookie.</summary>
    private async Task<ClientWebSocket> EchoSocketAsync(BrowserLikeClient browser, string id)
    {
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Origin", App.BaseAddress.GetLeftPart(UriPartial.Authority));
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        await socket.ConnectAsync(new Uri($"ws://{App.BaseAddress.Authority}/t/{id}/echo"), new HttpMessageInvoker(browser.Handler, disposeHandler: false), CancellationToken.None);
        Assert.Equal("hello", await EchoAsync(socket, "hello"));
        return socket;
    }

    private static async Task<string> EchoAsync(ClientWebSocket socket, string text)
    {
        await socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);
        var buffer = new byte[256];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var received = await socket.ReceiveAsync(buffer, timeout.Token);
        return Encoding.UTF8.GetString(buffer, 0, received.Count);
    }
}
