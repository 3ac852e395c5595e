using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Docker.DotNet.Models;
using Microsoft.Extensions.DependencyInjection;
using Rosetta.Core.Backends;
using Rosetta.Core.Backends.Ssh;
using Rosetta.Core.Domain;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Integration;

/// <summary>
/// Tasks on a standalone host over SSH: the real demo sshd on 127.0.0.1:2222 and the real engine
/// behind it, driven through the platform's API and proxy exactly like a user would.
/// </summary>
[Collection("ssh")]
public sealed class SshBackendTests(SshPlatformFixture platform)
{
    private const string DemoSsh = SshPlatformFixture.DemoComputing;
    private RosettaAppFactory App => platform.App;

    [Fact]
    public async Task HelloRunsOnTheRemoteHostBehindATunnelWithLogsProxyStopAndDelete()
    {
        using var client = await App.NewUserClientAsync();
        var id = (string)(await TaskApi.StartAsync(client, new { name = "hello over ssh", software = "hello", computing = DemoSsh }))["id"]!;
        try
        {
            var running = await TaskApi.WaitForStatusAsync(client, id, "running");
            Assert.StartsWith("sha256:", (string?)running["imageDigest"]);

            // The interface is published on the host's loopback only and reached through the tunnel.
            var container = await DockerEngine.InspectTaskContainerAsync(id);
            var published = container.NetworkSettings!.Ports!["8080/tcp"]!.Single();
            Assert.Equal("127.0.0.1", published.HostIP);
            var page = await client.GetStringAsync($"/t/{id}/");
            Assert.Contains("Hello from Rosetta", page);

            var logs = await client.GetStringAsync($"/api/v1/tasks/{id}/logs");
            Assert.Contains("hello: listening on port 8080", logs);

            // Followed logs stream over the connection; leaving the stream ends the remote `logs -f`.
            using (var follow = await client.GetAsync($"/api/v1/tasks/{id}/logs?follow=true", HttpCompletionOption.ResponseHeadersRead))
            using (var reader = new StreamReader(await follow.Content.ReadAsStreamAsync()))
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
                while (await reader.ReadLineAsync(timeout.Token) is { } line && !line.Contains("listening on port")) { }
                Assert.Contains(container.ID, await RemoteLogFollowersAsync()); // the follower runs on the host while read
            }
            await WaitUntilAsync(async () => !(await RemoteLogFollowersAsync()).Contains(container.ID), "the remote `docker logs --follow` ended");

            // The resource's host key was pinned by the first connection.
            var computing = await client.GetFromJsonAsync<JsonObject>($"/api/v1/computing/{DemoSsh}");
            Assert.Equal("SHA256:" + await DemoSshHost.FingerprintAsync(), (string?)computing!["hostKeyFingerprint"]);

            (await client.PostAsync($"/api/v1/tasks/{id}/stop", null)).EnsureSuccessStatusCode();
            await TaskApi.WaitForStatusAsync(client, id, "stopped", seconds: 30);
            Assert.Equal("exited", (await DockerEngine.InspectTaskContainerAsync(id)).State!.Status);
            Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v1/tasks/{id}")).StatusCode);
            Assert.Null(await DockerEngine.FindTaskContainerAsync(id));
        }
        finally
        {
            if (await DockerEngine.FindTaskContainerAsync(id) is not null) await TaskApi.StopAndDeleteAsync(client, id);
        }
    }

    [Fact]
    public async Task JupyterOnTheRemoteHostRunsCodeOverItsKernelWebSocketThroughTheTunnel()
    {
        var token = await App.AdminTokenAsync();
        using var client = App.Client(token);
        var id = (string)(await TaskApi.StartAsync(client, new { software = "jupyter", computing = DemoSsh }))["id"]!;
        try
        {
            await TaskApi.WaitForStatusAsync(client, id, "running", seconds: 90);
            Assert.Equal("42\n", await JupyterKernel.RunAsync(App.BaseAddress, client, token, id, "print(6 * 7)"));
        }
        finally
        {
            await TaskApi.StopAndDeleteAsync(client, id);
        }
    }

    /// <summary>
    /// noVNC loads dozens of modules at once; through HTTP/2 or a reverse proxy each becomes a connection of the
    /// platform's own to the tunnel, all arriving together. SSH.NET's port forward took those in a chain where
    /// each waited for the one before it to close: 5 to 10 of 16 had no answer after 10 s (see TunnelAdmission).
    /// </summary>
    [Fact]
    public async Task ARemoteDesktopsPageLoadingManyFilesAtOnceIsAnsweredAtOnce()
    {
        using var client = App.Client(await App.AdminTokenAsync());
        var id = (string)(await TaskApi.StartAsync(client, new { software = "desktop", computing = DemoSsh }))["id"]!;
        try
        {
            await TaskApi.WaitForStatusAsync(client, id, "running", seconds: 90);
            var token = await App.AdminTokenAsync();
            var answers = await Task.WhenAll(Enumerable.Range(0, 24).Select(async i =>
            {
                using var browser = App.Client(token); // a connection of its own, as a browser opens them
                // Generous for a loaded CI machine (the connections are handed over one at a time); in SSH.NET's chain
                // a request waits for an earlier kept-alive connection to close, which takes minutes.
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                try
                {
                    return (await browser.GetAsync($"/t/{id}/app/ui.js?copy={i}", timeout.Token)).StatusCode.ToString();
                }
                catch (OperationCanceledException)
                {
                    return "no answer in 30 s";
                }
            }));
            Assert.All(answers, answer => Assert.Equal(nameof(HttpStatusCode.OK), answer));
        }
        finally
        {
            await TaskApi.StopAndDeleteAsync(client, id);
        }
    }

    [Fact]
    public async Task AContainerKilledOnTheHostIsSeenExitedByTheMonitorsPolling()
    {
        using var client = await App.NewUserClientAsync();
        var id = (string)(await TaskApi.StartAsync(client, new { software = "hello", computing = DemoSsh }))["id"]!;
        try
        {
            await TaskApi.WaitForStatusAsync(client, id, "running");
            using (var docker = DockerEngine.Client())
                await docker.Containers.KillContainerAsync((await DockerEngine.FindTaskContainerAsync(id))!.ID, new ContainerKillParameters { Signal = "SIGKILL" });
            var exited = await TaskApi.WaitForStatusAsync(client, id, "exited", seconds: 20);
            Assert.Equal(137, (int?)exited["exitCode"]);
        }
        finally
        {
            await TaskApi.StopAndDeleteAsync(client, id);
        }
    }

    [Fact]
    public async Task HostileNamesAndEnvironmentValuesArriveOnTheHostVerbatim()
    {
        using var client = await App.NewUserClientAsync();
        var hostile = new Dictionary<string, string>
        {
            ["QUOTES"] = "it's \"quoted\"", ["SUBSTITUTION"] = "$(touch /tmp/rosetta-pwned) `touch /tmp/rosetta-pwned`",
            ["SEPARATORS"] = "a; rm -rf /tmp/x && b || c | d > /tmp/rosetta-pwned", ["VARIABLES"] = "${HOME} $HOME $'\\x41'",
            ["UNICODE"] = "ünïcödé ✓ 数据 📓", ["SPACES"] = "  leading and trailing  ", ["EQUALS"] = "a=b=c", ["EMPTY"] = "",
        };
        var name = "name 'with' \"quotes\" $(and) `more`; ünï";
        var id = (string)(await TaskApi.StartAsync(client, new { name, software = "hello", computing = DemoSsh, options = new { env = hostile } }))["id"]!;
        try
        {
            var running = await TaskApi.WaitForStatusAsync(client, id, "running");
            Assert.Equal(name, (string?)running["name"]);
            var env = (await DockerEngine.InspectTaskContainerAsync(id)).Config!.Env!;
            foreach (var (key, value) in hostile) Assert.Contains($"{key}={value}", env);
            Assert.False(File.Exists("/tmp/rosetta-pwned"), "a command substitution ran on the host");
        }
        finally
        {
            await TaskApi.StopAndDeleteAsync(client, id);
        }

        // A line break cannot travel in the env file; the API says so before anything starts.
        var refused = await client.PostAsJsonAsync("/api/v1/tasks", new { software = "hello", computing = DemoSsh, options = new { env = new Dictionary<string, string> { ["TWO_LINES"] = "one\ntwo" } } });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("line break", (await TaskApi.ProblemAsync(refused)).ToJsonString());
    }

    /// <summary>
    /// A listing of the host's containers that began before a launch's container ran (or existed) must not close the
    /// tunnel the launch opened meanwhile: the task would keep a port no longer forwarded, fail its start, and the port
    /// could go to another task's tunnel. The listing is held behind the pool's one busy command place while a "launch"
    /// opens its tunnel, on the real demo host; a later listing, begun after, closes it.
    /// </summary>
    [Fact]
    public async Task ATunnelOpenedWhileAListingRanIsNotClosedByThatListing()
    {
        using var pool = StrictPool(new SshOptions { MaxCommands = 1 });
        var backend = new SshBackend(pool, App.Services.GetRequiredService<PlatformIdentity>(),
            App.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Rosetta.Core.Storages.StorageOptions>>(),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<SshBackend>.Instance);
        var computing = DemoHost();
        var connection = pool.For(computing);
        var key = "launch-" + Guid.NewGuid().ToString("N");

        var busy = connection.RunAsync("sleep 2", null, CancellationToken.None); // the one place, taken
        await Task.Delay(300);
        var listing = backend.ListAsync(computing, CancellationToken.None); // begins now, waits for the place
        await connection.OpenTunnelAsync(key, new TaskEndpoint("127.0.0.1", 22), CancellationToken.None);
        await busy;
        Assert.DoesNotContain(await listing, c => c.BackendId == key);
        Assert.Contains(key, connection.TunnelKeys);

        await backend.ListAsync(computing, CancellationToken.None);
        Assert.DoesNotContain(key, connection.TunnelKeys);
    }

    /// <summary>
    /// A command that hangs (a wedged engine) is ended after its time and gives its place back; one that prints
    /// without end is ended past the output kept, not buffered until the platform runs out of memory. On a pool of
    /// one command place, 2 s and 1 MB, against the real demo host.
    /// </summary>
    [Fact]
    public async Task ACommandThatHangsOrPrintsWithoutEndIsEndedAndGivesItsPlaceBack()
    {
        using var pool = StrictPool(new SshOptions { MaxCommands = 1, MaxStreams = 1, CommandTimeoutSeconds = 2, MaxCommandOutputMegabytes = 1 });
        var connection = pool.For(DemoHost());

        var started = System.Diagnostics.Stopwatch.StartNew();
        var hung = await Assert.ThrowsAsync<BackendUnavailableException>(() => connection.RunAsync("sleep 60", null, CancellationToken.None));
        Assert.Contains("did not finish within 2 s", hung.Message);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(30), $"ended after {started.Elapsed}");
        Assert.Equal("free\n", (await connection.RunAsync("echo free", null, CancellationToken.None)).Output); // its one place

        var flood = await Assert.ThrowsAsync<BackendUnavailableException>(() => connection.RunAsync("yes", null, CancellationToken.None));
        Assert.Contains("printed more than 1 MB", flood.Message);
        var errors = await Assert.ThrowsAsync<BackendUnavailableException>(() => connection.RunAsync("yes >&2", null, CancellationToken.None));
        Assert.Contains("printed more than 1 MB", errors.Message);
        // Output under the limit comes whole.
        Assert.Equal(900_000, (await connection.RunAsync("head -c 900000 /dev/zero", null, CancellationToken.None)).Output.Length);

        // A stream read slower than it comes (a slow client of a task's logs) is ended once 1 MB waits, and says so.
        await using var stream = connection.StreamAsync("yes", follows: true, CancellationToken.None).GetAsyncEnumerator();
        Assert.True(await stream.MoveNextAsync());
        await Task.Delay(TimeSpan.FromSeconds(3)); // not read meanwhile
        var read = 0L;
        var behind = await Assert.ThrowsAsync<BackendUnavailableException>(async () =>
        {
            while (await stream.MoveNextAsync()) read += stream.Current.Bytes.Length;
        });
        Assert.Contains("came faster than it was read", behind.Message);
        Assert.InRange(read, 1, 2L << 20);
        // A read that ends by itself (a log downloaded whole by a slow client) is let run: all of it arrives.
        await using (var whole = connection.StreamAsync("head -c 3000000 /dev/zero", follows: false, CancellationToken.None).GetAsyncEnumerator())
        {
            Assert.True(await whole.MoveNextAsync());
            var total = (long)whole.Current.Bytes.Length;
            await Task.Delay(TimeSpan.FromSeconds(2)); // not read meanwhile
            while (await whole.MoveNextAsync()) total += whole.Current.Bytes.Length;
            Assert.Equal(3_000_000, total);
        }

        // A follower past the places for them is told so within seconds, not left waiting for good.
        using var holding = new CancellationTokenSource();
        var held = connection.StreamAsync("sleep 60", follows: true, holding.Token).GetAsyncEnumerator(holding.Token);
        var heldMove = held.MoveNextAsync().AsTask();
        await Task.Delay(500);
        var refused = await Assert.ThrowsAsync<BackendUnavailableException>(async () =>
        {
            await foreach (var _ in connection.StreamAsync("echo never", follows: true, CancellationToken.None)) { }
        });
        Assert.Contains("All 1 long-running commands", refused.Message);
        await holding.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => heldMove);
        await held.DisposeAsync();
    }

    /// <summary>A pool of its own with <paramref name="options"/> (the platform's key added), reaching the demo host as the platform does.</summary>
    private SshConnectionPool StrictPool(SshOptions options)
    {
        options.PlatformKeyPath = App.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<SshOptions>>().Value.PlatformKeyPath;
        return new SshConnectionPool(App.Services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<Rosetta.Core.Persistence.RosettaDbContext>>(),
            App.Services.GetRequiredService<Rosetta.Core.Security.UserKeyService>(), Microsoft.Extensions.Options.Options.Create(options),
            App.Services.GetRequiredService<Microsoft.Extensions.Logging.ILoggerFactory>(), App.Services.GetRequiredService<TunnelAdmission>());
    }

    private static ComputingResource DemoHost() =>
        new() { Id = DemoSsh, Name = "", Kind = ComputingKind.Ssh, Host = DemoSshHost.Host, Port = DemoSshHost.Port, Username = DemoSshHost.User };

    [Fact]
    public async Task TasksOnOneHostShareOneSshConnection()
    {
        using var client = await App.NewUserClientAsync();
        var computing = DemoHost();
        var connection = App.Services.GetRequiredService<SshConnectionPool>().For(computing);
        var ids = new List<string>();
        try
        {
            for (var i = 0; i < 4; i++) ids.Add((string)(await TaskApi.StartAsync(client, new { software = "hello", computing = DemoSsh }))["id"]!);
            foreach (var id in ids) await TaskApi.WaitForStatusAsync(client, id, "running");
            var connects = connection.Connects;
            foreach (var id in ids) Assert.Contains("Hello from Rosetta", await client.GetStringAsync($"/t/{id}/"));
            Assert.True(connection.IsConnected);
            Assert.Equal(connects, connection.Connects); // no new connection for more tasks, pages or polls
            Assert.True(connects <= 2, $"the demo host was connected to {connects} times");
        }
        finally
        {
            foreach (var id in ids) await TaskApi.StopAndDeleteAsync(client, id);
        }
    }

    [Fact]
    public async Task AnOpenSshClientRunsACommandInAnSshTaskOnTheRemoteHost()
    {
        var keyDirectory = Directory.CreateTempSubdirectory("rosetta-ssh-key");
        var key = Path.Combine(keyDirectory.FullName, "id_ed25519");
        await SshInterfaceTests.RunAsync("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key);
        using var client = await App.NewUserClientAsync();
        var id = (string)(await TaskApi.StartAsync(client, new
        {
            software = "ssh", computing = DemoSsh,
            options = new { env = new Dictionary<string, string> { ["SSH_AUTHORIZED_KEYS"] = (await File.ReadAllTextAsync(key + ".pub")).Trim() } },
        }))["id"]!;
        try
        {
            await TaskApi.WaitForStatusAsync(client, id, "running");
            var iface = await SshInterfaceTests.WaitForForwardedPortAsync(client, id);
            var output = await SshInterfaceTests.RunAsync("ssh", "-p", ((int)iface["port"]!).ToString(System.Globalization.CultureInfo.InvariantCulture), "-i", key,
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10",
                $"scientist@{(string)iface["host"]!}", "echo hello-from-$(id -un)");
            Assert.Contains("hello-from-scientist", output);

            // Several clients at once (a script's parallel sessions, an editor's remote helper) are each
            // answered at once: the tunnel's port forward must not hold one until the one before it closes.
            var held = new List<System.Net.Sockets.TcpClient>();
            try
            {
                var greetings = await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
                {
                    var tcp = new System.Net.Sockets.TcpClient();
                    lock (held) held.Add(tcp); // kept open until all have been greeted
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                    try
                    {
                        await tcp.ConnectAsync((string)iface["host"]!, (int)iface["port"]!, timeout.Token);
                        var banner = new byte[7];
                        await tcp.GetStream().ReadExactlyAsync(banner, timeout.Token);
                        return System.Text.Encoding.ASCII.GetString(banner);
                    }
                    catch (OperationCanceledException)
                    {
                        return "no greeting in 10 s";
                    }
                }));
                Assert.All(greetings, greeting => Assert.Equal("SSH-2.0", greeting));
            }
            finally
            {
                foreach (var tcp in held) tcp.Dispose();
            }
        }
        finally
        {
            await TaskApi.StopAndDeleteAsync(client, id);
            keyDirectory.Delete(recursive: true);
        }
    }

    /// <summary>Command lines of the demo user's processes that follow logs (read from /proc; nothing is killed).</summary>
    [Fact]
    public async Task AStopArrivingAsTheContainerIsStartedLetsTheEngineFinishSoTheContainerIsThereForTheStopToFind()
    {
        // Cut off half-way, `docker run` may still create the container after the stop looked for it and
        // found nothing: a container running for a task that says "stopped".
        var taskId = await CancelledLaunch.CheckAsync(App, DemoSsh, cancelAtStep: "Starting the container", async launch =>
        {
            var container = await DockerEngine.FindTaskContainerAsync(launch.TaskId);
            Assert.True(container is not null, $"no container for the task: the engine was cut off ({launch.Thrown?.Message})");
        });
        Assert.Null(await DockerEngine.FindTaskContainerAsync(taskId));
    }

    private static async Task<string> RemoteLogFollowersAsync()
    {
        var output = await SshInterfaceTests.RunAsync("ps", "-u", DemoSshHost.User, "-o", "args=");
        return string.Join('\n', output.Split('\n').Where(l => l.Contains("logs") && l.Contains("--follow")));
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"timed out waiting until {what}");
            await Task.Delay(200);
        }
    }
}
