using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Integration;

/// <summary>
/// The SSH backend when things go wrong around it: the host's sshd is restarted under running
/// tasks, and the platform itself restarts while tasks run on the host.
/// </summary>
[Collection("resilience")]
public sealed class SshResilienceTests
{
    [Fact]
    public async Task TunnelsComeBackByThemselvesAfterTheHostsSshdRestartsAndNoTaskFails()
    {
        await using var app = new RosettaAppFactory(settings: new Dictionary<string, string?> { ["Rosetta:Ssh:PollIntervalSeconds"] = "1" });
        var instance = app.InstanceId;
        try
        {
            using var user = await app.NewUserClientAsync();
            await using var sshd = await PrivateSshd.StartAsync(await user.GetStringAsync("/api/v1/account/public-key"));
            var added = await user.PostAsJsonAsync("/api/v1/computing", new { name = "restarting host", kind = "ssh", host = "127.0.0.1", port = sshd.Port, username = DemoSshHost.User });
            Assert.Equal(HttpStatusCode.Created, added.StatusCode);
            var computing = (string)(await added.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;

            var id = (string)(await TaskApi.StartAsync(user, new { software = "hello", computing }))["id"]!;
            await TaskApi.WaitForStatusAsync(user, id, "running");
            Assert.Equal(HttpStatusCode.OK, (await user.GetAsync($"/t/{id}/")).StatusCode);

            sshd.Kill();
            // While the host's sshd is down the interface is unreachable, but the task is not failed.
            Assert.NotEqual(HttpStatusCode.OK, (await user.GetAsync($"/t/{id}/")).StatusCode);
            await TaskApi.WaitForComputingStateAsync(user, computing, "unreachable"); // the monitor's poll has failed
            Assert.Equal("running", (string?)(await TaskApi.GetAsync(user, id))["status"]);
            // What answers says why: the resource, not the interface, is what cannot be reached.
            var page = await user.GetAsync($"/t/{id}/");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, page.StatusCode);
            Assert.Contains("cannot reach", (string?)(await TaskApi.ProblemAsync(page))["detail"]);
            foreach (var logs in new[] { $"/api/v1/tasks/{id}/logs", $"/api/v1/tasks/{id}/logs?follow=true&tail=5" })
            {
                var answer = await user.GetAsync(logs); // not an empty 200: a script would think the task printed nothing
                Assert.Equal(HttpStatusCode.ServiceUnavailable, answer.StatusCode);
                Assert.Equal("application/problem+json", answer.Content.Headers.ContentType?.MediaType);
            }

            await sshd.StartAsync();
            await TaskApi.WaitForInterfaceAsync(user, id, seconds: 20);
            Assert.Equal("running", (string?)(await TaskApi.GetAsync(user, id))["status"]);
            await TaskApi.StopAndDeleteAsync(user, id);
        }
        finally
        {
            await RosettaAppFactory.RemoveContainersAsync(instance);
        }
    }

