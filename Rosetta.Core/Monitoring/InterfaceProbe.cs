using System.Net.Sockets;
using System.Text;
using Rosetta.Core.Backends;
using Rosetta.Core.Backends.Ssh;
using Rosetta.Core.Domain;

namespace Rosetta.Core.Monitoring;

/// <summary>
/// Decides whether a task's interface answers. A TCP connect is not enough: the engine's port
/// publisher accepts connections before the program inside listens, so HTTP interfaces must send
/// an HTTP response and SSH interfaces their banner. Connections are made as the proxy's are (<see cref="TunnelAdmission"/>),
/// so a probe of a remote interface does not wait in its SSH tunnel behind a browser's open connections.
/// </summary>
public sealed class InterfaceProbe(TunnelAdmission connections) : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        PooledConnectionLifetime = TimeSpan.Zero,
        ConnectTimeout = TimeSpan.FromSeconds(2),
        ConnectCallback = async (context, ct) =>
            new NetworkStream(await connections.ConnectAsync(context.DnsEndPoint.Host, context.DnsEndPoint.Port, ct), ownsSocket: true),
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
        catch (Exception e) when (e is HttpRequestException or SocketException or IOException or OperationCanceledException && !ct.IsCancellationRequested)
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

    private async Task<bool> SshBannerAsync(TaskEndpoint endpoint, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(3));
        await using var stream = new NetworkStream(await connections.ConnectAsync(endpoint.Host, endpoint.Port, timeout.Token), ownsSocket: true);
        var buffer = new byte[256];
        var read = await stream.ReadAsync(buffer, timeout.Token);
        return read >= 4 && Encoding.ASCII.GetString(buffer, 0, 4) == "SSH-";
    }

    public void Dispose() => _http.Dispose();
}
