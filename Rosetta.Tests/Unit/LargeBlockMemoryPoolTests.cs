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
    public void ASecondDisposeDoesNotHandOneBlockToTwoRenters()
    {
        using var pool = new LargeBlockMemoryPool();
        var block = pool.Rent();
        block.Dispose();
        block.Dispose();
        Assert.Equal(1, pool.RetainedCount);
        using var a = pool.Rent();
        using var b = pool.Rent();
        Assert.NotSame(ArrayOf(a), ArrayOf(b));
    }

    [Fact]
    public void OnlyABoundedNumberOfReturnedBlocksIsKept()
    {
        using var pool = new LargeBlockMemoryPool();
        var blocks = Enumerable.Range(0, LargeBlockMemoryPool.MaxRetainedBlocks + 10).Select(_ => pool.Rent()).ToList();
        blocks.ForEach(block => block.Dispose());
        Assert.Equal(LargeBlockMemoryPool.MaxRetainedBlocks, pool.RetainedCount);
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
