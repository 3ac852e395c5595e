using System.Net;
using System.Net.Sockets;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Integration;

/// <summary>
/// People keep an SSH task's port in their commands and configs: a restarted platform serves the task
/// on the same port, also when the previous process still holds it for a while as it shuts down.
/// </summary>
public sealed class ForwardedPortRestartTests
{
    [Fact]
    public async Task ARestartedPlatformWaitsForATasksPortInsteadOfMovingIt()
    {
        // A range of its own: other tests' platforms hand out ports from the default one meanwhile.
        var settings = new Dictionary<string, string?>
        {
            ["Rosetta:Forwarding:PortRangeStart"] = "24500",
            ["Rosetta:Forwarding:PortRangeEnd"] = "24509",
        };
        var first = new RosettaAppFactory(settings: settings);
        var instance = first.InstanceId;
        try
        {
            var token = await first.AdminTokenAsync();
            string id;
            int port;
            using (var client = first.Client(token))
            {
                id = (string)(await TaskApi.StartAsync(client, new { software = "ssh", computing = "local" }))["id"]!;
                await TaskApi.WaitForStatusAsync(client, id, "running", seconds: 60);
                port = (int)(await SshInterfaceTests.WaitForForwardedPortAsync(client, id))["port"]!;
            }
            await first.DisposeAsync();

            // The previous process, still closing its connections, holds the port as the new one starts.
            using var held = new TcpListener(IPAddress.Loopback, port);
            held.Start();
            var logs = new CapturedLogs();
            await using var second = new RosettaAppFactory(first.DataDirectory, settings, logs.AddTo);
            using var again = second.Client(token);
            await TaskApi.WaitForStatusAsync(again, id, "running", seconds: 30);
            await StorageApi.WaitUntilAsync(() => logs.Entries.Any(e => e.Message.Contains($"Port {port} of task {id} is still in use")), "the platform to find the port held");
            Assert.Equal(port, (int)(await TaskApi.GetAsync(again, id))["interface"]!["port"]!);

            held.Stop();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            Assert.Equal("SSH-", await BannerAsync(port, timeout.Token));
            Assert.Equal(port, (int)(await TaskApi.GetAsync(again, id))["interface"]!["port"]!);
            await TaskApi.StopAndDeleteAsync(again, id);
        }
        finally
        {
            await RosettaAppFactory.RemoveContainersAsync(instance);
        }
    }

    /// <summary>The first bytes the forwarded port sends, asking again until it is served.</summary>
    private static async Task<string> BannerAsync(int port, CancellationToken ct)
    {
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port, ct);
                var banner = new byte[4];
                await client.GetStream().ReadExactlyAsync(banner, ct);
                return System.Text.Encoding.ASCII.GetString(banner);
            }
            catch (Exception e) when (e is SocketException or IOException or EndOfStreamException)
            {
                await Task.Delay(200, ct);
            }
        }
    }
}
