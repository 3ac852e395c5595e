using Microsoft.AspNetCore.SignalR;
using Rosetta.App.Api;
using Rosetta.Core.Monitoring;
using Rosetta.Core.Streaming;

namespace Rosetta.App.Hubs;

/// <summary>
/// Relays the monitor's change stream to hub clients, each change only to its owner's connections
/// (SignalR's user id is the NameIdentifier claim, i.e. the owner id).
/// </summary>
public sealed class TaskHubPublisher(TaskMonitor monitor, IHubContext<TaskHub, ITaskHubClient> hub, TaskDtoMapper mapper,
    ILogger<TaskHubPublisher> logger) : BackgroundService
{
    private static readonly TimeSpan SendTimeout = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var subscription = monitor.Subscribe(null, stoppingToken);
        try
        {
            await foreach (var batch in subscription.Changes.WithCancellation(stoppingToken))
            {
                foreach (var change in batch)
                {
                    var owner = hub.Clients.User(change.Item.OwnerId);
                    try
                    {
                        var send = change.Kind == ChangeKind.Delete ? owner.TaskDeleted(change.Key) : owner.TaskChanged(mapper.Map(change.Item));
                        // A client that stops reading (a frozen tab, a dead link, on purpose) must not hold up
                        // everyone else's updates: its own wait on; SignalR drops it at its client timeout.
                        await send.WaitAsync(SendTimeout, stoppingToken);
                    }
                    catch (TimeoutException)
                    {
                        logger.LogWarning("A hub client of user {UserId} is not reading; task {TaskId}'s change goes on without waiting", change.Item.OwnerId, change.Key);
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        logger.LogWarning(e, "Could not notify hub clients of task {TaskId}", change.Key);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
