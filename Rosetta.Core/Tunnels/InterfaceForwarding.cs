using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Rosetta.Core.Accounts;
using Rosetta.Core.Backends;
using Rosetta.Core.Backends.Ssh;
using Rosetta.Core.Domain;
using Rosetta.Core.Monitoring;
using Rosetta.Core.Streaming;

namespace Rosetta.Core.Tunnels;

/// <summary>Configuration section <c>Rosetta:Forwarding</c>: where non-HTTP interfaces are offered.</summary>
public sealed class ForwardingOptions
{
    /// <summary>Address the forwarded ports listen on (loopback by default; a public address to offer SSH to users).</summary>
    public string BindAddress { get; set; } = "127.0.0.1";
    /// <summary>Host name users connect to; the bind address when empty.</summary>
    public string? PublicHost { get; set; }
    public int PortRangeStart { get; set; } = 20000;
    public int PortRangeEnd { get; set; } = 20999;
    /// <summary>How long a task waits, after a restart, for its port to be free again before it gets another.</summary>
    public int PreviousPortWaitSeconds { get; set; } = 120;
}

/// <summary>
/// Gives every running task with a non-HTTP interface (protocol <c>ssh</c>) a TCP port on the platform
/// host from the configured range, forwarding to the task. The port is recorded on the task, so a
/// platform restart binds the same one again; it is released when the task ends.
/// </summary>
public sealed class InterfaceForwarding(TaskMonitor monitor, TunnelAdmission connections, AccountEnds accountEnds, IOptions<ForwardingOptions> options,
    ILogger<InterfaceForwarding> logger) : BackgroundService
{
    private readonly ForwardingOptions _options = options.Value;
    private readonly ConcurrentDictionary<string, TcpForwarder> _forwarders = new();

    public string PublicHost => string.IsNullOrWhiteSpace(_options.PublicHost) ? _options.BindAddress : _options.PublicHost;

    private CancellationToken _stopping;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        var subscription = monitor.Subscribe(null, stoppingToken);
        foreach (var task in subscription.Initial) await TryApplyAsync(task, deleted: false);
        try
        {
            await foreach (var batch in subscription.Changes.WithCancellation(stoppingToken))
            {
                foreach (var change in batch) await TryApplyAsync(change.Item, change.Kind == ChangeKind.Delete);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        foreach (var id in _forwarders.Keys) await ReleaseAsync(id);
    }

    /// <summary>One task's failure (its port not recorded: the database busy or full) must not end the forwarding of all.</summary>
    private async Task TryApplyAsync(TaskRecord task, bool deleted)
    {
        try
        {
            await ApplyAsync(task, deleted);
        }
        catch (Exception e) when (e is not OperationCanceledException || !_stopping.IsCancellationRequested)
        {
            logger.LogError(e, "The interface forwarding of task {TaskId} could not be brought up to date", task.Id);
        }
    }

    private async Task ApplyAsync(TaskRecord task, bool deleted)
    {
        if (task.InterfaceProtocol == InterfaceProtocol.Http) return;
        var wanted = !deleted && task.Status is TaskState.Running or TaskState.Starting && task.InterfacePort is not null;
        if (!wanted)
        {
            await ReleaseAsync(task.Id);
            return;
        }
        if (_forwarders.ContainsKey(task.Id) || _waitingForPort.ContainsKey(task.Id)) return;

        var forwarder = Bind(task, keepPrevious: true);
        if (forwarder is null)
        {
            if (task.ForwardedPort is { } previous) WaitForPreviousPort(task.Id, previous);
            return;
        }
        await ServeAsync(task.Id, forwarder);
    }

    private async Task ServeAsync(string taskId, TcpForwarder forwarder)
    {
        _forwarders[taskId] = forwarder;
        if (monitor.Get(taskId)?.ForwardedPort != forwarder.Port)
            await monitor.UpdateAsync(taskId, t => { t.ForwardedPort = forwarder.Port; return true; });
        logger.LogInformation("Task {TaskId} interface forwarded on {Address}:{Port}", taskId, _options.BindAddress, forwarder.Port);
    }

    /// <summary>Tasks whose port is still held (the previous platform process is shutting down), until they get it back or another.</summary>
    private readonly ConcurrentDictionary<string, Task> _waitingForPort = new();

    /// <summary>
    /// Users keep a task's port in their SSH commands and configs: after a restart it is the same one.
    /// The previous platform process may hold it for a while yet (it closes its open connections first),
    /// so the port is asked for again each second for <see cref="ForwardingOptions.PreviousPortWaitSeconds"/>
    /// before the task gets another.
    /// </summary>
    private void WaitForPreviousPort(string taskId, int port)
    {
        logger.LogInformation("Port {Port} of task {TaskId} is still in use; asking for it again", port, taskId);
        _waitingForPort[taskId] = Task.Run(async () =>
        {
            try
            {
                var giveUp = DateTime.UtcNow.AddSeconds(_options.PreviousPortWaitSeconds);
                while (!_stopping.IsCancellationRequested)
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), _stopping);
                    if (monitor.Get(taskId) is not { Status: TaskState.Running or TaskState.Starting } task) return;
                    var forwarder = Bind(task, keepPrevious: DateTime.UtcNow < giveUp);
                    if (forwarder is not null)
                    {
                        await ServeAsync(taskId, forwarder);
                        // Ended meanwhile: its change may have been seen before the forwarder was there to release.
                        if (monitor.Get(taskId) is not { Status: TaskState.Running or TaskState.Starting }) await ReleaseAsync(taskId);
                        return;
                    }
                    if (DateTime.UtcNow >= giveUp)
                    {
                        // The whole range is taken (logged by Bind): the task must not go on showing a port someone else holds.
                        await monitor.UpdateAsync(taskId, t => { t.ForwardedPort = null; return true; });
                        return;
                    }
                }
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
            }
            finally
            {
                _waitingForPort.TryRemove(taskId, out _);
            }
        });
    }

    /// <summary>
    /// The port the task had before (after a restart), only that one while <paramref name="keepPrevious"/>;
    /// else the first free one of the range that no other task has (their ports may be waited for).
    /// </summary>
    private TcpForwarder? Bind(TaskRecord task, bool keepPrevious)
    {
        var address = IPAddress.Parse(_options.BindAddress);
        var id = task.Id;
        // Looked up for each connection: none once the task has ended (its address may be another's by then), nor before
        // this process has seen where the task is (InterfaceOf), nor while its owner's account is disabled. A connection
        // made ends with that account, as the proxy's do.
        ForwardTarget? Target()
        {
            if (monitor.Get(id) is not { } current || monitor.InterfaceOf(current) is not { } endpoint) return null;
            var ownerEnd = accountEnds.EndOf(current.OwnerId);
            return ownerEnd.IsCancellationRequested ? null : new ForwardTarget(endpoint, ownerEnd);
        }

        var othersPorts = monitor.Feed.Items.Values
            .Where(t => t.Id != id && t.ForwardedPort is not null && t.Status is TaskState.Running or TaskState.Starting)
            .Select(t => t.ForwardedPort!.Value).ToHashSet();
        IEnumerable<int> candidates = task.ForwardedPort is { } previous && keepPrevious
            ? [previous]
            : Enumerable.Range(_options.PortRangeStart, _options.PortRangeEnd - _options.PortRangeStart + 1)
                .Where(p => !othersPorts.Contains(p) && !_forwarders.Values.Any(f => f.Port == p));
        foreach (var port in candidates)
        {
            try
            {
                return TcpForwarder.Start(address, port, Target, connections, logger);
            }
            catch (SocketException)
            {
                // Taken by something else: try the next one.
            }
        }
        if (keepPrevious && task.ForwardedPort is not null) return null;
        logger.LogError("No free port in {Start}-{End} for task {TaskId}", _options.PortRangeStart, _options.PortRangeEnd, task.Id);
        return null;
    }

    private async Task ReleaseAsync(string taskId)
    {
        if (_forwarders.TryRemove(taskId, out var forwarder)) await forwarder.DisposeAsync();
    }
}
