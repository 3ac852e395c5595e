using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Renci.SshNet;
using Renci.SshNet.Common;
using Rosetta.Core.Domain;

namespace Rosetta.Core.Backends.Ssh;

/// <summary>How to log into a resource: the private key and the host key fingerprint pinned so far (null before the first connection).</summary>
public sealed record SshCredentials(IPrivateKeySource Key, string? PinnedFingerprint);

/// <summary>
/// One SSH connection to one computing resource, shared by every task there: commands and log
/// streams run as channels on it (bounded, so the server's MaxSessions is never exceeded), and task
/// interfaces are reached through local port forwards on 127.0.0.1. When the connection drops it is
/// re-established — by the next command, or at once in the background while tunnels are open — and
/// the tunnels come back on the same local ports, so the tasks' recorded endpoints stay valid.
/// </summary>
public sealed class SshConnection : IDisposable
{
    private readonly ComputingResource _computing;
    private readonly Func<CancellationToken, Task<SshCredentials>> _credentials;
    private readonly Func<string, CancellationToken, Task<string?>> _pinHostKey;
    private readonly SshOptions _options;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _connectGate = new(1, 1);
    private readonly SemaphoreSlim _commands;
    private readonly SemaphoreSlim _streams;
    /// <summary>One image pull at a time per host: a pull holds a command's place for minutes, and the others stay free for stops and polls.</summary>
    private readonly SemaphoreSlim _pulls = new(1, 1);
    private readonly Dictionary<string, Tunnel> _tunnels = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _disposed = new();
    private SshClient? _client;
    private SftpClient? _sftp;
    /// <summary>An SFTP client whose request went unanswered: never handed out again (see <see cref="GiveUp"/>).</summary>
    private volatile SftpClient? _sftpGivenUp;
    private readonly SemaphoreSlim _sftpGate = new(1, 1);
    /// <summary>The size of each SFTP read and write the platform asks for (see where the client is made).</summary>
    public const uint SftpBufferSize = 64 * 1024;
    private readonly System.Collections.Concurrent.ConcurrentQueue<Action<SftpClient>> _sftpLeftovers = new();
    private int _reconnecting;
    /// <summary>A client that stopped answering: never handed out again, disposed so what waits on it fails.</summary>
    private volatile SshClient? _givenUp;
    /// <summary>When the connection last answered (ticks of <see cref="Environment.TickCount64"/>).</summary>
    private long _lastAnswer;

    private readonly TunnelAdmission _admission;

    public SshConnection(ComputingResource computing, Func<CancellationToken, Task<SshCredentials>> credentials,
        Func<string, CancellationToken, Task<string?>> pinHostKey, SshOptions options, ILogger logger, TunnelAdmission admission)
    {
        _admission = admission;
        _computing = computing;
        _credentials = credentials;
        _pinHostKey = pinHostKey;
        _options = options;
        _logger = logger;
        _commands = new SemaphoreSlim(Math.Max(1, options.MaxCommands));
        _streams = new SemaphoreSlim(Math.Max(1, options.MaxStreams));
    }

    /// <summary>How many times this connection was (re)established: one per host and identity when all is well.</summary>
    public int Connects { get; private set; }

    public bool IsConnected => Live(_client) is not null;

    /// <summary>The client when it can be used: connected, and not given up by <see cref="WatchLivenessAsync"/> (whose client may be disposed).</summary>
    private SshClient? Live(SshClient? client) => client is not null && !ReferenceEquals(client, _givenUp) && client.IsConnected ? client : null;

    /// <summary>The SHA-256 fingerprint (OpenSSH base64) of the host key the server offered last.</summary>
    public string? HostKeyFingerprint { get; private set; }

    /// <summary>The host key each client was connected under (<see cref="ReconnectUnderNewPinAsync"/>).</summary>
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<BaseClient, string> _keys = new();

    /// <summary>Whether <paramref name="client"/> was connected under another key than <paramref name="pinned"/>.</summary>
    private bool ConnectedUnderAnotherKey(BaseClient client, string? pinned) => !_keys.TryGetValue(client, out var key) || key != pinned;

