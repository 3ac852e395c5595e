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
    private readonly HubOutboxes _outboxes = new(SendTimeout, logger);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var subscription = monitor.Subscribe(null, stoppingToken);
        try
        {
            await foreach (var batch in subscription.Changes.WithCancellation(stoppingToken))
            {
                foreach (var change in batch)
                {
                    try
                    {
                        Post(change);
                    }
                    catch (Exception e)
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

    /// <summary>Queues a change for its owner's connections (a failure here is logged by the caller, and the next change goes on).</summary>
    private void Post(Change<Rosetta.Core.Domain.TaskRecord> change)
    {
        var owner = hub.Clients.User(change.Item.OwnerId);
        if (change.Kind == ChangeKind.Delete)
        {
            _outboxes.Post(change.Item.OwnerId, change.Key, () => owner.TaskDeleted(change.Key));
        }
        else
        {
            var task = mapper.Map(change.Item);
            _outboxes.Post(change.Item.OwnerId, change.Key, () => owner.TaskChanged(task));
        }
    }
}