    [Fact]
    public async Task AfterTheHostIsReinstalledItsOwnerTrustsTheConfirmedNewKeyAndTheTaskComesBackAndStops()
    {
        await using var app = new RosettaAppFactory(settings: new Dictionary<string, string?> { ["Rosetta:Ssh:PollIntervalSeconds"] = "1" });
        var instance = app.InstanceId;
        try
        {
            using var user = await app.NewUserClientAsync();
            using var other = await app.NewUserClientAsync();
            await using var sshd = await PrivateSshd.StartAsync(await user.GetStringAsync("/api/v1/account/public-key"));
            var added = await user.PostAsJsonAsync("/api/v1/computing", new { name = "reinstalled host", kind = "ssh", host = "127.0.0.1", port = sshd.Port, username = DemoSshHost.User });
            var computing = (string)(await added.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
            var id = (string)(await TaskApi.StartAsync(user, new { software = "hello", computing }))["id"]!;
            await TaskApi.WaitForStatusAsync(user, id, "running");

            await sshd.NewHostKeyAsync();
            var fingerprint = await sshd.FingerprintAsync();
            await TaskApi.WaitForComputingStateAsync(user, computing, "unreachable");
            // First the connection is lost; the next attempt meets the new key.
            var state = await user.GetFromJsonAsync<JsonObject>($"/api/v1/computing/{computing}");
            for (var deadline = DateTime.UtcNow.AddSeconds(20); !((string?)state!["stateReason"] ?? "").Contains("offered") && DateTime.UtcNow < deadline; await Task.Delay(100))
                state = await user.GetFromJsonAsync<JsonObject>($"/api/v1/computing/{computing}");
            Assert.Contains($"offered {fingerprint}", (string?)state!["stateReason"]);
            Assert.Contains($"PUT /api/v1/computing/{computing}/host-key", (string?)state["stateReason"]);
            (await user.PostAsync($"/api/v1/tasks/{id}/stop", null)).EnsureSuccessStatusCode(); // cannot finish while the key is refused

            // Only its owner, and only with a fingerprint.
            Assert.Equal(HttpStatusCode.NotFound, (await other.PutAsJsonAsync($"/api/v1/computing/{computing}/host-key", new { fingerprint })).StatusCode);
            using (var admin = app.Client(await app.AdminTokenAsync())) // it is the user's host, reached with the user's key
                Assert.Equal(HttpStatusCode.Forbidden, (await admin.PutAsJsonAsync($"/api/v1/computing/{computing}/host-key", new { fingerprint })).StatusCode);
            var bad = await user.PutAsJsonAsync($"/api/v1/computing/{computing}/host-key", new { fingerprint = "the new one" });
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Contains("ssh-keygen -lf", (await bad.Content.ReadAsStringAsync()));
            // Well formed, but not what the host offers: a mistyped one, or an interceptor's host offering its own.
            var another = await user.PutAsJsonAsync($"/api/v1/computing/{computing}/host-key", new { fingerprint = "SHA256:" + new string('B', 43) });
            Assert.Equal(HttpStatusCode.BadRequest, another.StatusCode);
            Assert.Contains($"is not the key the host offers ({fingerprint})", await another.Content.ReadAsStringAsync());
            Assert.Equal(HttpStatusCode.NoContent, (await user.PutAsJsonAsync($"/api/v1/computing/{computing}/host-key", new { fingerprint })).StatusCode);

            // The stop that waited goes through, and the resource is usable again.
            await TaskApi.WaitForStatusAsync(user, id, "stopped", seconds: 30);
            await TaskApi.WaitForComputingStateAsync(user, computing, "available");
            Assert.Equal(HttpStatusCode.NoContent, (await user.DeleteAsync($"/api/v1/tasks/{id}")).StatusCode);
        }
        finally
        {
            await RosettaAppFactory.RemoveContainersAsync(instance);
        }
    }

    /// <summary>
    /// A new pin counts for the connection already made too: it was checked against the key before, and goes on under
    /// a key no longer trusted only until the pin changes (it kept serving the proxy and passing the connection test).
    /// </summary>
    [Fact]
    public async Task TrustingAnotherKeyDropsTheLiveConnectionWhichComesBackOnlyUnderTheHostsOwnKey()
    {
        await using var app = new RosettaAppFactory(settings: new Dictionary<string, string?> { ["Rosetta:Ssh:PollIntervalSeconds"] = "1" });
        var instance = app.InstanceId;
        try
        {
            using var user = await app.NewUserClientAsync();
            await using var sshd = await PrivateSshd.StartAsync(await user.GetStringAsync("/api/v1/account/public-key"));
            var added = await user.PostAsJsonAsync("/api/v1/computing", new { name = "pinned host", kind = "ssh", host = "127.0.0.1", port = sshd.Port, username = DemoSshHost.User });
            var computing = (string)(await added.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
            var id = (string)(await TaskApi.StartAsync(user, new { software = "hello", computing }))["id"]!;
            await TaskApi.WaitForStatusAsync(user, id, "running");
            await TaskApi.WaitForInterfaceAsync(user, id, seconds: 20);
            var hostsKey = await sshd.FingerprintAsync();
            var notTheHosts = "SHA256:" + new string('A', 43);

            Assert.Equal(HttpStatusCode.NoContent, (await user.PutAsJsonAsync($"/api/v1/computing/{computing}/host-key", new { fingerprint = notTheHosts })).StatusCode);
            var test = (await (await user.PostAsync($"/api/v1/computing/{computing}/test", null)).Content.ReadFromJsonAsync<JsonObject>())!;
            Assert.False((bool)test["ok"]!, test.ToJsonString());
            Assert.Contains($"offered {hostsKey}", (string?)test["message"]);
            var deadline = DateTime.UtcNow.AddSeconds(10);
            HttpStatusCode proxied;
            while ((proxied = (await user.GetAsync($"/t/{id}/")).StatusCode) == HttpStatusCode.OK && DateTime.UtcNow < deadline) await Task.Delay(100);
            Assert.NotEqual(HttpStatusCode.OK, proxied); // the tunnel went with the connection
            // But not its port, which the task's record names: no other socket may take it meanwhile.
            var port = app.Services.GetRequiredService<Rosetta.Core.Monitoring.TaskMonitor>().Get(id)!.InterfacePort!.Value;
            var intruder = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
            Assert.Throws<System.Net.Sockets.SocketException>(() => intruder.Start());
            intruder.Dispose();

            Assert.Equal(HttpStatusCode.NoContent, (await user.PutAsJsonAsync($"/api/v1/computing/{computing}/host-key", new { fingerprint = hostsKey })).StatusCode);
            await TaskApi.WaitForInterfaceAsync(user, id, seconds: 30);
            Assert.True((bool)(await (await user.PostAsync($"/api/v1/computing/{computing}/test", null)).Content.ReadFromJsonAsync<JsonObject>())!["ok"]!);
            await TaskApi.StopAndDeleteAsync(user, id);
        }
        finally
        {
            await RosettaAppFactory.RemoveContainersAsync(instance);
        }
    }

    /// <summary>
    /// A host that went away for good left its task stopping for ever, and neither the task nor the resource could be
    /// removed. The owner deletes the task without it; if the host comes back after all, its container goes.
    /// </summary>
    [Fact]
    public async Task ATaskStoppingOnAHostThatWentAwayIsDeletedWithoutItAndItsContainerGoesWhenTheHostComesBack()
    {
        await using var app = new RosettaAppFactory(settings: new Dictionary<string, string?> { ["Rosetta:Ssh:PollIntervalSeconds"] = "1" });
        var instance = app.InstanceId;
        try
        {
            using var user = await app.NewUserClientAsync();
            await using var sshd = await PrivateSshd.StartAsync(await user.GetStringAsync("/api/v1/account/public-key"));
            var added = await user.PostAsJsonAsync("/api/v1/computing", new { name = "vanishing host", kind = "ssh", host = "127.0.0.1", port = sshd.Port, username = DemoSshHost.User });
            var computing = (string)(await added.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
            var id = (string)(await TaskApi.StartAsync(user, new { software = "hello", computing }))["id"]!;
            await TaskApi.WaitForStatusAsync(user, id, "running");

            sshd.Kill();
            await TaskApi.WaitForComputingStateAsync(user, computing, "unreachable");
            (await user.PostAsync($"/api/v1/tasks/{id}/stop", null)).EnsureSuccessStatusCode();
            var deadline = DateTime.UtcNow.AddSeconds(30);
            JsonObject task;
            while (((string?)(task = await TaskApi.GetAsync(user, id))["statusDetail"] ?? "Stop requested") == "Stop requested" && DateTime.UtcNow < deadline) await Task.Delay(200);
            Assert.Equal("stopping", (string?)task["status"]); // for as long as the host is away
            Assert.Contains("refused", (string?)task["statusDetail"]);

            var refused = await user.DeleteAsync($"/api/v1/tasks/{id}");
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
            Assert.Contains("evenUnreachable=true", (string?)(await TaskApi.ProblemAsync(refused))["detail"]);
            Assert.Equal(HttpStatusCode.Conflict, (await user.DeleteAsync($"/api/v1/computing/{computing}")).StatusCode); // it has a task
            Assert.Equal(HttpStatusCode.BadRequest, (await user.DeleteAsync($"/api/v1/tasks/{id}?evenUnreachable=maybe")).StatusCode);
            Assert.Equal(HttpStatusCode.NoContent, (await user.DeleteAsync($"/api/v1/tasks/{id}?evenUnreachable=true")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await user.GetAsync($"/api/v1/tasks/{id}")).StatusCode);
            Assert.NotNull(await DockerEngine.FindTaskContainerAsync(id)); // still on the host, which nobody could ask

            await sshd.StartAsync();
            deadline = DateTime.UtcNow.AddSeconds(30);
            while (await DockerEngine.FindTaskContainerAsync(id) is not null && DateTime.UtcNow < deadline) await Task.Delay(250);
            Assert.Null(await DockerEngine.FindTaskContainerAsync(id));
            Assert.Equal(HttpStatusCode.NoContent, (await user.DeleteAsync($"/api/v1/computing/{computing}")).StatusCode);
        }
        finally
        {
            await RosettaAppFactory.RemoveContainersAsync(instance);
        }
    }

    /// <summary>
    /// The tunnel port a task's record names is the earlier process's: after a restart it may be another task's tunnel
    /// or published port. While the host is down the proxy must not send the task's requests (with its interface
    /// secret) there; once the host answers, the task's interface comes back on a tunnel of this process.
    /// </summary>
    [Fact]
    public async Task AfterARestartWithTheHostDownNothingIsSentToTheTasksOldTunnelPort()
    {
        var settings = new Dictionary<string, string?> { ["Rosetta:Ssh:PollIntervalSeconds"] = "1" };
        var first = new RosettaAppFactory(settings: settings);
        var instance = first.InstanceId;
        var username = "stale-tunnel-" + Guid.NewGuid().ToString("N")[..6];
        var firstStopped = false;
        try
        {
            string id;
            int oldPort;
            using var user = await first.NewUserClientAsync(username);
            await using var sshd = await PrivateSshd.StartAsync(await user.GetStringAsync("/api/v1/account/public-key"));
            var added = await user.PostAsJsonAsync("/api/v1/computing", new { name = "host down across a restart", kind = "ssh", host = "127.0.0.1", port = sshd.Port, username = DemoSshHost.User });
            var computing = (string)(await added.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
            id = (string)(await TaskApi.StartAsync(user, new { software = "hello", computing }))["id"]!;
            await TaskApi.WaitForStatusAsync(user, id, "running");
            oldPort = first.Services.GetRequiredService<Rosetta.Core.Monitoring.TaskMonitor>().Get(id)!.InterfacePort!.Value;
            sshd.Kill();
            await first.DisposeAsync();
            firstStopped = true;

            // Someone else's server on the port the record names.
            var squatter = new System.Net.Sockets.TcpListener(IPAddress.Loopback, oldPort);
            squatter.Server.SetSocketOption(System.Net.Sockets.SocketOptionLevel.Socket, System.Net.Sockets.SocketOptionName.ReuseAddress, true);
            squatter.Start();
            try
            {
                await using var second = new RosettaAppFactory(first.DataDirectory, settings);
                using var again = second.Client(await second.TokenAsync(username, "password-" + username));
                Assert.Equal("running", (string?)(await TaskApi.GetAsync(again, id))["status"]); // its last known state
                var page = await again.GetAsync($"/t/{id}/");
                Assert.Equal(HttpStatusCode.ServiceUnavailable, page.StatusCode);
                Assert.Contains("has not reached its computing resource", (string?)(await TaskApi.ProblemAsync(page))["detail"]);
                Assert.False(squatter.Pending(), "the task's request went to the port an earlier process's tunnel had");

                await sshd.StartAsync();
                await TaskApi.WaitForInterfaceAsync(again, id, seconds: 30);
                Assert.False(squatter.Pending(), "the task's request went to the port an earlier process's tunnel had");
                await TaskApi.StopAndDeleteAsync(again, id);
            }
            finally
            {
                squatter.Stop();
            }
        }
        finally
        {
            if (!firstStopped) await first.DisposeAsync();
            await RosettaAppFactory.RemoveContainersAsync(instance);
        }
    }

    [Fact]
    public async Task AConnectionThatSilentlyStopsCarryingAnythingIsGivenUpAndTheInterfaceComesBack()
    {
        await using var app = new RosettaAppFactory(settings: new Dictionary<string, string?>
        {
            ["Rosetta:Ssh:PollIntervalSeconds"] = "1", ["Rosetta:Ssh:KeepAliveSeconds"] = "1", ["Rosetta:Ssh:DeadAfterSeconds"] = "3",
        });
        var instance = app.InstanceId;
        try
        {
            using var user = await app.NewUserClientAsync();
            await using var path = new TcpRelay(new Uri($"http://127.0.0.1:{DemoSshHost.Port}"));
            var computing = await AddHostBehindAsync(user, path);
            var id = (string)(await TaskApi.StartAsync(user, new { software = "hello", computing }))["id"]!;
            await TaskApi.WaitForStatusAsync(user, id, "running");
            Assert.Equal(HttpStatusCode.OK, (await user.GetAsync($"/t/{id}/")).StatusCode);

            path.Freeze();
            // TCP alone would take some 15 minutes to notice; the platform's probe gives up within seconds.
            await TaskApi.WaitForInterfaceAsync(user, id, seconds: 30);
            Assert.Equal("running", (string?)(await TaskApi.GetAsync(user, id))["status"]);
            await TaskApi.StopAndDeleteAsync(user, id);
        }
        finally
        {
            await RosettaAppFactory.RemoveContainersAsync(instance);
        }
    }

    [Fact]
    public async Task AStorageWhoseConnectionSilentlyStopsAnsweringSaysSoAndTheNextRequestWorks()
    {
        await using var app = new RosettaAppFactory(settings: new Dictionary<string, string?>
        {
            ["Rosetta:Ssh:KeepAliveSeconds"] = "1", ["Rosetta:Ssh:DeadAfterSeconds"] = "3",
        });
        var root = "/tmp/rosetta-sftp-frozen-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            using var user = await app.NewUserClientAsync();
            await using var path = new TcpRelay(new Uri($"http://127.0.0.1:{DemoSshHost.Port}"));
            var computing = await AddHostBehindAsync(user, path);
            var storage = "frozen-" + Guid.NewGuid().ToString("N")[..6];
            var created = await user.PostAsJsonAsync("/api/v1/storages", new { id = storage, name = "behind a firewall", kind = "sftp", computing, basePath = root + "/$USER", bindPath = "/storages/far" });
            Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
            await StorageApi.UploadAsync(user, storage, "kept.txt", "still here"u8.ToArray());

            path.Freeze();
            // Without a limit on each SFTP request the listing would hang until TCP gives up (some 15 minutes).
            var stuck = await user.GetAsync($"/api/v1/storages/{storage}/files");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, stuck.StatusCode);
            Assert.Equal(["kept.txt"], await StorageApi.NamesAsync(user, storage)); // on a new connection

            // The same in the middle of a download: the response is cut short, and the next request works.
            var content = new byte[48 * 1024 * 1024]; // more than the socket and SFTP buffers on the way
            Random.Shared.NextBytes(content);
            await StorageApi.UploadAsync(user, storage, "big.bin", content);
            using var download = await user.GetAsync($"/api/v1/storages/{storage}/download?path=big.bin", HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, download.StatusCode);
            await using var body = await download.Content.ReadAsStreamAsync();
            Assert.Equal(1024 * 1024, await body.ReadAtLeastAsync(new byte[1024 * 1024], 1024 * 1024));
            path.Freeze();
            await Assert.ThrowsAnyAsync<IOException>(() => body.CopyToAsync(Stream.Null));
            Assert.Equal(["big.bin", "kept.txt"], await StorageApi.NamesAsync(user, storage));
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>
    /// The demo host as the user's computing resource, reached through <paramref name="path"/>: a relay
    /// that can go silent, as a firewall or NAT that forgets a connection. Returns the resource's id.
    /// </summary>
    private static async Task<string> AddHostBehindAsync(HttpClient user, TcpRelay path)
    {
        await DemoSshHost.AuthorizeAsync(await user.GetStringAsync("/api/v1/account/public-key"));
        var added = await user.PostAsJsonAsync("/api/v1/computing", new { name = "host behind a firewall", kind = "ssh", host = "127.0.0.1", port = path.Address.Port, username = DemoSshHost.User });
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        return (string)(await added.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
    }

    [Fact]
    public async Task ARestartedPlatformReadoptsRemoteTasksAndRebuildsTheirTunnels()
    {
        var keys = Directory.CreateTempSubdirectory("rosetta-ssh-keys");
        var settings = await SshPlatformFixture.SettingsAsync(keys);
        var first = new RosettaAppFactory(settings: settings);
        var instance = first.InstanceId;
        try
        {
            var token = await first.AdminTokenAsync();
            string id;
            using (var client = first.Client(token))
            {
                id = (string)(await TaskApi.StartAsync(client, new { software = "hello", computing = SshPlatformFixture.DemoComputing }))["id"]!;
                await TaskApi.WaitForStatusAsync(client, id, "running");
            }
            var container = (await DockerEngine.FindTaskContainerAsync(id))!.ID;
            await first.DisposeAsync();
            Assert.Equal("running", (await DockerEngine.FindTaskContainerAsync(id))!.State);

            await using var second = new RosettaAppFactory(first.DataDirectory, settings);
            using var again = second.Client(token);
            await TaskApi.WaitForInterfaceAsync(again, id, seconds: 20);
            Assert.Equal("running", (string?)(await TaskApi.GetAsync(again, id))["status"]);
            Assert.Equal(container, (await DockerEngine.FindTaskContainerAsync(id))!.ID); // the same container, not a second one
            await TaskApi.StopAndDeleteAsync(again, id);
        }
        finally
        {
            await RosettaAppFactory.RemoveContainersAsync(instance);
            keys.Delete(recursive: true);
        }
    }
}
