using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections;

namespace Rosetta.App.Hosting;

/// <summary>
/// Gives Kestrel 64 KiB buffers instead of its own 4 KiB blocks. Kestrel's socket transport receives
/// into one pool block per call, so with 4 KiB blocks a 1 GiB upload is ~260,000 receives (plus as
/// many zero-byte reads) and the transport, not the disk, bounds uploads: Kestrel alone, dropping
/// the bytes, took 450–700 MiB/s on the project's machine and 1.0–1.3 GiB/s with 64 KiB blocks
/// (bench/README.md, "Storages"). Registered in DI, where Kestrel looks for it since .NET 10.
/// </summary>
public sealed class LargeBlockMemoryPoolFactory : IMemoryPoolFactory<byte>
{
    public MemoryPool<byte> Create(MemoryPoolOptions? options = null) => new LargeBlockMemoryPool();
}

/// <summary>
/// A pool of pinned 64 KiB blocks that keeps at most <see cref="MaxRetainedBlocks"/> returned blocks
/// for reuse and leaves the rest to the GC, so a burst of transfers does not hold its memory for the
/// life of the process.
/// </summary>
public sealed class LargeBlockMemoryPool : MemoryPool<byte>
{
    public const int BlockSize = 64 * 1024;
    public const int MaxRetainedBlocks = 256; // 16 MiB

    private readonly ConcurrentQueue<Block> _retained = new();
    private int _retainedCount;
    private volatile bool _disposed;

    public override int MaxBufferSize => BlockSize;

    /// <summary>Blocks waiting for reuse (for tests and diagnostics).</summary>
    public int RetainedCount => Volatile.Read(ref _retainedCount);

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
        if (_retained.TryDequeue(out var block)) Interlocked.Decrement(ref _retainedCount);
        else block = new Block(this, GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true));
        block.MarkRented();
        return block;
    }

    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        _retained.Clear();
    }

    private void Return(Block block)
    {
        if (_disposed) return;
        if (Interlocked.Increment(ref _retainedCount) > MaxRetainedBlocks)
        {
            Interlocked.Decrement(ref _retainedCount);
            return;
        }
        _retained.Enqueue(block);
    }

    private sealed class Block(LargeBlockMemoryPool pool, byte[] array) : IMemoryOwner<byte>
    {
        private int _rented;

        public Memory<byte> Memory => array;

        public void MarkRented() => Volatile.Write(ref _rented, 1);

        // Only the first Dispose returns the block: a second one must not hand it to two renters.
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _rented, 0) == 1) pool.Return(this);
        }
    }
}
