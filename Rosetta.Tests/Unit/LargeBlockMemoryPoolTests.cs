using System.Runtime.InteropServices;
using Rosetta.App.Hosting;

namespace Rosetta.Tests.Unit;

public sealed class LargeBlockMemoryPoolTests
{
    [Fact]
    public void EveryBlockIs64KiB_AndALargerRequestIsRefused()
    {
        using var pool = new LargeBlockMemoryPool();
        using var block = pool.Rent(1);
        Assert.Equal(LargeBlockMemoryPool.BlockSize, block.Memory.Length);
        Assert.Equal(LargeBlockMemoryPool.BlockSize, pool.MaxBufferSize);
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(LargeBlockMemoryPool.BlockSize + 1));
    }

    [Fact]
    public void AReturnedBlockIsReused()
    {
        using var pool = new LargeBlockMemoryPool();
        var first = pool.Rent();
        var array = ArrayOf(first);
        first.Dispose();
        using var second = pool.Rent();
        Assert.Same(array, ArrayOf(second));
    }

    [Fact]
    public void ALateSecondDisposeDoesNotHandOneBlockToTwoRenters()
    {
        using var pool = new LargeBlockMemoryPool();
        var first = pool.Rent();
        first.Dispose();
        first.Dispose();
        Assert.Equal(1, pool.RetainedCount);
        using var second = pool.Rent(); // the same array, a new rental
        Assert.Same(ArrayOf(first), ArrayOf(second));
        first.Dispose(); // late, after the array went to someone else
        Assert.Equal(0, pool.RetainedCount);
        using var third = pool.Rent();
        Assert.NotSame(ArrayOf(second), ArrayOf(third));
    }

    [Fact]
    public void OnlyABoundedNumberOfReturnedBlocksIsKept_ForAllThePoolsOfOneFactory()
    {
        var factory = new LargeBlockMemoryPoolFactory();
        using var one = (LargeBlockMemoryPool)factory.Create();
        using var two = (LargeBlockMemoryPool)factory.Create();
        var blocks = Enumerable.Range(0, LargeBlockMemoryPool.MaxRetainedBlocks).Select(_ => one.Rent())
            .Concat(Enumerable.Range(0, 10).Select(_ => two.Rent())).ToList();
        blocks.ForEach(block => block.Dispose());
        Assert.Equal(LargeBlockMemoryPool.MaxRetainedBlocks, one.RetainedCount);
        Assert.Equal(LargeBlockMemoryPool.MaxRetainedBlocks, two.RetainedCount);
        using var reused = two.Rent();
        Assert.Contains(blocks, block => ArrayOf(block) == ArrayOf(reused)); // one pool's return serves the other
    }

    [Fact]
    public void ADisposedPoolRentsNothing_AndKeepsNothingReturnedLater()
    {
        var pool = new LargeBlockMemoryPool();
        var block = pool.Rent();
        pool.Dispose();
        block.Dispose();
        Assert.Equal(0, pool.RetainedCount);
        Assert.Throws<ObjectDisposedException>(() => pool.Rent());
    }

    private static byte[] ArrayOf(System.Buffers.IMemoryOwner<byte> block) =>
        MemoryMarshal.TryGetArray<byte>(block.Memory, out var segment) ? segment.Array! : throw new InvalidOperationException("not array-backed");
}
