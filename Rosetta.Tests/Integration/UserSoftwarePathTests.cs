using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Integration;

/// <summary>
/// A user's own web software behind <c>/t/{id}/</c>, in both of the proxy's path modes, with a real
/// container: rosetta/hello registered through the API once as software served at <c>/</c> (the proxy
/// strips the prefix) and once as software that serves under its prefix (<c>basePathEnv</c>: the proxy
/// keeps it). Under a base path hello answers only there, so a proxy that got the mode wrong gets 404s.
/// </summary>
[Collection("platform")]
public sealed partial class UserSoftwarePathTests(PlatformFixture platform)
{
    private RosettaAppFactory App => platform.App;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task PagesAndRelativeLinksWorkWhetherTheSoftwareExpectsTheRootOrItsPrefix(bool servedUnderPrefix)
    {
        using var client = await App.NewUserClientAsync();
        var registered = await client.PostAsJsonAsync("/api/v1/software", servedUnderPrefix
            ? new { name = "Hello under its prefix", image = "rosetta/hello", interfacePort = 8080, basePathEnv = "ROSETTA_BASE_PATH" }
            : (object)new { name = "Hello at the root", image = "rosetta/hello", interfacePort = 8080 });
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        var software = (string)(await registered.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
        var id = (string)(await TaskApi.StartAsync(client, new { software, computing = "local" }))["id"]!;
        await TaskApi.WaitForStatusAsync(client, id, "running");

        // The container itself: the page is at "/" or at "/t/{id}/", never both, so the modes differ.
        using (var direct = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = await PublishedAddressAsync(id) })
        {
            Assert.Equal(servedUnderPrefix ? HttpStatusCode.NotFound : HttpStatusCode.OK, (await direct.GetAsync("/")).StatusCode);
            Assert.Equal(servedUnderPrefix ? HttpStatusCode.OK : HttpStatusCode.NotFound, (await direct.GetAsync($"/t/{id}/")).StatusCode);
        }

        // Through the proxy both work the same: the page, its relative link, and the link back.
        var index = new Uri(App.BaseAddress, $"/t/{id}/");
        var indexHtml = await GetPageAsync(client, index, "Hello from Rosetta");
        var second = new Uri(index, FirstLink(indexHtml));
        Assert.Equal($"/t/{id}/second.html", second.AbsolutePath);
        var secondHtml = await GetPageAsync(client, second, "Second page of Rosetta hello");
        var back = new Uri(second, FirstLink(secondHtml));
        Assert.Equal($"/t/{id}/", back.AbsolutePath);
        await GetPageAsync(client, back, "Hello from Rosetta");

        await TaskApi.StopAndDeleteAsync(client, id);
    }

    /// <summary>
    /// The software gets the path as the browser encoded it: an encoded '/' (RabbitMQ's "%2F" vhost, a file
    /// name) arrived decoded and encoded again as "%252F". A path with dot segments is sent as the platform
    /// read it (the task it was authorised for), not as written.
    /// </summary>
    [Fact]
    public async Task TheSoftwareGetsThePathAsTheBrowserEncodedIt()
    {
        using var client = await App.NewUserClientAsync();
        var registered = await client.PostAsJsonAsync("/api/v1/software", new
        {
            name = "Request echo", image = "rosetta/hello", interfacePort = 8080, env = new Dictionary<string, string> { ["HELLO_WEBSOCKET_ECHO"] = "1" },
        });
        var software = (string)(await registered.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
        var id = (string)(await TaskApi.StartAsync(client, new { software, computing = "local" }))["id"]!;
        try
        {
            await TaskApi.WaitForStatusAsync(client, id, "running");
            foreach (var (sent, received) in new[]
            {
                ($"/t/{id}/api/queues/%2F/q%C0%AF?name=a%2Fb", "GET /api/queues/%2F/q%C0%AF?name=a%2Fb HTTP/1.1"),
                ($"/t/{id}/50%2525/a%252Fb", "GET /50%2525/a%252Fb HTTP/1.1"), // a name with "%2F" in it, not a '/'
                ($"/t/{id}/x/../y", "GET /y HTTP/1.1"),
                ($"/t/{id}/caf%C3%A9%20au%20lait", "GET /caf%C3%A9%20au%20lait HTTP/1.1"),
            })
            {
                var uri = new Uri(App.BaseAddress + sent.TrimStart('/'), new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
                var echoed = await client.GetStringAsync(uri);
                Assert.Equal($"hello: WebSocket echo ({received})", echoed);
            }
        }
        finally
        {
            await TaskApi.StopAndDeleteAsync(client, id);
        }
    }

    private static async Task<string> GetPageAsync(HttpClient client, Uri uri, string expected)
    {
        var response = await client.GetAsync(uri);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {uri.AbsolutePath} through the proxy answered {(int)response.StatusCode}: {body}");
        Assert.Contains(expected, body);
        return body;
    }

    private static string FirstLink(string html) => Href().Match(html) is { Success: true } m ? m.Groups[1].Value : throw new Xunit.Sdk.XunitException($"No link in: {html}");

    /// <summary>Where the engine published the task's interface port (loopback).</summary>
    private static async Task<Uri> PublishedAddressAsync(string taskId)
    {
        var container = await DockerEngine.FindTaskContainerAsync(taskId) ?? throw new Xunit.Sdk.XunitException($"No container for task {taskId}.");
        var port = container.Ports.Single(p => p.PrivatePort == 8080 && p.IP == "127.0.0.1");
        return new Uri($"http://127.0.0.1:{port.PublicPort}");
    }

    [GeneratedRegex("href=\"([^\"]+)\"")]
    private static partial Regex Href();
}
