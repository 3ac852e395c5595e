using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Docker.DotNet.Models;
using Rosetta.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Rosetta.Core.Monitoring;

namespace Rosetta.Tests.Integration;

/// <summary>Tasks on the real Docker engine with the real bundled images, end to end through the API and the proxy.</summary>
[Collection("platform")]
public sealed class TaskLifecycleTests(PlatformFixture platform)
{
    private RosettaAppFactory App => platform.App;

    [Fact]
    public async Task HelloGoesFromStartingToRunningAnswersThroughTheProxyLogsStopsAndDeletes()
    {
        using var client = await App.NewUserClientAsync();
        var created = await TaskApi.StartAsync(client, new { name = "hello world", software = "hello", computing = "local", options = new { cpus = 0.5, memory = "64M", env = new Dictionary<string, string> { ["HELLO_LINES"] = "3" } } });
        var id = (string)created["id"]!;
        Assert.Contains((string?)created["status"], new[] { "created", "starting" });

        var running = await TaskApi.WaitForStatusAsync(client, id, "running");
        Assert.StartsWith("sha256:", (string?)running["imageDigest"]);
        Assert.EndsWith($"/t/{id}/", (string?)running["interface"]!["url"]);

        // The container: label from the contract, limits from the options, port on loopback only.
        var container = await DockerEngine.FindTaskContainerAsync(id);
        Assert.NotNull(container);
        using (var docker = DockerEngine.Client())
        {
            var inspect = (await docker.Containers.InspectContainerAsync(container!.ID))!;
            Assert.Equal(id, inspect.Config!.Labels["rosetta.task"]);
            Assert.Equal(500_000_000, inspect.HostConfig!.NanoCPUs);
            Assert.Equal(64L << 20, inspect.HostConfig.Memory);
            Assert.All(inspect.NetworkSettings!.Ports!["8080/tcp"], b => Assert.Equal("127.0.0.1", b.HostIP));
            Assert.Contains("HELLO_LINES=3", inspect.Config.Env);
        }

        var page = await client.GetAsync($"/t/{id}/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("Hello from Rosetta", await page.Content.ReadAsStringAsync());
        // Without the trailing slash the proxy redirects, so relative links work.
        var bare = await client.GetAsync($"/t/{id}");
        Assert.Equal(HttpStatusCode.Redirect, bare.StatusCode);
        Assert.Equal($"/t/{id}/", bare.Headers.Location!.OriginalString);

        var logs = await client.GetStringAsync($"/api/v1/tasks/{id}/logs");
        Assert.Contains("line 1\nline 2\nline 3\n", logs);
        Assert.Contains("hello: listening on port 8080", logs);
        var tail = await client.GetStringAsync($"/api/v1/tasks/{id}/logs?tail=1");
        Assert.Single(tail.TrimEnd('\n').Split('\n'));

        // Running tasks cannot be deleted.
        var conflict = await client.DeleteAsync($"/api/v1/tasks/{id}");
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        Assert.Contains("stop it", (string?)(await TaskApi.ProblemAsync(conflict))["detail"]);

        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync($"/api/v1/tasks/{id}/stop", null)).StatusCode);
        var stopped = await TaskApi.WaitForStatusAsync(client, id, "stopped");
        Assert.NotNull(stopped["endedAt"]);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync($"/t/{id}/")).StatusCode);
        // Logs outlive the stop.
        Assert.Contains("line 3", await client.GetStringAsync($"/api/v1/tasks/{id}/logs"));

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v1/tasks/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/v1/tasks/{id}")).StatusCode);
        Assert.Null(await DockerEngine.FindTaskContainerAsync(id));
    }

    [Fact]
    public async Task JupyterKernelRunsCodeOverItsWebSocketThroughTheProxyWithoutTheUserSeeingAToken()
    {
        var token = await App.TokenAsync("admin", RosettaAppFactory.AdminPassword);
        using var client = App.Client(token);
        var task = await TaskApi.StartAsync(client, new { software = "jupyter", computing = "local" });
        var id = (string)task["id"]!;
        try
        {
            var running = await TaskApi.WaitForStatusAsync(client, id, "running", seconds: 90);
            Assert.DoesNotContain("token", running.ToJsonString(), StringComparison.OrdinalIgnoreCase);

            // The proxy supplies Jupyter's token itself; the owner only has their platform token.
            var status = await client.GetAsync($"/t/{id}/api/status");
            Assert.Equal(HttpStatusCode.OK, status.StatusCode);
            Assert.Equal("42\n", await JupyterKernel.RunAsync(App.BaseAddress, client, token, id, "print(6 * 7)"));

            // The scientific stack a notebook starts with, and widgets: a plot renders inline, a slider is a widget view.
            var outputs = await JupyterKernel.ExecuteAsync(App.BaseAddress, client, token, id,
                "%matplotlib inline\nimport numpy as np, pandas as pd, matplotlib.pyplot as plt, ipywidgets as widgets\n" +
                "plt.plot(np.arange(5) ** 2); plt.show()\ndisplay(widgets.IntSlider(value=7))\nprint(pd.DataFrame({'x': [1, 2, 3]}).x.sum())", seconds: 60);
            Assert.True(outputs.All(o => (string?)o["msg_type"] != "error"), string.Join("\n", outputs.Select(o => o.ToJsonString())));
            Assert.Contains(outputs, o => o["content"]?["data"]?["image/png"] is not null);
            Assert.Contains(outputs, o => o["content"]?["data"]?["application/vnd.jupyter.widget-view+json"] is not null);
            Assert.Contains(outputs, o => (string?)o["msg_type"] == "stream" && (string?)o["content"]?["text"] == "6\n");
            // The widgets' notebook extension is enabled and reachable through the proxy, so the page draws the slider.
            var config = await client.GetFromJsonAsync<JsonObject>($"/t/{id}/api/config/notebook");
            Assert.True((bool?)config?["load_extensions"]?["jupyter-js-widgets/extension"], config?.ToJsonString());
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/t/{id}/nbextensions/jupyter-js-widgets/extension.js")).StatusCode);

            // Jupyter writes its token into its pages for its scripts; through the proxy they do without it,
            // and the page never hands it to the browser (an owner or a share-link guest).
            var secret = App.Services.GetRequiredService<TaskMonitor>().SecretOf(App.Services.GetRequiredService<TaskMonitor>().Get(id)!)!;
            var page = new HttpRequestMessage(HttpMethod.Get, $"/t/{id}/tree");
            page.Headers.Accept.ParseAdd("text/html");
            page.Headers.AcceptEncoding.ParseAdd("gzip");
            var tree = await client.SendAsync(page);
            Assert.Equal(HttpStatusCode.OK, tree.StatusCode);
            var html = await tree.Content.ReadAsStringAsync();
            Assert.Contains("data-jupyter-api-token", html); // the page itself, with the token's place left empty
            Assert.DoesNotContain(secret, html);
            // Its error pages too (they carry the token in the logo's link as well).
            var missing = new HttpRequestMessage(HttpMethod.Get, $"/t/{id}/no-such-page");
            missing.Headers.Accept.ParseAdd("text/html");
            var notFound = await client.SendAsync(missing);
            Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
            var errorPage = await notFound.Content.ReadAsStringAsync();
            Assert.Contains("data-jupyter-api-token", errorPage);
            Assert.DoesNotContain(secret, errorPage);
        }
        finally
        {
            await TaskApi.StopAndDeleteAsync(client, id);
        }
    }

    [Fact]
    public async Task ContainerThatExitsAtOnceFailsWithItsExitCodeAndLastOutput()
    {
        using var client = await App.NewUserClientAsync();
        var task = await TaskApi.StartAsync(client, new { software = "hello", computing = "local", options = new { env = new Dictionary<string, string> { ["HELLO_EXIT_CODE"] = "3" } } });
        var id = (string)task["id"]!;
        var failed = await TaskApi.WaitForStatusAsync(client, id, "failed");
        Assert.Equal(3, (int?)failed["exitCode"]);
        Assert.Contains("hello: exiting with code 3", (string?)failed["error"]);
        // Its whole output stays readable, whether it died before or after the launch looked at it.
        Assert.Contains("hello: exiting with code 3", await client.GetStringAsync($"/api/v1/tasks/{id}/logs"));
        await TaskApi.StopAndDeleteAsync(client, id);
    }

    [Fact]
    public async Task ContainerKilledOutsideThePlatformIsSeenAsExitedAndOneRemovedAsFailed()
    {
        using var client = await App.NewUserClientAsync();
        var killed = (string)(await TaskApi.StartAsync(client, new { software = "hello", computing = "local" }))["id"]!;
        var removed = (string)(await TaskApi.StartAsync(client, new { software = "hello", computing = "local" }))["id"]!;
        await TaskApi.WaitForStatusAsync(client, killed, "running");
        await TaskApi.WaitForStatusAsync(client, removed, "running");

        using (var docker = DockerEngine.Client())
        {
            await docker.Containers.KillContainerAsync((await DockerEngine.FindTaskContainerAsync(killed))!.ID, new ContainerKillParameters { Signal = "SIGKILL" });
            await docker.Containers.RemoveContainerAsync((await DockerEngine.FindTaskContainerAsync(removed))!.ID, new ContainerRemoveParameters { Force = true });
        }

        var exited = await TaskApi.WaitForStatusAsync(client, killed, "exited", seconds: 20);
        Assert.Equal(137, (int?)exited["exitCode"]);
        // `docker rm -f` kills (the task exits) then removes: the task says its container is gone.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        var gone = await TaskApi.GetAsync(client, removed);
        while (!((string?)gone["error"] ?? "").Contains("removed outside the platform") && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            gone = await TaskApi.GetAsync(client, removed);
        }
        Assert.Contains((string?)gone["status"], new[] { "exited", "failed" });
        Assert.Contains("removed outside the platform", (string?)gone["error"]);
        await TaskApi.StopAndDeleteAsync(client, killed);
        await TaskApi.StopAndDeleteAsync(client, removed);
    }

    [Fact]
    public async Task StopDuringStartEndsStoppedWithNoContainerLeftRunning()
    {
        using var client = await App.NewUserClientAsync();
        var id = (string)(await TaskApi.StartAsync(client, new { software = "jupyter", computing = "local" }))["id"]!;
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync($"/api/v1/tasks/{id}/stop", null)).StatusCode);
        await TaskApi.WaitForStatusAsync(client, id, "stopped", seconds: 30);
        var container = await DockerEngine.FindTaskContainerAsync(id);
        Assert.True(container is null || container.State != "running", $"container still {container?.State}");
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v1/tasks/{id}")).StatusCode);
    }

    [Fact]
    public async Task WalltimeEndsARunningTask()
    {
        using var client = await App.NewUserClientAsync();
        var id = (string)(await TaskApi.StartAsync(client, new { software = "hello", computing = "local", options = new { walltime = "00:00:02" } }))["id"]!;
        await TaskApi.WaitForStatusAsync(client, id, "running");
        var exited = await TaskApi.WaitForStatusAsync(client, id, "exited", seconds: 30);
        Assert.Contains("walltime", (string?)exited["error"]);
        await TaskApi.StopAndDeleteAsync(client, id);
    }
}
