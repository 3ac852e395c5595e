using Rosetta.Core.Storages;

namespace Rosetta.Tests.Unit;

/// <summary>Usage for display: one walk at a time, and those who asked during a walk share the next one.</summary>
public sealed class UsageWalksTests
{
    [Fact]
    public async Task ABurstOfAsksCostsAtMostTwoWalksAndEveryoneGetsAFreshMeasure()
    {
        var root = "/walks/" + Guid.NewGuid().ToString("N");
        var walks = 0;
        var firstWalking = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        long? Walk()
        {
            var n = Interlocked.Increment(ref walks);
            if (n == 1)
            {
                firstWalking.SetResult();
                release.Task.Wait();
            }
            return n * 100;
        }

        var first = Task.Run(() => UsageWalks.MeasureAsync(root, Walk, CancellationToken.None));
        List<Task<long?>> during;
        try
        {
            await firstWalking.Task.WaitAsync(TimeSpan.FromSeconds(10));
            // Asked while the first walk ran: that walk may have missed what they changed, so they get the next one, together.
            during = Enumerable.Range(0, 10).Select(_ => UsageWalks.MeasureAsync(root, Walk, CancellationToken.None)).ToList();
        }
        finally
        {
            release.TrySetResult(); // walks are one at a time for the whole process: never leave one hanging
        }
        Assert.Equal(100, await first);
        Assert.All(await Task.WhenAll(during), bytes => Assert.Equal(200, bytes));
        Assert.Equal(2, walks);
        // Asked after: a walk of its own.
        Assert.Equal(300, await UsageWalks.MeasureAsync(root, Walk, CancellationToken.None));
    }

    [Fact]
    public async Task AWaitingAskCanBeCancelled()
    {
        var root = "/walks/" + Guid.NewGuid().ToString("N");
        var walking = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = Task.Run(() => UsageWalks.MeasureAsync(root, () => { walking.SetResult(); release.Task.Wait(); return 1; }, CancellationToken.None));
        try
        {
            await walking.Task.WaitAsync(TimeSpan.FromSeconds(10));
            using var gone = new CancellationTokenSource();
            var waiting = UsageWalks.MeasureAsync(root, () => 2, gone.Token);
            await gone.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        }
        finally
        {
            release.TrySetResult();
        }
        Assert.Equal(1, await first);
    }
}
