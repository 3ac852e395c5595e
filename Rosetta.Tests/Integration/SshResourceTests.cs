using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Integration;

/// <summary>
/// A user's own SSH host: added through the API, reached with the user's own key once they put it
/// into authorized_keys, private to them; and every way it can be misconfigured, each with a
/// message that says which.
/// </summary>
[Collection("ssh")]
public sealed class SshResourceTests(SshPlatformFixture platform)
{
    private RosettaAppFactory App => platform.App;

    [Fact]
    public async Task AUsersOwnHostWorksOnceTheirKeyIsAuthorisedAndStaysTheirs()
    {
        using var owner = await App.NewUserClientAsync();
        var id = await AddHostAsync(owner, DemoSshHost.Port, DemoSshHost.User);
        // Not "available": nothing has tried it yet.
        var added = (await owner.GetFromJsonAsync<JsonObject>($"/api/v1/computing/{id}"))!;
        Assert.Equal("unknown", (string?)added["state"]);
        Assert.StartsWith("Not connected yet", (string?)added["stateReason"]);
        Assert.Contains($"POST /api/v1/computing/{id}/test", (string?)added["stateReason"]);

        // Before the key is on the host, the test button says what to do.
        var refused = await TestAsync(owner, id);
        Assert.False((bool)refused["ok"]!);
        Assert.Contains($"refused your key for user '{DemoSshHost.User}'. Add the public key shown on your Account page", (string?)refused["message"]);
        Assert.Contains("authorized_keys", (string?)refused["message"]);
        // What the test found is the resource's state until something tells more.
        var failed = (await owner.GetFromJsonAsync<JsonObject>($"/api/v1/computing/{id}"))!;
        Assert.Equal("unreachable", (string?)failed["state"]);
        Assert.Contains("connection test", (string?)failed["stateReason"]);
        Assert.Contains("refused your key", (string?)failed["stateReason"]);

        // What the user does by hand on their host.
        await DemoSshHost.AuthorizeAsync(await owner.GetStringAsync("/api/v1/account/public-key"));
        var ok = await TestAsync(owner, id);
        Assert.True((bool)ok["ok"]!, (string?)ok["message"]);
        Assert.Contains("docker", (string?)ok["message"]);
        var pinned = await owner.GetFromJsonAsync<JsonObject>($"/api/v1/computing/{id}");
        Assert.Equal("SHA256:" + await DemoSshHost.FingerprintAsync(), (string?)pinned!["hostKeyFingerprint"]);
        Assert.Equal("available", (string?)pinned["state"]);

        var task = (string)(await TaskApi.StartAsync(owner, new { software = "hello", computing = id }))["id"]!;
        try
        {
            await TaskApi.WaitForStatusAsync(owner, task, "running");
            Assert.Contains("Hello from Rosetta", await owner.GetStringAsync($"/t/{task}/"));

            // Another user neither sees nor uses it.
            using var other = await App.NewUserClientAsync();
            Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/api/v1/computing/{id}")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await other.PostAsync($"/api/v1/computing/{id}/test", null)).StatusCode);
            Assert.DoesNotContain(id, await other.GetStringAsync("/api/v1/computing"));
            var denied = await other.PostAsJsonAsync("/api/v1/tasks", new { software = "hello", computing = id });
            Assert.Equal(HttpStatusCode.BadRequest, denied.StatusCode);
            Assert.Contains("not one of your computing resources", (await TaskApi.ProblemAsync(denied)).ToJsonString());
        }
        finally
        {
            await TaskApi.StopAndDeleteAsync(owner, task);
        }
    }

    [Fact]
    public async Task EachMisconfigurationIsNamedByTheTestButton()
    {
        using var user = await App.NewUserClientAsync();
        await DemoSshHost.AuthorizeAsync(await user.GetStringAsync("/api/v1/account/public-key"));

        Assert.Contains("refused the connection", await FailureAsync(user, await AddHostAsync(user, FreePort(), DemoSshHost.User)));
        // A host that takes the connection and then never answers (down behind a NAT, a hung sshd).
        using (var silent = new TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            silent.Start();
            var held = new List<TcpClient>();
            var accepting = Task.Run(async () => { while (true) held.Add(await silent.AcceptTcpClientAsync()); });
            var port = ((System.Net.IPEndPoint)silent.LocalEndpoint).Port;
            Assert.Contains("did not answer within", await FailureAsync(user, await AddHostAsync(user, port, DemoSshHost.User)));
            foreach (var client in held) client.Dispose();
        }
        var notSsh = await FailureAsync(user, await AddHostAsync(user, App.BaseAddress.Port, DemoSshHost.User));
        Assert.True(notSsh.Contains("is not an SSH server"), notSsh);
        Assert.Contains("refused your key for user 'nosuchuser'", await FailureAsync(user, await AddHostAsync(user, DemoSshHost.Port, "nosuchuser")));
        var forged = "SHA256:" + new string('A', 43);
        Assert.Contains("host key of 127.0.0.1:2222 is not the one pinned", await FailureAsync(user, await AddHostAsync(user, DemoSshHost.Port, DemoSshHost.User, fingerprint: forged)));
        // The right fingerprint pasted with base64's padding is still the right one.
        var padded = await AddHostAsync(user, DemoSshHost.Port, DemoSshHost.User, fingerprint: $"SHA256:{await DemoSshHost.FingerprintAsync()}=");
        var accepted = await TestAsync(user, padded);
        Assert.True((bool)accepted["ok"]!, (string?)accepted["message"]);

        // A host without the engine: an sshd of its own whose sessions have an empty PATH.
        await using var bare = await PrivateSshd.StartAsync(await user.GetStringAsync("/api/v1/account/public-key"), "SetEnv PATH=/nowhere");
        Assert.Contains("'docker' is not installed", await FailureAsync(user, await AddHostAsync(user, bare.Port, DemoSshHost.User)));
    }

