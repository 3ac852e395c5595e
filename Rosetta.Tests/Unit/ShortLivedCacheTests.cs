using Rosetta.Core.Security;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Unit;

public sealed class ShortLivedCacheTests
{
    private readonly MovableClock _clock = new();
    private int _reads;

    private ShortLivedCache<string, string> NewCache() => new(TimeSpan.FromSeconds(30), _clock);

    private Func<Task<string?>> Read(string? value, Action? meanwhile = null) => () =>
    {
        _reads++;
        meanwhile?.Invoke();
        return Task.FromResult(value);
    };

    [Fact]
    public async Task AnAnswerIsKeptForItsLifetimeAndThenReadAgain()
    {
        var cache = NewCache();
        Assert.Equal("alice", await cache.GetOrCreateAsync("token", Read("alice")));
        Assert.Equal("alice", await cache.GetOrCreateAsync("token", Read("bob")));
        Assert.Equal(1, _reads);

        _clock.Offset = TimeSpan.FromSeconds(31);
        Assert.Equal("bob", await cache.GetOrCreateAsync("token", Read("bob")));
        Assert.Equal(2, _reads);
    }

    [Fact]
    public async Task NoAnswerIsNeverKept()
    {
        var cache = NewCache();
        Assert.Null(await cache.GetOrCreateAsync("token", Read(null)));
        Assert.Equal("alice", await cache.GetOrCreateAsync("token", Read("alice")));
        Assert.Equal(2, _reads);
    }

    [Fact]
    public async Task AnInvalidatedAnswerIsReadAgain()
    {
        var cache = NewCache();
        await cache.GetOrCreateAsync("token", Read("alice"));
        cache.Invalidate("token");
        Assert.Null(await cache.GetOrCreateAsync("token", Read(null)));
        Assert.Equal(2, _reads);
    }

    [Fact]
    public async Task AnAnswerReadWhileItIsInvalidatedServesThatCallButIsNotKept()
    {
        // The token was valid when the database was asked and revoked before the answer came back.
        var cache = NewCache();
        Assert.Equal("alice", await cache.GetOrCreateAsync("token", Read("alice", meanwhile: () => cache.Invalidate("token"))));
        Assert.Null(await cache.GetOrCreateAsync("token", Read(null)));
        Assert.Equal(2, _reads);
    }

    [Fact]
    public async Task AnAnswerReadWhileMatchingAnswersAreInvalidatedIsNotKept()
    {
        var cache = NewCache();
        await cache.GetOrCreateAsync("other", Read("bob"));
        Assert.Equal("alice", await cache.GetOrCreateAsync("token", Read("alice", meanwhile: () => cache.InvalidateWhere(v => v == "alice"))));
        Assert.Null(await cache.GetOrCreateAsync("token", Read(null)));
        Assert.Equal("bob", await cache.GetOrCreateAsync("other", Read("nobody")));
        Assert.Equal(3, _reads);
    }

    [Fact]
    public async Task InvalidatingByMatchLeavesOtherAnswersAlone()
    {
        var cache = NewCache();
        await cache.GetOrCreateAsync("a", Read("alice"));
        await cache.GetOrCreateAsync("b", Read("bob"));
        cache.InvalidateWhere(v => v == "alice");
        Assert.Equal("bob", await cache.GetOrCreateAsync("b", Read("nobody")));
        Assert.Null(await cache.GetOrCreateAsync("a", Read(null)));
        Assert.Equal(3, _reads);
    }
}
