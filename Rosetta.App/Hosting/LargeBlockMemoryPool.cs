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
/// <remarks>
/// The cost is per connection with bytes pending: Kestrel takes a block only once data has arrived
/// (its zero-byte read first), so idle connections and quiet WebSockets hold none, but a client that
/// sends part of its headers holds 64 KiB instead of 4 KiB until Kestrel's header timeout (30 s).
/// Kestrel makes one pool per I/O queue; they share this factory's <see cref="MaxRetainedBlocks"/>.
/// </remarks>
public sealed class LargeBlockMemoryPoolFactory : IMemoryPoolFactory<byte>
{
    private readonly LargeBlockMemoryPool.Retained _retained = new();

    public MemoryPool<byte> Create(MemoryPoolOptions? options = null) => new LargeBlockMemoryPool(_retained);
}

/// <summary>
/// A pool of 64 KiB arrays. At most <see cref="MaxRetainedBlocks"/> returned arrays (shared by the
/// pools of one factory) wait for reuse; the rest are left to the GC, so a burst of transfers does
/// not hold its memory for the life of the process. The arrays are not pinned: on Linux the socket
/// calls pin a buffer only while the system call runs, and unpinned arrays let the GC compact.
/// </summary>
public sealed class LargeBlockMemoryPool : MemoryPool<byte>
{
    public const int BlockSize = 64 * 1024;
    public const int MaxRetainedBlocks = 64; // 4 MiB

    private readonly Retained _retained;
    private volatile bool _disposed;

    public LargeBlockMemoryPool() : this(new Retained())
    {
    }

    internal LargeBlockMemoryPool(Retained retained) => _retained = retained;

    public override int MaxBufferSize => BlockSize;

    /// <summary>Arrays waiting for reuse (for tests and diagnostics).</summary>
    public int RetainedCount => _retained.Count;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
        return new Lease(this, _retained.Take() ?? GC.AllocateUninitializedArray<byte>(BlockSize));
    }

    protected override void Dispose(bool disposing) => _disposed = true;

    /// <summary>Returned arrays, shared by the pools one factory made.</summary>
    internal sealed class Retained
    {
        private readonly ConcurrentQueue<byte[]> _arrays = new();
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public byte[]? Take()
        {
            if (!_arrays.TryDequeue(out var array)) return null;
            Interlocked.Decrement(ref _count);
            return array;
        }

        public void Keep(byte[] array)
        {
            if (Interlocked.Increment(ref _count) > MaxRetainedBlocks)
            {
                Interlocked.Decrement(ref _count);
                return;
            }
            _arrays.Enqueue(array);
        }
    }

    /// <summary>One rental: its own object, so a late second Dispose cannot return an array someone else holds by then.</summary>
    private sealed class Lease(LargeBlockMemoryPool pool, byte[] array) : IMemoryOwner<byte>
    {
        private byte[]? _array = array;

        public Memory<byte> Memory { get; } = array;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _array, null) is { } returned && !pool._disposed) pool._retained.Keep(returned);
        }
    }
}
