using Rosetta.Core.Domain;
using Rosetta.Core.Tasks;
using Rosetta.Tests.Components;

namespace Rosetta.Tests.Unit;

/// <summary>
/// The monitor's stop calls off all it began, including what began before its background loop ran: the host
/// runs that loop on another thread after the start has returned, so a launch may come first.
/// </summary>
public sealed class TaskMonitorStopTests
{
    [Fact]
    public async Task ALaunchBegunBeforeTheMonitorsLoopRunsIsCalledOffByTheStop()
    {
        var ssh = new DashboardTestContext.FakeBackend(ComputingKind.Ssh);
        using var ctx = new DashboardTestContext(moreBackends: [ssh], startMonitor: false);
        var lab = new ComputingResource { Id = "lab", Name = "Lab host", Kind = ComputingKind.Ssh };
        var task = new TaskRecord { Id = TaskIds.New(), OwnerId = DashboardTestContext.UserId, Name = "early", SoftwareId = "hello", ComputingId = lab.Id };

        // The launch starts its resource's watch loop, which waits on the engine's listing until called off.
        ctx.Monitor.BeginLaunch(task, lab, new Software { Id = "hello", Name = "hello", Image = "rosetta/hello:latest" }, null);
        await ssh.WatcherListed.WaitAsync(TimeSpan.FromSeconds(30));
        await ctx.Monitor.StartAsync(CancellationToken.None);

        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await ctx.Monitor.StopAsync(limit.Token);
        Assert.True(ssh.WatcherEnded.IsCompleted, "the watch loop of the early launch's resource was not called off");
        Assert.True(ctx.Monitor.ExecuteTask!.IsCompleted, "the monitor's stop did not finish");
    }
}