    /// <summary>
    /// Runs one command to its end; <paramref name="input"/>, when given, is its standard input (secrets travel this way,
    /// never on a command line). A short command may run <see cref="SshOptions.CommandTimeoutSeconds"/>; a long one
    /// (<paramref name="length"/>) <see cref="SshOptions.LongCommandTimeoutMinutes"/>, a pull one at a time per host. A
    /// command that runs longer, or prints more than <see cref="SshOptions.MaxCommandOutputMegabytes"/>, is ended and said to be.
    /// </summary>
    /// <remarks>SSH.NET sends no end-of-file for an input stream nothing was written to, so an empty input is refused rather than left hanging.</remarks>
    public async Task<RemoteResult> RunAsync(string command, string? input, CancellationToken ct, CommandLength length = CommandLength.Short)
    {
        if (input is { Length: 0 }) throw new ArgumentException("Standard input must not be empty; pass null for none.", nameof(input));
        // Its output is read as it comes, by reads that block a pool thread each (SSH.NET's streams have no asynchronous
        // read): the pool is made ready for that, as for tunnels.
        TunnelThreads.EnsureReady(_options.TunnelThreads);
        var isPull = length == CommandLength.Pull;
        if (isPull) await _pulls.WaitAsync(ct);
        try
        {
            var allowed = length == CommandLength.Short ? TimeSpan.FromSeconds(_options.CommandTimeoutSeconds) : TimeSpan.FromMinutes(_options.LongCommandTimeoutMinutes);
            return await RunInPlaceAsync(command, input, allowed, ct);
        }
        finally
        {
            if (isPull) _pulls.Release();
        }
    }

    private async Task<RemoteResult> RunInPlaceAsync(string command, string? input, TimeSpan allowed, CancellationToken ct)
    {
        await _commands.WaitAsync(ct);
        try
        {
            var client = await ConnectedAsync(ct);
            using var ends = CancellationTokenSource.CreateLinkedTokenSource(ct);
            ends.CancelAfter(allowed);
            var limit = (long)_options.MaxCommandOutputMegabytes << 20;
            var tooMuch = false;
            try
            {
                using var ssh = client.CreateCommand(command);
                var execution = ssh.ExecuteAsync(ends.Token);
                // Read as it comes, not left to SSH.NET's buffer, which keeps all of it: past the limit the command ends.
                void Overflowed()
                {
                    tooMuch = true;
                    ends.Cancel();
                }
                var output = CollectAsync(ssh.OutputStream, limit, Overflowed);
                var error = CollectAsync(ssh.ExtendedOutputStream, limit, Overflowed);
                if (input is not null)
                {
                    await using var stdin = ssh.CreateInputStream();
                    await stdin.WriteAsync(Encoding.UTF8.GetBytes(input), ends.Token);
                }
                await execution;
                Interlocked.Exchange(ref _lastAnswer, Environment.TickCount64);
                var (stdout, stderr) = (await output, await error);
                // Past the limit in what was left to read after the command ended: cut all the same, and said so.
                if (tooMuch) throw TooMuchOutput(command);
                return new RemoteResult(ssh.ExitStatus ?? -1, stdout, stderr);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw tooMuch ? TooMuchOutput(command)
                    : new BackendUnavailableException($"A command on {_computing.Address} did not finish within {allowed.TotalSeconds:0} s and was ended ({Shortened(command)}); is its container engine hanging?");
            }
            catch (Exception e) when (IsConnectionFailure(e) && !ct.IsCancellationRequested)
            {
                throw SshFailures.ConnectionLost(_computing, e);
            }
        }
        finally
        {
            _commands.Release();
        }
    }

    private BackendUnavailableException TooMuchOutput(string command) =>
        new($"A command on {_computing.Address} printed more than {_options.MaxCommandOutputMegabytes} MB and was ended ({Shortened(command)}).");

    private static string Shortened(string command) => command.Length > 80 ? command[..80] + "…" : command;

