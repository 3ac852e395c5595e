using System.Net;
using System.Net.Sockets;

namespace Rosetta.Tests.Infrastructure;

/// <summary>
/// A loopback TCP relay between a client and a server, to model a network outage. <see cref="Cut"/>
/// resets every open connection and resets each new one at once until <see cref="Restore"/>:
/// cutting only the open ones is not an outage (Blazor retries at once and reconnects within
/// milliseconds), and browser "offline" emulation leaves an open WebSocket alone. <see cref="Freeze"/>
/// makes the open connections go silent without closing them, as when a firewall or NAT on the way
/// forgets them: neither end hears anything, and new connections pass.
/// </summary>
public sealed class TcpRelay : IAsyncDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _open = [];
    /// <summary>Per open connection, what stops its copying (guarded by _open's lock).</summary>
    private readonly List<CancellationTokenSource> _copying = [];
    /// <summary>Frozen connections' sockets, kept open until the relay is disposed.</summary>
    private readonly List<Socket> _frozen = [];
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

    /// <summary>The open connections stop carrying bytes, both ways, and stay open; new ones are relayed as usual.</summary>
    public void Freeze()
    {
        lock (_open)
        {
            _frozen.AddRange(_open);
            _open.Clear();
            foreach (var copying in _copying) copying.Cancel();
            _copying.Clear();
        }
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
        using var copying = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        lock (_open) _copying.Add(copying);
        try
        {
            await upstream.ConnectAsync(Target.Host, Target.Port, copying.Token);
            await using var a = new NetworkStream(client, ownsSocket: false);
            await using var b = new NetworkStream(upstream, ownsSocket: false);
            await Task.WhenAny(a.CopyToAsync(b, copying.Token), b.CopyToAsync(a, copying.Token));
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            bool frozen;
            lock (_open)
            {
                _copying.Remove(copying);
                frozen = _frozen.Contains(client);
                _open.Remove(client);
                _open.Remove(upstream);
            }
            if (!frozen)
            {
                client.Dispose();
                upstream.Dispose();
            }
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
        lock (_open)
        {
            foreach (var socket in _frozen) socket.Dispose();
            _frozen.Clear();
        }
        _stop.Dispose();
    }
}
