using Rosetta.Core.Streaming;

namespace Rosetta.Tests.Unit;

public sealed class ChangeFeedTests
{
    private sealed record Item(string Id, string Owner, int Version);

    [Fact]
    public async Task SubscriberGetsTheSnapshotThenEveryLaterChangeInOrder()
    {
        var feed = new ChangeFeed<Item>(i => i.Id, TimeSpan.FromMilliseconds(10));
        feed.Upsert(new Item("a", "alice", 1));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var subscription = feed.Subscribe(null, cts.Token);
        Assert.Equal("a", Assert.Single(subscription.Initial).Id);

        feed.Upsert(new Item("a", "alice", 2));
        feed.Upsert(new Item("b", "bob", 1));
        feed.Delete("a");

        var seen = new List<Change<Item>>();
        await foreach (var batch in subscription.Changes.WithCancellation(cts.Token))
        {
            seen.AddRange(batch);
            if (seen.Count == 3) break;
        }
        Assert.Equal([(ChangeKind.Upsert, "a", 2), (ChangeKind.Upsert, "b", 1), (ChangeKind.Delete, "a", 2)],
            seen.Select(c => (c.Kind, c.Key, c.Item.Version)));
        Assert.Equal(0, feed.SubscriberCount);
    }

    /// <summary>A page whose load failed after it subscribed never reads the changes: its subscription ends with its token all the same.</summary>
    [Fact]
    public void ASubscriptionNeverReadEndsWithItsToken()
    {
        var feed = new ChangeFeed<Item>(i => i.Id, TimeSpan.FromMilliseconds(10));
        using var cts = new CancellationTokenSource();
        _ = feed.Subscribe(null, cts.Token);
        feed.Upsert(new Item("a", "alice", 1));
        Assert.Equal(1, feed.SubscriberCount);
        cts.Cancel();
        Assert.Equal(0, feed.SubscriberCount);
    }

    [Fact]
    public async Task ABurstArrivesAsFewBatches()
    {
        var feed = new ChangeFeed<Item>(i => i.Id, TimeSpan.FromMilliseconds(100));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var subscription = feed.Subscribe(null, cts.Token);
        var batches = 0;
        var received = 0;
        var reader = Task.Run(async () =>
        {
            await foreach (var batch in subscription.Changes.WithCancellation(cts.Token))
            {
                batches++;
                received += batch.Count;
                if (received == 10_000) break;
            }
        });
        for (var i = 0; i < 10_000; i++) feed.Upsert(new Item((i % 100).ToString(), "x", i));
        await reader;
        Assert.True(batches <= 5, $"{batches} batches for one burst");
    }

    [Fact]
    public async Task FilteredSubscribersSeeOnlyTheirItems()
    {
        var feed = new ChangeFeed<Item>(i => i.Id, TimeSpan.FromMilliseconds(10));
        feed.Upsert(new Item("a", "alice", 1));
        feed.Upsert(new Item("b", "bob", 1));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var bobs = feed.Subscribe(i => i.Owner == "bob", cts.Token);
        Assert.Equal("b", Assert.Single(bobs.Initial).Id);

        feed.Upsert(new Item("a", "alice", 2));
        feed.Delete("a");
        feed.Upsert(new Item("c", "bob", 1));
        await foreach (var batch in bobs.Changes.WithCancellation(cts.Token))
        {
            Assert.All(batch, c => Assert.Equal("bob", c.Item.Owner));
            if (batch.Any(c => c.Key == "c")) break;
        }
    }
}