    [Fact]
    public async Task HelloRunsWithRootlessPodmanOnTheHost()
    {
        using var user = await App.NewUserClientAsync();
        await DemoSshHost.AuthorizeAsync(await user.GetStringAsync("/api/v1/account/public-key"));
        var computing = await AddHostAsync(user, DemoSshHost.Port, DemoSshHost.User, engine: "podman");
        var test = await TestAsync(user, computing);
        Assert.True((bool)test["ok"]!, (string?)test["message"]);
        Assert.Contains("podman", (string?)test["message"]);

        var task = (string)(await TaskApi.StartAsync(user, new { software = "hello", computing }))["id"]!;
        try
        {
            var running = await TaskApi.WaitForStatusAsync(user, task, "running");
            Assert.StartsWith("sha256:", (string?)running["imageDigest"]);
            Assert.Contains("Hello from Rosetta", await user.GetStringAsync($"/t/{task}/"));
            Assert.Contains("hello: listening on port 8080", await user.GetStringAsync($"/api/v1/tasks/{task}/logs"));
            Assert.Contains(task, await DemoSshHost.PodmanAsync("ps", "--format", "{{.Names}}"));
            (await user.PostAsync($"/api/v1/tasks/{task}/stop", null)).EnsureSuccessStatusCode();
            await TaskApi.WaitForStatusAsync(user, task, "stopped", seconds: 30);
        }
        finally
        {
            await TaskApi.StopAndDeleteAsync(user, task);
        }
        Assert.DoesNotContain(task, await DemoSshHost.PodmanAsync("ps", "-a", "--format", "{{.Names}}"));
    }

    [Fact]
    public async Task AnImageThatIsNotOnTheHostAndCannotBePulledFailsTheTaskSayingSo()
    {
        using var user = await App.NewUserClientAsync();
        var image = $"127.0.0.1:5000/rosetta-test/absent-{Guid.NewGuid():N}";
        var software = await user.PostAsJsonAsync("/api/v1/software", new { name = "absent", image, tag = "1", interfacePort = 8080 });
        Assert.Equal(HttpStatusCode.Created, software.StatusCode);
        var softwareId = (string)(await software.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;

        var task = (string)(await TaskApi.StartAsync(user, new { software = softwareId, computing = SshPlatformFixture.DemoComputing }))["id"]!;
        var failed = await TaskApi.WaitForStatusAsync(user, task, "failed", seconds: 60);
        Assert.Contains($"Image {image}:1 is not on 127.0.0.1 and could not be pulled", (string?)failed["error"]);
        await TaskApi.StopAndDeleteAsync(user, task);
    }

    /// <summary>
    /// An image whose program is missing makes the engine's run exit 127, as a shell does for a command it cannot find:
    /// the task fails with the engine's own words, not "the container engine is not installed", and the resource is not
    /// taken for broken.
    /// </summary>
    [Fact]
    public async Task AnImageWhoseProgramIsMissingFailsWithTheEnginesWordsNotAsAMissingEngine()
    {
        var repository = "rosetta-test/no-program-" + Guid.NewGuid().ToString("N")[..8];
        var context = Directory.CreateTempSubdirectory("rosetta-no-program").FullName;
        await File.WriteAllTextAsync(Path.Combine(context, "Dockerfile"), "FROM rosetta/hello:latest\nENTRYPOINT [\"/no/such/program\"]\n");
        await SshInterfaceTests.RunAsync("docker", "build", "-q", "-t", $"{repository}:v1", context);
        Directory.Delete(context, recursive: true);
        try
        {
            using var user = await App.NewUserClientAsync();
            var software = await user.PostAsJsonAsync("/api/v1/software", new { name = "no program", image = repository, tag = "v1", interfacePort = 8080 });
            Assert.Equal(HttpStatusCode.Created, software.StatusCode);
            var softwareId = (string)(await software.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
            var task = (string)(await TaskApi.StartAsync(user, new { software = softwareId, computing = SshPlatformFixture.DemoComputing }))["id"]!;
            var failed = await TaskApi.WaitForStatusAsync(user, task, "failed", seconds: 60);
            var error = (string?)failed["error"];
            Assert.Contains("refused the container", error);
            Assert.Contains("/no/such/program", error);
            Assert.DoesNotContain("not installed", error);
            Assert.NotEqual("unavailable", (string?)(await user.GetFromJsonAsync<JsonObject>($"/api/v1/computing/{SshPlatformFixture.DemoComputing}"))!["state"]);
            await TaskApi.StopAndDeleteAsync(user, task);
        }
        finally
        {
            await SshInterfaceTests.RunAsync("docker", "rmi", "-f", $"{repository}:v1");
        }
    }

    private static async Task<string> AddHostAsync(HttpClient client, int port, string username, string engine = "docker", string? fingerprint = null)
    {
        var response = await client.PostAsJsonAsync("/api/v1/computing", new
        {
            name = $"host {port} {username} {engine} {Guid.NewGuid().ToString("N")[..4]}", kind = "ssh", host = "127.0.0.1", port, username, engine, hostKeyFingerprint = fingerprint,
        });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        return (string)JsonNode.Parse(text)!["id"]!;
    }

    private static async Task<JsonObject> TestAsync(HttpClient client, string id)
    {
        var response = await client.PostAsync($"/api/v1/computing/{id}/test", null);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    private static async Task<string> FailureAsync(HttpClient client, string id)
    {
        var result = await TestAsync(client, id);
        Assert.False((bool)result["ok"]!, $"the test of {id} passed: {result["message"]}");
        return (string)result["message"]!;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
