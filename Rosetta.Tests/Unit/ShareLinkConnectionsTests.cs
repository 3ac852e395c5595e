using Microsoft.Extensions.Options;
using Rosetta.Core.Sharing;

namespace Rosetta.Tests.Unit;

public sealed class ShareLinkConnectionsTests
{
    private static ShareLink Link(string hash) => new() { Id = hash, TaskId = "t", OwnerId = "u", Name = "", Hash = hash };

    [Fact]
    public async Task OpensRacingForTheLastPlacesGetExactlyTheLimitAndEveryCloseGivesOneBack()
    {
        var connections = new ShareLinkConnections(Options.Create(new SharingOptions { MaxConnectionsPerLink = 5 }));
        var link = Link("a");
        using var start = new Barrier(8);
        var holds = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            start.SignalAndWait();
            return Enumerable.Range(0, 50).Select(_ => connections.TryOpen(link)).ToList();
        })));
        var granted = holds.SelectMany(h => h).Where(h => h is not null).ToList();
        Assert.Equal(5, granted.Count);
        Assert.Equal(5, connections.OpenThrough(link));
        Assert.NotNull(connections.TryOpen(Link("b"))); // another link counts for itself

        granted[0]!.Dispose();
        granted[0]!.Dispose(); // twice is once
        Assert.Equal(4, connections.OpenThrough(link));
        var again = connections.TryOpen(link);
        Assert.NotNull(again);
        Assert.Null(connections.TryOpen(link));

        await Task.WhenAll(granted.Skip(1).Append(again).Select(h => Task.Run(() => h!.Dispose())));
        Assert.Equal(0, connections.OpenThrough(link));
    }

    [Fact]
    public void ZeroMeansNoLimit()
    {
        var connections = new ShareLinkConnections(Options.Create(new SharingOptions { MaxConnectionsPerLink = 0 }));
        Assert.All(Enumerable.Range(0, 1000), _ => Assert.NotNull(connections.TryOpen(Link("a"))));
    }
}
