using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Rosetta.App.Auth;
using Rosetta.Core.Domain;
using Rosetta.Core.Monitoring;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Integration;

/// <summary>
/// Disabling an account leaves its tasks running (enabling it gives them back), but nothing reaches them meanwhile:
/// not the SSH port forwarded on the platform host, which knows no platform credentials, and not a share link the
/// owner handed out, also after the platform restarts (the mark the disabling set was in memory only).
/// </summary>
public sealed class DisabledOwnerTests
{
    [Fact]
    public async Task ADisabledOwnersForwardedPortAndShareLinksStayClosedAlsoAfterARestart()
    {
        await DockerEngine.EnsureAvailableAsync();
        // A range of its own: other tests' platforms hand out ports from the default one meanwhile.
        var settings = new Dictionary<string, string?>
        {
            ["Rosetta:Forwarding:PortRangeStart"] = "24510",
            ["Rosetta:Forwarding:PortRangeEnd"] = "24519",
        };
        var first = new RosettaAppFactory(settings: settings);
        var instance = first.InstanceId;
        try
        {
            var adminToken = await first.AdminTokenAsync();
            var username = "user" + Guid.NewGuid().ToString("N")[..8];
            string shellId, webId, shareUrl, userId;
            int port;
            using (var owner = await first.NewUserClientAsync(username))
            {
                shellId = (string)(await TaskApi.StartAsync(owner, new { software = "ssh", computing = "local" }))["id"]!;
                webId = (string)(await TaskApi.StartAsync(owner, new { software = "hello", computing = "local" }))["id"]!;
                await TaskApi.WaitForStatusAsync(owner, shellId, "running", seconds: 60);
                await TaskApi.WaitForStatusAsync(owner, webId, "running", seconds: 60);
                port = (int)(await SshInterfaceTests.WaitForForwardedPortAsync(owner, shellId))["port"]!;
                var share = await owner.PostAsJsonAsync($"/api/v1/tasks/{webId}/shares", new { });
                shareUrl = (string)(await share.Content.ReadFromJsonAsync<JsonObject>())!["url"]!;
            }
            using (var guest = await GuestAsync(first, shareUrl))
                Assert.Equal(HttpStatusCode.OK, (await guest.GetAsync($"/t/{webId}/")).StatusCode);
            using var open = await ConnectAsync(port);
            Assert.Equal("SSH-", await BannerAsync(open));

            var administration = first.Services.GetRequiredService<UserAdministration>();
            var admin = new Caller("the admin", IsAdmin: true);
            userId = (await administration.ListAsync()).Single(u => u.Username == username).Id;
            await administration.SetDisabledAsync(admin, userId, disabled: true);

            // The connection made before ends, and a new one is closed before the task's server says a word.
            await AssertClosedAsync(open);
            using (var refused = await ConnectAsync(port)) await AssertClosedAsync(refused);
            using (var guest = await GuestAsync(first, shareUrl))
                Assert.Equal(HttpStatusCode.Forbidden, (await guest.GetAsync($"/t/{webId}/")).StatusCode);
            await first.DisposeAsync();

            var logs = new CapturedLogs();
            await using var second = new RosettaAppFactory(first.DataDirectory, settings, logs.AddTo);
            using var adminClient = second.Client(adminToken);
            await TaskApi.WaitForStatusAsync(adminClient, shellId, "running", seconds: 30);
            await TaskApi.WaitForStatusAsync(adminClient, webId, "running", seconds: 30);
            // Only once this process knows where the tasks are does a refusal below say anything.
            var monitor = second.Services.GetRequiredService<TaskMonitor>();
            await StorageApi.WaitUntilAsync(() => monitor.InterfaceOf(monitor.Get(shellId)!) is not null && monitor.InterfaceOf(monitor.Get(webId)!) is not null,
                "the restarted platform to find the tasks' interfaces");
            await StorageApi.WaitUntilAsync(() => logs.Entries.Any(e => e.Message.Contains($"Task {shellId} interface forwarded")), "the port to be forwarded again");

            using (var refused = await ConnectAsync(port)) await AssertClosedAsync(refused);
            using (var guest = await GuestAsync(second, shareUrl))
                Assert.Equal(HttpStatusCode.Forbidden, (await guest.GetAsync($"/t/{webId}/")).StatusCode);

            // Enabled again, both open as before.
            await second.Services.GetRequiredService<UserAdministration>().SetDisabledAsync(admin, userId, disabled: false);
            using (var reopened = await ConnectAsync(port)) Assert.Equal("SSH-", await BannerAsync(reopened));
            using (var guest = await GuestAsync(second, shareUrl))
                Assert.Equal(HttpStatusCode.OK, (await guest.GetAsync($"/t/{webId}/")).StatusCode);
            await TaskApi.StopAndDeleteAsync(adminClient, shellId);
            await TaskApi.StopAndDeleteAsync(adminClient, webId);
        }
        finally
        {
            await RosettaAppFactory.RemoveContainersAsync(instance);
        }
    }

    /// <summary>A browser without an account that opened the share link.</summary>
    private static async Task<HttpClient> GuestAsync(RosettaAppFactory app, string shareUrl)
    {
        var guest = new HttpClient(new SocketsHttpHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = app.BaseAddress };
        await guest.GetAsync(new Uri(shareUrl).PathAndQuery);
        return guest;
    }

    private static async Task<TcpClient> ConnectAsync(int port)
    {
        var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        return client;
    }

    private static async Task<string> BannerAsync(TcpClient client)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        // The whole identification line, so nothing of it is left to read after.
        var line = new List<byte>();
        var next = new byte[1];
        while (line.LastOrDefault() != (byte)'\n')
        {
            await client.GetStream().ReadExactlyAsync(next, timeout.Token);
            line.Add(next[0]);
        }
        return System.Text.Encoding.ASCII.GetString(line.ToArray(), 0, 4);
    }

    /// <summary>The other end closes (or resets) within seconds, and sends nothing first: no banner of the task's server.</summary>
    private static async Task AssertClosedAsync(TcpClient client)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var buffer = new byte[4096];
        var received = 0;
        try
        {
            int read;
            while ((read = await client.GetStream().ReadAsync(buffer, timeout.Token)) > 0) received += read;
        }
        catch (IOException)
        {
            // Reset rather than closed: ended all the same.
        }
        Assert.Equal(0, received);
    }
}
