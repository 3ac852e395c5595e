using System.Net.Sockets;

namespace Rosetta.Tests.Infrastructure;

/// <summary>
/// A Unix-socket relay in front of the real Docker socket. Pausing it drops every connection and
/// refuses new ones, which is exactly what the platform sees when the engine goes down, without
/// stopping the engine the other tests use.
/// </summary>
public sealed class UnixSocketRelay : IAsyncDisposable
{
    private readonly string _target;
    private readonly List<Socket> _open = [];
    private Socket? _listener;
    private Task? _acceptLoop;

    public UnixSocketRelay(string target = "/var/run/docker.sock")
    {
        _target = target;
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"rosetta-relay-{Guid.NewGuid():N}.sock");
        Resume();
    }

    public string Path { get; }
    public string Endpoint => $"unix://{Path}";

    public void Resume()
    {
        File.Delete(Path);
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(Path));
        _listener.Listen(64);
        var listener = _listener;
        _acceptLoop = Task.Run(async () =>
        {
            while (true)
            {
                Socket client;
                try { client = await listener.AcceptAsync(); }
                catch (Exception e) when (e is SocketException or ObjectDisposedException) { return; }
                _ = RelayAsync(client);
            }
        });
    }

    public async Task PauseAsync()
    {
        _listener?.Dispose();
        if (_acceptLoop is not null) await _acceptLoop;
        File.Delete(Path);
        lock (_open)
        {
            foreach (var socket in _open) socket.Dispose();
            _open.Clear();
        }
    }

    private async Task RelayAsync(Socket client)
    {
        var upstream = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        lock (_open) { _open.Add(client); _open.Add(upstream); }
        try
        {
            await upstream.ConnectAsync(new UnixDomainSocketEndPoint(_target));
            await using var a = new NetworkStream(client, ownsSocket: true);
            await using var b = new NetworkStream(upstream, ownsSocket: true);
            await Task.WhenAny(a.CopyToAsync(b), b.CopyToAsync(a));
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            client.Dispose();
            upstream.Dispose();
        }
    }

    public async ValueTask DisposeAsync() => await PauseAsync();
}
