using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Rosetta.Core.Backends;
using Rosetta.Core.Backends.Ssh;

namespace Rosetta.Core.Tunnels;

/// <summary>
/// Forwards every TCP connection accepted on one local port to a task's interface. The target is
/// looked up per connection, so a task re-adopted on another published port keeps its forwarded one.
/// Connections to it are made by <see cref="TunnelAdmission"/>: a remote task's interface is an SSH
/// tunnel, which takes connections arriving together only one by one.
/// </summary>
public sealed class TcpForwarder : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly Func<ForwardTarget?> _target;
    private readonly TunnelAdmission _connections;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;
    private readonly List<Socket> _open = [];

    private TcpForwarder(Socket listener, Func<ForwardTarget?> target, TunnelAdmission connections, ILogger logger)
    {
        _listener = listener;
        _target = target;
        _connections = connections;
        _logger = logger;
        Port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    public int Port { get; }

    /// <summary>Listens on <paramref name="bind"/>:<paramref name="port"/>; throws <see cref="SocketException"/> when the port is taken.</summary>
    public static TcpForwarder Start(IPAddress bind, int port, Func<ForwardTarget?> target, TunnelAdmission connections, ILogger logger)
    {
        var listener = new Socket(bind.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(new IPEndPoint(bind, port));
            listener.Listen(64);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
        return new TcpForwarder(listener, target, connections, logger);
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
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
            _ = ForwardAsync(client);
        }
    }

    private async Task ForwardAsync(Socket client)
    {
        client.NoDelay = true;
        Socket? upstream = null;
        lock (_open) _open.Add(client);
        try
        {
            if (_target() is not { } target) return; // the task is not reachable now: close the connection
            using var ends = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token, target.Ends);
            upstream = await _connections.ConnectAsync(target.Endpoint.Host, target.Endpoint.Port, ends.Token);
            lock (_open) _open.Add(upstream);
            if (_stop.IsCancellationRequested) return; // disposed while connecting: its sockets are closed already
            await using var a = new NetworkStream(client, ownsSocket: false);
            await using var b = new NetworkStream(upstream, ownsSocket: false);
            // When either side closes, the other is closed too.
            await Task.WhenAny(a.CopyToAsync(b, ends.Token), b.CopyToAsync(a, ends.Token));
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            _logger.LogDebug(e, "Forwarded connection on port {Port} ended", Port);
        }
        finally
        {
            lock (_open)
            {
                _open.Remove(client);
                if (upstream is not null) _open.Remove(upstream);
            }
            client.Dispose();
            upstream?.Dispose();
        }
    }

    private int _disposed;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        await _stop.CancelAsync();
        _listener.Dispose();
        lock (_open) foreach (var socket in _open) socket.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        _stop.Dispose();
    }
}

/// <summary>Where one accepted connection goes, and what ends it while it is open (its task owner's account).</summary>
public sealed record ForwardTarget(TaskEndpoint Endpoint, CancellationToken Ends);
