namespace Rosetta.Core.Backends.Ssh;

/// <summary>
/// SSH.NET serves each connection through a local port forward on a thread-pool thread that it blocks
/// for the connection's whole life (the accept callback opens the channel, then runs a blocking read
/// loop). Desktops and notebooks behind tunnels hold connections open for hours, and beyond its minimum
/// the pool adds threads about one a second: with a few dozen such connections, everything else the
/// platform runs on the pool (pages, the API, the proxy) would wait behind them. So, once tunnels are in
/// use, the pool keeps <see cref="SshOptions.TunnelThreads"/> threads that start at once.
/// </summary>
internal static class TunnelThreads
{
    private static int _ensured;

    public static void EnsureReady(int minimum)
    {
        if (Interlocked.Exchange(ref _ensured, 1) == 1) return;
        ThreadPool.GetMinThreads(out var workers, out var completionPorts);
        if (workers < minimum) ThreadPool.SetMinThreads(minimum, completionPorts);
    }
}
