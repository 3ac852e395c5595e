using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Integration;

/// <summary>
/// A platform with per-task host names (<c>Rosetta:Proxy:TaskHost</c> = <c>{id}.tasks.localhost</c>) on
/// a loopback port, a movable clock, and real hello tasks: Alice's A1 and A2, her task that serves under
/// its prefix, her WebSocket echo, and Bob's B1.
/// </summary>
public sealed class TaskHostFixture : IAsyncLifetime
{
    public const string Suffix = "tasks.localhost";
    public MovableClock Clock { get; } = new();
    public RosettaAppFactory App { get; private set; } = null!;
    public HttpClient Alice { get; private set; } = null!;
    public HttpClient Bob { get; private set; } = null!;
    public string AliceName { get; } = "alice" + Guid.NewGuid().ToString("N")[..6];
    public string BobName { get; } = "bob" + Guid.NewGuid().ToString("N")[..6];
    public string A1 { get; private set; } = "";
    public string A2 { get; private set; } = "";
    public string PrefixTask { get; private set; } = "";
    public string EchoTask { get; private set; } = "";
    public string B1 { get; private set; } = "";

    public async Task InitializeAsync()
    {
        await DockerEngine.EnsureAvailableAsync();
        App = new RosettaAppFactory(
            settings: new Dictionary<string, string?> { ["Rosetta:Proxy:TaskHost"] = "{id}." + Suffix },
            services: s => s.AddSingleton<TimeProvider>(Clock));
        Alice = await App.NewUserClientAsync(AliceName);
        Bob = await App.NewUserClientAsync(BobName);
        A1 = await StartAsync(Alice, "hello");
        A2 = await StartAsync(Alice, "hello");
        PrefixTask = await StartAsync(Alice, await RegisterAsync(Alice, new { name = "Hello under its prefix", image = "rosetta/hello", interfacePort = 8080, basePathEnv = "ROSETTA_BASE_PATH" }));
        EchoTask = await StartAsync(Alice, await RegisterAsync(Alice, new
        {
            name = "WebSocket echo", image = "rosetta/hello", interfacePort = 8080, env = new Dictionary<string, string> { ["HELLO_WEBSOCKET_ECHO"] = "1" },
        }));
        B1 = await StartAsync(Bob, "hello");
        foreach (var (client, id) in new[] { (Alice, A1), (Alice, A2), (Alice, PrefixTask), (Alice, EchoTask), (Bob, B1) })
            await TaskApi.WaitForStatusAsync(client, id, "running");
    }

    public static string PasswordOf(string username) => "password-" + username;

    /// <summary>The task host's address: <c>http://{id}.tasks.localhost:{port}{path}</c>.</summary>
    public Uri TaskHost(string taskId, string path = "/") => new($"http://{taskId}.{Suffix}:{App.BaseAddress.Port}{path}");

    public Uri Dashboard(string path) => new(App.BaseAddress, path);

    public async Task<BrowserLikeClient> LoggedInBrowserAsync(string username)
    {
        var browser = new BrowserLikeClient(App.BaseAddress);
        await browser.LogInAsync(App.BaseAddress, username, PasswordOf(username));
        return browser;
    }

    /// <summary>The dashboard's hand-off for a browser: the one-time-code URL on the task host (not yet opened).</summary>
    public async Task<Uri> CodeUrlAsync(BrowserLikeClient browser, string taskId, string path = "/")
    {
        var response = await browser.NavigateAsync(Dashboard($"/t/{taskId}{path}"));
        Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"/t/{taskId}{path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        var location = response.Headers.Location!;
        Assert.Equal(TaskHost(taskId, "/_rosetta/ticket").GetLeftPart(UriPartial.Path), location.GetLeftPart(UriPartial.Path));
        return location;
    }

    /// <summary>Hand-off plus redeeming the code: the browser now holds a session for the task host.</summary>
    public async Task OpenAsync(BrowserLikeClient browser, string taskId, string path = "/")
    {
        var redeemed = await browser.NavigateAsync(await CodeUrlAsync(browser, taskId, path));
        Assert.Equal(HttpStatusCode.Redirect, redeemed.StatusCode);
        Assert.Equal(TaskHost(taskId, path), redeemed.Headers.Location);
    }

    /// <summary>The task-host session cookie the browser holds for a task (its value, to replay elsewhere).</summary>
    public static string SessionCookie(BrowserLikeClient browser, Uri taskHost) =>
        browser.Cookies.GetCookies(taskHost)["rosetta.task"]?.Value ?? throw new Xunit.Sdk.XunitException($"No session cookie for {taskHost.Host}.");

    private static async Task<string> RegisterAsync(HttpClient client, object software)
    {
        var response = await client.PostAsJsonAsync("/api/v1/software", software);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (string)(await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
    }

    private static async Task<string> StartAsync(HttpClient client, string software) =>
        (string)(await TaskApi.StartAsync(client, new { software, computing = "local" }))["id"]!;

    public async Task DisposeAsync()
    {
        var instance = App.InstanceId;
        Alice.Dispose();
        Bob.Dispose();
        await App.DisposeAsync();
        await RosettaAppFactory.RemoveContainersAsync(instance);
    }
}