    /// <summary>A command's output stream read to its end as UTF-8 text; past <paramref name="limit"/> bytes, <paramref name="overflowed"/> and no more.</summary>
    private static async Task<string> CollectAsync(Stream stream, long limit, Action overflowed)
    {
        using var kept = new MemoryStream();
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer)) > 0)
            {
                if (kept.Length + read > limit)
                {
                    overflowed();
                    break;
                }
                kept.Write(buffer, 0, read);
            }
        }
        catch (Exception e) when (e is ObjectDisposedException or IOException)
        {
            // The command ended: what was read is all there is.
        }
        return Encoding.UTF8.GetString(kept.GetBuffer(), 0, (int)kept.Length);
    }

    /// <summary>
    /// Runs a long command and yields its output as it comes (true for standard error), until it ends or <paramref name="ct"/>
    /// fires. SSH.NET takes in what the host sends whether or not it is read, so output that comes faster than it is read
    /// waits in memory. A command that goes on without end (<paramref name="follows"/>: a followed log) is ended once
    /// <see cref="SshOptions.MaxCommandOutputMegabytes"/> wait, and the stream says so; one that ends by itself (a log
    /// read whole, for a download to a slow client) is let run, what waits being what it prints.
    /// </summary>
    public async IAsyncEnumerable<(bool IsError, byte[] Bytes)> StreamAsync(string command, bool follows, [EnumeratorCancellation] CancellationToken ct)
    {
        TunnelThreads.EnsureReady(_options.TunnelThreads); // its reads block a pool thread each, as RunAsync's do
        // Followers of a resource shared by many users can take every place: the next one is told so, not left waiting.
        if (!await _streams.WaitAsync(StreamPlaceWait, ct))
            throw new BackendUnavailableException($"All {_options.MaxStreams} long-running commands to {_computing.Address} are in use (other followed logs); " +
                "try again when one ends, or ask an admin to raise Rosetta:Ssh:MaxStreams (and the host's sshd MaxSessions).");
        try
        {
            var client = await ConnectedAsync(ct);
            using var ssh = client.CreateCommand(command);
            using var ends = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var output = Channel.CreateUnbounded<(bool, byte[])>(new UnboundedChannelOptions { SingleReader = true });
            var waiting = new Backlog(follows ? (long)_options.MaxCommandOutputMegabytes << 20 : long.MaxValue, ends);
            Task execution;
            try
            {
                execution = ssh.ExecuteAsync(ends.Token);
            }
            catch (Exception e) when (IsConnectionFailure(e))
            {
                throw SshFailures.ConnectionLost(_computing, e);
            }
            var readers = Task.WhenAll(PumpAsync(ssh.OutputStream, false, output.Writer, waiting, ends.Token),
                PumpAsync(ssh.ExtendedOutputStream, true, output.Writer, waiting, ends.Token));
            _ = readers.ContinueWith(_ => output.Writer.TryComplete(), TaskScheduler.Default);
            await foreach (var chunk in output.Reader.ReadAllAsync(ct))
            {
                waiting.Taken(chunk.Item2.Length);
                yield return chunk;
            }
            try
            {
                await execution;
            }
            catch (OperationCanceledException) when (waiting.Overflowed && !ct.IsCancellationRequested)
            {
            }
            catch (Exception e) when (IsConnectionFailure(e) && !ct.IsCancellationRequested)
            {
                throw SshFailures.ConnectionLost(_computing, e);
            }
            // Also when the command had ended by then: what was left to read was dropped, and the reader must know.
            if (waiting.Overflowed)
                throw new BackendUnavailableException(
                    $"The output from {_computing.Address} came faster than it was read: more than {_options.MaxCommandOutputMegabytes} MB waited, and the stream was ended.");
        }
        finally
        {
            _streams.Release();
        }
    }

    /// <summary>How long a stream waits for one of the <see cref="SshOptions.MaxStreams"/> places before it is refused.</summary>
    internal static readonly TimeSpan StreamPlaceWait = TimeSpan.FromSeconds(10);

    /// <summary>Bytes read from the host and not yet taken by the stream's reader; past the limit the command is ended.</summary>
    private sealed class Backlog(long limit, CancellationTokenSource ends)
    {
        private long _bytes;
        public bool Overflowed { get; private set; }

        public void Added(int bytes)
        {
            if (Interlocked.Add(ref _bytes, bytes) <= limit) return;
            Overflowed = true;
            ends.Cancel();
        }

        public void Taken(int bytes) => Interlocked.Add(ref _bytes, -bytes);
    }

    private static async Task PumpAsync(Stream stream, bool isError, ChannelWriter<(bool, byte[])> writer, Backlog waiting, CancellationToken ct)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, ct)) > 0)
            {
                waiting.Added(read);
                if (waiting.Overflowed) return;
                writer.TryWrite((isError, buffer[..read]));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or IOException)
        {
            // The command ended or was cancelled: what was read is all there is.
        }
    }

    /// <summary>
    /// Forwards a local port on 127.0.0.1 to <paramref name="remote"/> on the host, for task
    /// <paramref name="key"/>; asking again returns the same port.
    /// </summary>
    public async Task<TaskEndpoint> OpenTunnelAsync(string key, TaskEndpoint remote, CancellationToken ct)
    {
        TunnelThreads.EnsureReady(_options.TunnelThreads);
        var client = await ConnectedAsync(ct);
        lock (_tunnels)
        {
            // Given up since (a new host key trusted): nothing is started on it; the reconnection brings the tunnels back.
            if (!ReferenceEquals(client, _client) || ReferenceEquals(client, _givenUp))
                throw new BackendUnavailableException($"The SSH connection to {_computing.Address} is being made again; try again in a moment.");
            if (_tunnels.TryGetValue(key, out var open) && open.Remote == remote && open.Forward?.IsStarted == true)
                return open.Local;
            var previousPort = open?.Local.Port ?? 0;
            open?.Close();
            var tunnel = new Tunnel(remote, new TaskEndpoint("127.0.0.1", previousPort)) { Opened = ++_tunnelsOpened };
            tunnel.Start(client, _logger, _admission);
            _tunnels[key] = tunnel;
            return tunnel.Local;
        }
    }

    /// <summary>Closes the tunnel of <paramref name="key"/>; with <paramref name="openedUpTo"/>, only one opened no later than that mark.</summary>
    public void CloseTunnel(string key, long? openedUpTo = null)
    {
        lock (_tunnels)
        {
            if (!_tunnels.TryGetValue(key, out var tunnel) || tunnel.Opened > openedUpTo) return;
            _tunnels.Remove(key);
            tunnel.Close();
        }
    }

    public IReadOnlyCollection<string> TunnelKeys
    {
        get { lock (_tunnels) return _tunnels.Keys.ToList(); }
    }

    /// <summary>How many tunnels have been opened so far.</summary>
    private long _tunnelsOpened;

    /// <summary>
    /// A mark to take before a listing of the host's containers: a tunnel opened after it (a launch's, for a container
    /// the listing began too early to see running) is not the listing's to close (<see cref="CloseTunnel"/>).
    /// </summary>
    public long TunnelMark
    {
        get { lock (_tunnels) return _tunnelsOpened; }
    }

    /// <summary>The connected client, connecting (and pinning or checking the host key) when needed.</summary>
    private async Task<SshClient> ConnectedAsync(CancellationToken ct)
    {
        if (Live(_client) is { } connected) return connected;
        await _connectGate.WaitAsync(ct);
        try
        {
            if (Live(_client) is { } raced) return raced;
            ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
            var client = await ConnectNewAsync(ct);
            var previous = _client;
            if (previous is not null && ReferenceEquals(previous, _givenUp))
            {
                // Its forwarded ports held the tunnels' local ports through the outage; freed now, they are
                // bound again just below. Disposing fails what still waits on it (bounded: its socket is dead).
                await Task.WhenAny(Task.Run(previous.Dispose, CancellationToken.None), Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None));
            }
            _client = client;
            Connects++;
            lock (_tunnels)
            {
                foreach (var (key, tunnel) in _tunnels)
                {
                    try
                    {
                        tunnel.Start(client, _logger, _admission);
                    }
                    catch (Exception e) when (e is System.Net.Sockets.SocketException or SshException)
                    {
                        _logger.LogWarning(e, "Could not restore the tunnel of task {TaskId} on port {Port}", key, tunnel.Local.Port);
                        tunnel.Park(_logger); // its port stays the task's
                    }
                }
            }
            if (!ReferenceEquals(previous, _givenUp)) previous?.Dispose();
            Interlocked.Exchange(ref _lastAnswer, Environment.TickCount64);
            _ = Task.Run(() => WatchLivenessAsync(client), CancellationToken.None);
            return client;
        }
        finally
        {
            _connectGate.Release();
        }
    }

    private async Task<SshClient> ConnectNewAsync(CancellationToken ct)
    {
        var client = await ConnectClientAsync(info => new SshClient(info) { KeepAliveInterval = TimeSpan.FromSeconds(_options.KeepAliveSeconds) }, ct);
        client.ErrorOccurred += (_, e) => OnConnectionError(e.Exception);
        return client;
    }

    /// <summary>
    /// The SFTP client of this resource: the same login, key and pinned host key as the shared
    /// connection. SSH.NET cannot open an SFTP subsystem on an existing client's session (no public
    /// API), so this is a second connection, kept and shared by every storage operation here.
    /// </summary>
    public async Task<SftpClient> SftpAsync(CancellationToken ct)
    {
        if (_sftp is { } current && IsUsable(current) && !ReferenceEquals(current, _sftpGivenUp)) return current;
        await _sftpGate.WaitAsync(ct);
        try
        {
            if (_sftp is { } raced && IsUsable(raced) && !ReferenceEquals(raced, _sftpGivenUp)) return raced;
            ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
            // Forgotten before reconnecting: a failed attempt must not leave a disposed client here
            // (its IsConnected throws, which turned every later request into a 500; found by the tests).
            _sftp?.Dispose();
            _sftp = null;
            _sftp = await ConnectClientAsync(info => new SftpClient(info)
            {
                KeepAliveInterval = TimeSpan.FromSeconds(_options.KeepAliveSeconds),
                // Reads of 64 KiB instead of SSH.NET's 32 KiB: a probe against the demo sshd read
                // 101-191 MiB/s against 73-109 (256 KiB was no better); writes stay capped by the packet size.
                BufferSize = SftpBufferSize,
                // Each SFTP request's answer; unset, a connection a firewall silently dropped hangs a storage
                // operation until TCP gives up (some 15 minutes).
                OperationTimeout = TimeSpan.FromSeconds(Math.Max(1, _options.DeadAfterSeconds)),
            }, ct);
            RemoveLeftovers(_sftp);
            return _sftp;
        }
        finally
        {
            _sftpGate.Release();
        }
    }

    /// <summary>
    /// An SFTP request of <paramref name="sftp"/> went unanswered for <see cref="SshOptions.DeadAfterSeconds"/>:
    /// the client is disposed (what else waits on it fails) and the next operation connects anew.
    /// </summary>
    public void GiveUp(SftpClient sftp)
    {
        _sftpGivenUp = sftp;
        _logger.LogWarning("SFTP connection to {Host}:{Port} did not answer within {Seconds} s; the next operation makes a new one",
            _computing.Host, _computing.Port, _options.DeadAfterSeconds);
        _ = Task.Run(sftp.Dispose, CancellationToken.None); // may wait on its dead socket
    }

    /// <summary>
    /// Another host key was trusted for the resource: what is connected was checked against the one before. Both
    /// clients are given up at once, the tunnels stop carrying anything but keep their local ports (parked: the
    /// tasks' records name them, and nothing else may take them meanwhile), and the connection is made again,
    /// checked against the new pin: at once when tunnels are open (they run again on their ports), else with the
    /// next command. A host that does not offer the new key is refused, as any changed key is.
    /// </summary>
    /// <param name="pinned">The key now pinned: a client connected under it meanwhile (a reconnection that read the new pin) is kept.</param>
    public async Task ReconnectUnderNewPinAsync(string? pinned)
    {
        // Under the gates: a connection being made now was checked against the key before, and is given up after.
        var gaveUp = false;
        await _connectGate.WaitAsync();
        try
        {
            if (_client is { } client && ConnectedUnderAnotherKey(client, pinned))
            {
                gaveUp = true;
                _givenUp = client;
                // First the client, which ends its session and so its forwards' channels at once (a forward stopped on
                // a live session waits for each open channel), bounded: a reinstalled host's old socket may be dead.
                await Task.WhenAny(Task.Run(client.Dispose, CancellationToken.None), Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None));
                lock (_tunnels)
                {
                    foreach (var tunnel in _tunnels.Values) tunnel.Park(_logger);
                }
            }
        }
        finally
        {
            _connectGate.Release();
        }
        await _sftpGate.WaitAsync();
        try
        {
            if (_sftp is { } sftp && ConnectedUnderAnotherKey(sftp, pinned))
            {
                _sftpGivenUp = sftp;
                _ = Task.Run(sftp.Dispose, CancellationToken.None);
            }
        }
        finally
        {
            _sftpGate.Release();
        }
        if (gaveUp) OnConnectionError(new SshConnectionException("Another host key was trusted."));
    }

    /// <summary>Whether an SFTP client can be used: connected, and not disposed by a reconnection meanwhile.</summary>
    public static bool IsUsable(SftpClient sftp)
    {
        try
        {
            return sftp.IsConnected;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>
    /// Asks for <paramref name="cleanUp"/> to run on the next SFTP connection: a transfer cut off by a
    /// lost connection leaves its temporary file on the host, which cannot be removed until the host
    /// is back. Kept in memory only (listings hide such files anyway).
    /// </summary>
    public void AfterReconnect(Action<SftpClient> cleanUp) => _sftpLeftovers.Enqueue(cleanUp);

    /// <summary>Who this connection logs in as, and where, for messages (user@host:port).</summary>
    public string Login => $"{_computing.Username}@{_computing.Address}";

    /// <summary>The error a caller sees when this connection broke under an operation (the API answers 503).</summary>
    public BackendUnavailableException ConnectionLost(Exception e) => SshFailures.ConnectionLost(_computing, e);

    private void RemoveLeftovers(SftpClient sftp)
    {
        while (_sftpLeftovers.TryDequeue(out var cleanUp))
        {
            try
            {
                cleanUp(sftp);
            }
            catch (Exception e) when (e is SshException or System.Net.Sockets.SocketException or IOException or ObjectDisposedException or ConflictException)
            {
                _logger.LogWarning("Could not remove a transfer's leftover on {Host}: {Reason}", _computing.Host, e.Message);
            }
        }
    }

    private async Task<T> ConnectClientAsync<T>(Func<ConnectionInfo, T> create, CancellationToken ct) where T : BaseClient
    {
        var credentials = await _credentials(ct);
        var user = _computing.Username ?? "";
        var info = new ConnectionInfo(_computing.Host ?? "", _computing.Port, user, new PrivateKeyAuthenticationMethod(user, credentials.Key))
        {
            Timeout = TimeSpan.FromSeconds(_options.ConnectTimeoutSeconds),
        };
        SshCiphers.PreferFastest(info);
        var client = create(info);
        string? offered = null;
        client.HostKeyReceived += (_, e) =>
        {
            offered = e.FingerPrintSHA256;
            e.CanTrust = credentials.PinnedFingerprint is null || credentials.PinnedFingerprint == offered;
        };
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(_options.ConnectTimeoutSeconds));
            await client.ConnectAsync(timeout.Token);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            client.Dispose();
            if (credentials.PinnedFingerprint is { } pinned && offered is not null && offered != pinned)
                throw SshFailures.HostKeyChanged(_computing, pinned, offered);
            throw SshFailures.Connect(_computing, e, _options.ConnectTimeoutSeconds);
        }
        catch
        {
            client.Dispose();
            throw;
        }

        if (credentials.PinnedFingerprint is null && offered is not null)
        {
            // Another connection to the resource (commands and SFTP connect separately) may have pinned a key
            // since the credentials were read: this one is kept only if it was offered the same.
            string? pinned;
            try
            {
                pinned = await _pinHostKey(offered, ct);
            }
            catch
            {
                client.Dispose();
                throw;
            }
            if (pinned is not null && pinned != offered)
            {
                client.Dispose();
                throw SshFailures.HostKeyChanged(_computing, pinned, offered);
            }
            _logger.LogInformation("Pinned the host key SHA256:{Fingerprint} of {Host}:{Port}", offered, _computing.Host, _computing.Port);
        }
        HostKeyFingerprint = offered;
        if (offered is not null) _keys.AddOrUpdate(client, offered);
        return client;
    }

    /// <summary>
    /// Asks a connection that has been quiet for <see cref="SshOptions.KeepAliveSeconds"/> to run
    /// <c>true</c>; with no answer within <see cref="SshOptions.DeadAfterSeconds"/> it is given up:
    /// disposed, so commands and streams waiting on it fail (and their callers retry on a new one), and
    /// with tunnels open a new connection is made at once.
    /// </summary>
    private async Task WatchLivenessAsync(SshClient client)
    {
        var quiet = TimeSpan.FromSeconds(Math.Max(1, _options.KeepAliveSeconds));
        try
        {
            while (ReferenceEquals(_client, client) && Live(client) is not null)
            {
                var idle = TimeSpan.FromMilliseconds(Environment.TickCount64 - Interlocked.Read(ref _lastAnswer));
                await Task.Delay(idle >= quiet ? quiet : quiet - idle, _disposed.Token);
                if (Environment.TickCount64 - Interlocked.Read(ref _lastAnswer) < quiet.TotalMilliseconds) continue;
                // On the thread pool: SSH.NET opens the command's channel synchronously, blocking until its own timeout.
                var answered = Task.Run(async () =>
                {
                    using var probe = client.CreateCommand("true");
                    await probe.ExecuteAsync(_disposed.Token);
                }, CancellationToken.None);
                await Task.WhenAny(answered, Task.Delay(TimeSpan.FromSeconds(Math.Max(1, _options.DeadAfterSeconds)), _disposed.Token));
                if (Answered(answered))
                {
                    Interlocked.Exchange(ref _lastAnswer, Environment.TickCount64);
                    continue;
                }
                _disposed.Token.ThrowIfCancellationRequested();
                _ = answered.ContinueWith(t => t.Exception, TaskScheduler.Default); // observed: its failure is this one
                _logger.LogWarning("SSH connection to {Host}:{Port} did not answer within {Seconds} s; making a new one",
                    _computing.Host, _computing.Port, _options.DeadAfterSeconds);
                _givenUp = client;
                // With tunnels, the client is disposed only once they run on its successor (ConnectedAsync): its
                // forwarded ports hold the tasks' local ports, which nothing else may take meanwhile.
                if (TunnelKeys.Count == 0) _ = Task.Run(client.Dispose, CancellationToken.None);
                OnConnectionError(new SshConnectionException("The connection stopped answering."));
                return;
            }
        }
        catch (OperationCanceledException)
        {
            // This connection object was disposed.
        }
    }

    /// <summary>
    /// Whether the probe got an answer: it ran, or the server refused it (a channel refused because
    /// sshd's MaxSessions is reached is an answer too). Timeouts and connection failures are not.
    /// </summary>
    private static bool Answered(Task probe) =>
        probe.IsCompletedSuccessfully
        || probe.IsFaulted && probe.Exception!.InnerException is SshException e && e is not SshOperationTimeoutException && !IsConnectionFailure(e);

    /// <summary>The connection broke: with tunnels open, reconnect now rather than at the next command, so interfaces come back by themselves.</summary>
    private void OnConnectionError(Exception e)
    {
        _logger.LogWarning("SSH connection to {Host}:{Port} failed: {Reason}", _computing.Host, _computing.Port, e.Message);
        if (Interlocked.Exchange(ref _reconnecting, 1) == 1) return;
        _ = Task.Run(async () =>
        {
            try
            {
                var delay = TimeSpan.FromMilliseconds(250);
                while (!_disposed.IsCancellationRequested && TunnelKeys.Count > 0 && !IsConnected)
                {
                    try
                    {
                        await Task.Delay(delay, _disposed.Token);
                        await ConnectedAsync(_disposed.Token);
                        _logger.LogInformation("SSH connection to {Host}:{Port} re-established", _computing.Host, _computing.Port);
                    }
                    catch (BackendUnavailableException retry)
                    {
                        _logger.LogDebug("Reconnecting to {Host}: {Reason}", _computing.Host, retry.Message);
                        delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 5000));
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
            finally
            {
                Interlocked.Exchange(ref _reconnecting, 0);
            }
        });
    }

    private static bool IsConnectionFailure(Exception e) =>
        e is SshConnectionException or System.Net.Sockets.SocketException or ObjectDisposedException or IOException
            || e is SshException && e.Message.Contains("not connected", StringComparison.OrdinalIgnoreCase);

    public void Dispose()
    {
        _disposed.Cancel();
        lock (_tunnels)
        {
            foreach (var tunnel in _tunnels.Values) tunnel.Close();
            _tunnels.Clear();
        }
        _client?.Dispose();
        _sftp?.Dispose();
    }

    /// <summary>A local port forward; keeps its local port across reconnections.</summary>
    private sealed class Tunnel(TaskEndpoint remote, TaskEndpoint local)
    {
        /// <summary>The <see cref="TunnelMark"/> its opening made.</summary>
        public long Opened { get; init; }
        public TaskEndpoint Remote { get; } = remote;
        public TaskEndpoint Local { get; private set; } = local;
        public ForwardedPortLocal? Forward { get; private set; }

        private TunnelAdmission? _admission;
        private TunnelAdmission.Gate? _admitted;
        /// <summary>Holds the local port while the tunnel may not run (<see cref="Park"/>).</summary>
        private System.Net.Sockets.TcpListener? _parked;

        public void Start(SshClient client, ILogger logger, TunnelAdmission admission)
        {
            Close();
            var forward = new ForwardedPortLocal(Local.Host, (uint)Local.Port, Remote.Host, (uint)Remote.Port);
            forward.Exception += (_, e) => logger.LogDebug(e.Exception, "Tunnel to {Host}:{Port}", Remote.Host, Remote.Port);
            client.AddForwardedPort(forward);
            forward.Start();
            Forward = forward;
            Local = new TaskEndpoint(Local.Host, (int)forward.BoundPort);
            var port = Local.Port;
            forward.RequestReceived += (_, e) => admission.Taken(port, (int)e.OriginatorPort);
            _admitted = admission.Opened(port);
            _admission = admission;
        }

        /// <summary>
        /// Stops forwarding but keeps the local port: a listener takes it and closes whatever connects, until
        /// <see cref="Start"/> or <see cref="Close"/>. The task's record names the port; another socket on it would be
        /// reached in the task's name.
        /// </summary>
        public void Park(ILogger logger)
        {
            Close();
            var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.TryParse(Local.Host, out var address) ? address : System.Net.IPAddress.Loopback, Local.Port);
            try
            {
                listener.Start();
            }
            catch (System.Net.Sockets.SocketException e)
            {
                logger.LogWarning(e, "Could not hold port {Port} of a stopped tunnel", Local.Port);
                return;
            }
            _parked = listener;
            _ = RefuseAsync(listener);
        }

        private static async Task RefuseAsync(System.Net.Sockets.TcpListener listener)
        {
            try
            {
                while (true)
                {
                    using var refused = await listener.AcceptSocketAsync();
                }
            }
            catch (Exception e) when (e is System.Net.Sockets.SocketException or ObjectDisposedException or InvalidOperationException)
            {
                // Stopped: the port goes back to the tunnel.
            }
        }

        public void Close()
        {
            if (Interlocked.Exchange(ref _parked, null) is { } parked) parked.Stop();
            if (Forward is not { } forward) return;
            Forward = null;
            if (_admitted is { } admitted) _admission?.Closed(Local.Port, admitted);
            _admitted = null;
            try
            {
                if (forward.IsStarted) forward.Stop();
            }
            catch (Exception e) when (e is SshException or ObjectDisposedException or InvalidOperationException)
            {
                // The client under it is already gone.
            }
            forward.Dispose();
        }
    }
}

/// <summary>How long a remote command may run (<see cref="SshOptions"/>): a short one, or a long one (a pull, one at a time per host; a tree's first grant).</summary>
public enum CommandLength { Short, Long, Pull }
