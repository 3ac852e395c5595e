using Rosetta.Core.Backends;
using Rosetta.Core.Domain;
using Rosetta.Core.Persistence;
using Rosetta.Tests.Components;

namespace Rosetta.Tests.Unit;

/// <summary>
/// A resource that could not be reached is tried again after a back-off of up to Rosetta:Tasks:MaxReconnectDelaySeconds.
/// When what kept it away is mended (a new host key trusted), it is tried at once: its state follows within a moment.
/// </summary>
public sealed class TaskMonitorRetryTests
{
    [Fact]
    public async Task AResourceWaitingOutItsBackOffIsTriedAgainAtOnceWhenAsked()
    {
        using var ctx = new DashboardTestContext(startMonitor: false, tasks: new() { MaxReconnectDelaySeconds = 60 });
        var listings = 0;
        var answers = false;
        ctx.Backend.Listing = _ =>
        {
            Interlocked.Increment(ref listings);
            return Volatile.Read(ref answers)
                ? Task.FromResult<IReadOnlyList<ObservedContainer>>([])
                : Task.FromException<IReadOnlyList<ObservedContainer>>(new BackendUnavailableException("The host key is not the one pinned."));
        };
        await ctx.Monitor.StartAsync(CancellationToken.None);
        var local = BundledCatalogue.LocalComputing();

        // Five failures: 0.5 + 1 + 2 + 4 s of back-off behind it, 8 s ahead.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (Volatile.Read(ref listings) < 5 && !timeout.IsCancellationRequested) await Task.Delay(20);
        Assert.Equal(5, Volatile.Read(ref listings));
        await Task.Delay(200); // into the pause
        Assert.Equal(ComputingState.Unreachable, ctx.Monitor.StateOf(local).State);

        Volatile.Write(ref answers, true);
        ctx.Monitor.RetryNow(local.Id);
        var asked = DateTime.UtcNow;
        while (ctx.Monitor.StateOf(local).State != ComputingState.Available && DateTime.UtcNow - asked < TimeSpan.FromSeconds(5)) await Task.Delay(20);
        Assert.Equal(ComputingState.Available, ctx.Monitor.StateOf(local).State);
    }
}
