using System.Net;
using Rosetta.App.Proxy;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Integration;

/// <summary>
/// The `desktop` software: noVNC's files and its WebSocket through the proxy, with the VNC password
/// handshake done by the proxy so the owner never types (or receives) the password.
/// </summary>
[Collection("platform")]
public sealed class DesktopInterfaceTests(PlatformFixture platform)
{
    private RosettaAppFactory App => platform.App;

    [Fact]
    public async Task TheVncHandshakeCompletesThroughTheProxyWithOnlyTheOwnersCredentials()
    {
        var token = await App.AdminTokenAsync();
        using var client = App.Client(token);
        var id = (string)(await TaskApi.StartAsync(client, new { software = "desktop", computing = "local" }))["id"]!;
        try
        {
            await TaskApi.WaitForStatusAsync(client, id, "running", seconds: 90);
            var page = await client.GetAsync($"/t/{id}/vnc.html");
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Contains("noVNC", await page.Content.ReadAsStringAsync());
            // The password is not offered to the owner either: the proxy uses it.
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/v1/tasks/{id}/secret")).StatusCode);

            var (width, height) = await VncThroughProxy.HandshakeAsync(App, token, id);
            Assert.True(width > 0 && height > 0, $"desktop size {width}x{height}");

            // The terminal opens in the home folder, which goes with the container: the storages are linked there.
            var container = await DockerEngine.InspectTaskContainerAsync(id);
            var home = await DockerEngine.ExecAsync(container.ID, "", "sh", "-c", "readlink ~/personal ~/shared");
            Assert.Equal("/storages/personal\n/storages/shared\n", home.Output);
        }
        finally
        {
            await TaskApi.StopAndDeleteAsync(client, id);
        }
    }

    [Fact]
    public void VncResponseMatchesTheProtocolsReferenceVector()
    {
        // DES of a zero challenge with password "password" (bit-reversed key), as RFB servers compute it.
        var response = VncAuthentication.Respond(new byte[16], "password");
        Assert.Equal(16, response.Length);
        Assert.Equal(response[..8], response[8..]); // ECB: equal blocks encrypt equally
        Assert.NotEqual(response, VncAuthentication.Respond(new byte[16], "passwork"));
        Assert.Equal(response, VncAuthentication.Respond(new byte[16], "password-and-more")); // only 8 characters count
    }
}
