using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
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
}

/// <summary>
/// Gives every running task with a non-HTTP interface (protocol <c>ssh</c>) a TCP port on the platform
/// host from the configured range, forwarding to the task. The port is recorded on the task, so a
/// platform restart binds the same one again; it is released when the task ends.
/// </summary>
public sealed class InterfaceForwarding(TaskMonitor monitor, TunnelAdmission connections, IOptions<ForwardingOptions> options, ILogger<InterfaceForwarding> logger) : BackgroundService
{
    private readonly ForwardingOptions _options = options.Value;
    private readonly ConcurrentDictionary<string, TcpForwarder> _forwarders = new();

    public string PublicHost => string.IsNullOrWhiteSpace(_options.PublicHost) ? _options.BindAddress : _options.PublicHost;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var subscription = monitor.Subscribe(null, stoppingToken);
        foreach (var task in subscription.Initial) await ApplyAsync(task, deleted: false);
        try
        {
            await foreach (var batch in subscription.Changes.WithCancellation(stoppingToken))
            {
                foreach (var change in batch) await ApplyAsync(change.Item, change.Kind == ChangeKind.Delete);
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

    private async Task ApplyAsync(TaskRecord task, bool deleted)
    {
        if (task.InterfaceProtocol == InterfaceProtocol.Http) return;
        var wanted = !deleted && task.Status is TaskState.Running or TaskState.Starting && task.InterfacePort is not null;
        if (!wanted)
        {
            await ReleaseAsync(task.Id);
            return;
        }
        if (_forwarders.ContainsKey(task.Id)) return;

        var forwarder = Bind(task);
        if (forwarder is null) return;
        _forwarders[task.Id] = forwarder;
        if (task.ForwardedPort != forwarder.Port)
            await monitor.UpdateAsync(task.Id, t => { t.ForwardedPort = forwarder.Port; return true; });
        logger.LogInformation("Task {TaskId} interface forwarded on {Address}:{Port}", task.Id, _options.BindAddress, forwarder.Port);
    }

    /// <summary>The port the task had before (after a restart), else the first free one of the range.</summary>
    private TcpForwarder? Bind(TaskRecord task)
    {
        var address = IPAddress.Parse(_options.BindAddress);
        var id = task.Id;
        TaskEndpoint? Target() => monitor.Get(id) is { InterfaceHost: { } host, InterfacePort: { } port } ? new TaskEndpoint(host, port) : null;

        var candidates = Enumerable.Range(_options.PortRangeStart, _options.PortRangeEnd - _options.PortRangeStart + 1)
            .Where(p => !_forwarders.Values.Any(f => f.Port == p));
        if (task.ForwardedPort is { } previous) candidates = candidates.Prepend(previous);
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
        logger.LogError("No free port in {Start}-{End} for task {TaskId}", _options.PortRangeStart, _options.PortRangeEnd, task.Id);
        return null;
    }

    private async Task ReleaseAsync(string taskId)
    {
        if (_forwarders.TryRemove(taskId, out var forwarder)) await forwarder.DisposeAsync();
    }
}
