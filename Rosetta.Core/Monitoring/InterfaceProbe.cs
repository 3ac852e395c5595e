using System.Net.Sockets;
using System.Text;
using Rosetta.Core.Backends;
using Rosetta.Core.Domain;

namespace Rosetta.Core.Monitoring;

/// <summary>
/// Decides whether a task's interface answers. A TCP connect is not enough: the engine's port
/// publisher accepts connections before the program inside listens, so HTTP interfaces must send
/// an HTTP response and SSH interfaces their banner.
/// </summary>
public sealed class InterfaceProbe : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        PooledConnectionLifetime = TimeSpan.Zero,
        ConnectTimeout = TimeSpan.FromSeconds(2),
    })
    { Timeout = TimeSpan.FromSeconds(3) };

    public async Task<bool> AnswersAsync(TaskEndpoint endpoint, InterfaceProtocol protocol, string path, CancellationToken ct)
    {
        try
        {
            return protocol switch
            {
                InterfaceProtocol.Ssh => await SshBannerAsync(endpoint, ct),
                _ => await HttpAnswersAsync(endpoint, path, ct),
            };
        }
        catch (Exception e) when (e is HttpRequestException or SocketException or IOException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            return false;
        }
    }

    private async Task<bool> HttpAnswersAsync(TaskEndpoint endpoint, string path, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{endpoint.Host}:{endpoint.Port}{path}");
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        return true; // Any status: the program is listening and speaks HTTP.
    }

    private static async Task<bool> SshBannerAsync(TaskEndpoint endpoint, CancellationToken ct)
    {
        using var client = new TcpClient();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(3));
        await client.ConnectAsync(endpoint.Host, endpoint.Port, timeout.Token);
        var buffer = new byte[256];
        var read = await client.GetStream().ReadAsync(buffer, timeout.Token);
        return read >= 4 && Encoding.ASCII.GetString(buffer, 0, 4) == "SSH-";
    }

    public void Dispose() => _http.Dispose();
}
