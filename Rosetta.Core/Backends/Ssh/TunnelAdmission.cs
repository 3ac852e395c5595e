using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Rosetta.Core.Backends.Ssh;

/// <summary>
/// Connects to task interfaces, handing connections to an SSH tunnel's local port one at a time.
/// SSH.NET's port forward accepts in a chain: when a connection is already waiting as it asks for the
/// next, that one is taken on the same thread, whose handling of the first connection blocks for that
/// connection's whole life. So of many connections arriving together (a page's modules over HTTP/2 or
/// through a reverse proxy, each a connection of the proxy's own), all but one waited until the one
/// before them closed: many seconds, minutes for the proxy's kept-alive ones. Here the next connection
/// is made only once SSH.NET has taken the previous one (its RequestReceived), so none waits in the chain.
/// </summary>
public sealed class TunnelAdmission
{
    /// <summary>How long a connection waits for SSH.NET to take it before the next goes anyway.</summary>
    private static readonly TimeSpan TakenWithin = TimeSpan.FromSeconds(5);

    /// <summary>One tunnel's turn: connections to it are made one at a time.</summary>
    internal sealed class Gate
    {
        public SemaphoreSlim One { get; } = new(1, 1);
        /// <summary>Connections made, by their own local port, until SSH.NET reports them taken.</summary>
        public ConcurrentDictionary<int, TaskCompletionSource> Waiting { get; } = new();
    }

    private readonly ConcurrentDictionary<int, Gate> _tunnels = new();

    /// <summary>A tunnel listens on 127.0.0.1:<paramref name="localPort"/>; what it returns is handed back to <see cref="Closed"/>.</summary>
    internal Gate Opened(int localPort) => _tunnels[localPort] = new Gate();

    /// <summary>That tunnel stopped (only its own gate goes: a newer tunnel may listen on the port by now).</summary>
    internal void Closed(int localPort, Gate opened) => _tunnels.TryRemove(KeyValuePair.Create(localPort, opened));

    /// <summary>SSH.NET took the connection that comes from <paramref name="originatorPort"/>.</summary>
    internal void Taken(int localPort, int originatorPort)
    {
        if (_tunnels.TryGetValue(localPort, out var gate) && gate.Waiting.TryRemove(originatorPort, out var taken)) taken.TrySetResult();
    }

    /// <summary>A connected socket to <paramref name="host"/>:<paramref name="port"/> (a tunnel's, one at a time).</summary>
    public async ValueTask<Socket> ConnectAsync(string host, int port, CancellationToken ct)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            // Tunnels listen on 127.0.0.1 only: any other address is never one.
            if (!IPAddress.TryParse(host, out var address) || !address.Equals(IPAddress.Loopback) || !_tunnels.TryGetValue(port, out var gate))
            {
                await socket.ConnectAsync(host, port, ct);
                return socket;
            }
            await gate.One.WaitAsync(ct);
            var from = 0;
            try
            {
                socket.Bind(new IPEndPoint(address, 0));
                from = ((IPEndPoint)socket.LocalEndPoint!).Port;
                var taken = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                gate.Waiting[from] = taken;
                await socket.ConnectAsync(address, port, ct);
                try
                {
                    await taken.Task.WaitAsync(TakenWithin, ct);
                }
                catch (TimeoutException)
                {
                    // Not taken in time: a loaded machine's SSH.NET slow to accept, or a forward that stopped by itself.
                    // The next connection goes on, and the gate stays: removing it let every later connection of a
                    // busy tunnel arrive together again, into SSH.NET's chain (a newer tunnel on the port gets a gate of its own).
                }
            }
            finally
            {
                gate.Waiting.TryRemove(from, out _);
                gate.One.Release();
            }
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
