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
                        if (change.Kind == ChangeKind.Delete) await owner.TaskDeleted(change.Key);
                        else await owner.TaskChanged(mapper.Map(change.Item));
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
