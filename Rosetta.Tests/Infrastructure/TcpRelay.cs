using System.Net;
using System.Net.Sockets;

namespace Rosetta.Tests.Infrastructure;

/// <summary>
/// A loopback TCP relay between a browser and the app, to model a network outage. <see cref="Cut"/>
/// resets every open connection and resets each new one at once until <see cref="Restore"/>:
/// cutting only the open ones is not an outage (Blazor retries at once and reconnects within
/// milliseconds), and browser "offline" emulation leaves an open WebSocket alone.
/// </summary>
public sealed class TcpRelay : IAsyncDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _open = [];
    private readonly Task _acceptLoop;
    private bool _down; // guarded by _open's lock

    /// <param name="target">Where connections go; <see cref="Target"/> can change it (a restarted app on another port).</param>
    public TcpRelay(Uri target)
    {
        Target = target;
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(128);
        Address = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndPoint!).Port}/");
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>The relay's own address: give this to the browser.</summary>
    public Uri Address { get; }

    public Uri Target { get; set; }

    /// <summary>Resets every open connection; new ones are reset as soon as they are accepted.</summary>
    public void Cut()
    {
        lock (_open)
        {
            _down = true;
            foreach (var socket in _open) Reset(socket);
            _open.Clear();
        }
    }

    public void Restore()
    {
        lock (_open) _down = false;
    }

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(Socket client)
    {
        var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.NoDelay = true;
        lock (_open)
        {
            // Checked under the lock Cut takes, so a connection accepted just before a cut cannot slip past it.
            if (_down)
            {
                Reset(client);
                upstream.Dispose();
                return;
            }
            _open.Add(client);
            _open.Add(upstream);
        }
        try
        {
            await upstream.ConnectAsync(Target.Host, Target.Port, _stop.Token);
            await using var a = new NetworkStream(client, ownsSocket: false);
            await using var b = new NetworkStream(upstream, ownsSocket: false);
            await Task.WhenAny(a.CopyToAsync(b, _stop.Token), b.CopyToAsync(a, _stop.Token));
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            lock (_open) { _open.Remove(client); _open.Remove(upstream); }
            client.Dispose();
            upstream.Dispose();
        }
    }

    /// <summary>An abortive close (RST): both ends learn at once that the connection is gone, as with a dead network path.</summary>
    private static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
        socket.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        await _acceptLoop;
        Cut();
        _stop.Dispose();
    }
}
