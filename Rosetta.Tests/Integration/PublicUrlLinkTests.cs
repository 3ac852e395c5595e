using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Integration;

/// <summary>
/// Behind a reverse proxy the request's own host may be the proxy's upstream name (nginx sends <c>$proxy_host</c> by
/// default): the links the platform hands out use <c>Rosetta:PublicUrl</c> when it is set. A share link is shown once,
/// so one with the wrong host had to be made again.
/// </summary>
public sealed class PublicUrlLinkTests
{
    [Fact]
    public async Task ShareLinksAndInterfaceUrlsUseThePublicUrl()
    {
        await DockerEngine.EnsureAvailableAsync();
        await using var app = new RosettaAppFactory(settings: new Dictionary<string, string?> { ["Rosetta:PublicUrl"] = "https://rosetta.example.org/" });
        try
        {
            using var owner = await app.NewUserClientAsync();
            var task = await TaskApi.StartAsync(owner, new { software = "hello", computing = "local" });
            var id = (string)task["id"]!;
            Assert.Equal($"https://rosetta.example.org/t/{id}/", (string?)task["interface"]!["url"]);

            var created = await owner.PostAsJsonAsync($"/api/v1/tasks/{id}/shares", new { name = "for a guest" });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var url = (string)(await created.Content.ReadFromJsonAsync<JsonObject>())!["url"]!;
            Assert.StartsWith("https://rosetta.example.org/s/rss_", url);
            // Its Location answers with the link (never its secret).
            var shown = (await owner.GetFromJsonAsync<JsonObject>(created.Headers.Location!))!;
            Assert.Equal("for a guest", (string?)shown["name"]);
            Assert.DoesNotContain("rss_", shown.ToJsonString());
            await TaskApi.StopAndDeleteAsync(owner, id);
        }
        finally
        {
            await RosettaAppFactory.RemoveContainersAsync(app.InstanceId);
        }
    }
}
