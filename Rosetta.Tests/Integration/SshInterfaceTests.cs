using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Integration;

/// <summary>
/// The `ssh` software: a real OpenSSH client reaches the task through the TCP port the platform
/// forwards, with a key given in the task's environment or the per-task password.
/// </summary>
[Collection("platform")]
public sealed class SshInterfaceTests(PlatformFixture platform)
{
    private RosettaAppFactory App => platform.App;

    [Fact]
    public async Task AnOpenSshClientRunsACommandInTheTaskThroughTheForwardedPort()
    {
        var keyDirectory = Directory.CreateTempSubdirectory("rosetta-ssh-key");
        var key = Path.Combine(keyDirectory.FullName, "id_ed25519");
        await RunAsync("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key);
        var publicKey = (await File.ReadAllTextAsync(key + ".pub")).Trim();

        using var client = await App.NewUserClientAsync();
        var id = (string)(await TaskApi.StartAsync(client, new
        {
            software = "ssh", computing = "local",
            options = new { env = new Dictionary<string, string> { ["SSH_AUTHORIZED_KEYS"] = publicKey } },
        }))["id"]!;
        try
        {
            await TaskApi.WaitForStatusAsync(client, id, "running", seconds: 60);
            var iface = await WaitForForwardedPortAsync(client, id);
            Assert.Equal("ssh", (string?)iface["protocol"]);
            var host = (string)iface["host"]!;
            var port = (int)iface["port"]!;

            var output = await RunAsync("ssh", "-p", port.ToString(), "-i", key, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", $"scientist@{host}", "echo hello-from-$(id -un)");
            Assert.Contains("hello-from-scientist", output);
            // The image's tini runs under the engine's init as a subreaper: no warning opens the task's output.
            Assert.DoesNotContain("Tini is not running as PID 1", await client.GetStringAsync($"/api/v1/tasks/{id}/logs"));

            // The owner can read the task password (for clients without a key); nobody else can.
            var secret = await client.GetFromJsonAsync<JsonObject>($"/api/v1/tasks/{id}/secret");
            Assert.False(string.IsNullOrEmpty((string?)secret!["secret"]));
            using var other = await App.NewUserClientAsync();
            Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/api/v1/tasks/{id}/secret")).StatusCode);
            // An admin sees the task, and is told the password is the owner's alone.
            using var admin = App.Client(await App.AdminTokenAsync());
            var forAdmin = await admin.GetAsync($"/api/v1/tasks/{id}/secret");
            Assert.Equal(HttpStatusCode.Forbidden, forAdmin.StatusCode);
            Assert.StartsWith("Only the task's owner sees its password", (string?)(await TaskApi.ProblemAsync(forAdmin))["detail"]);

            // A share link could not open an SSH interface: none is made.
            var link = await client.PostAsJsonAsync($"/api/v1/tasks/{id}/shares", new { });
            Assert.Equal(HttpStatusCode.Conflict, link.StatusCode);
            Assert.Contains("a link cannot open it", (string?)(await TaskApi.ProblemAsync(link))["detail"]);
            Assert.Empty((await client.GetFromJsonAsync<JsonArray>($"/api/v1/tasks/{id}/shares"))!);

            // A browser pointed at /t/{id}/ learns where the interface really is instead of a bare 502.
            var web = await client.GetAsync($"/t/{id}/");
            Assert.Equal(HttpStatusCode.Conflict, web.StatusCode);
            Assert.Contains("not HTTP", (string?)(await TaskApi.ProblemAsync(web))["detail"]);

            // Stopped, it offers no port: nothing listens there any more.
            (await client.PostAsync($"/api/v1/tasks/{id}/stop", null)).EnsureSuccessStatusCode();
            var stopped = await TaskApi.WaitForStatusAsync(client, id, "stopped", seconds: 30);
            Assert.Null(stopped["interface"]!["port"]);
            Assert.Null(stopped["interface"]!["host"]);
        }
        finally
        {
            await TaskApi.StopAndDeleteAsync(client, id);
            keyDirectory.Delete(recursive: true);
        }
    }

    internal static async Task<JsonObject> WaitForForwardedPortAsync(HttpClient client, string id)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var iface = (await TaskApi.GetAsync(client, id))["interface"]!.AsObject();
            if (iface["port"] is not null) return iface;
            if (DateTime.UtcNow > deadline) Assert.Fail($"no forwarded port: {iface.ToJsonString()}");
            await Task.Delay(100);
        }
    }

    internal static async Task<string> RunAsync(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(process.ExitCode == 0, $"{file} exited with {process.ExitCode}: {await stderr}");
        return await stdout;
    }
}
