using Rosetta.Core.Storages;

namespace Rosetta.Tests.Unit;

/// <summary>The upload limit holds on the bytes as they arrive, whichever side pulls them (local copy or SSH.NET's upload).</summary>
public sealed class LimitedCopyTests
{
    /// <summary>Hands out its content a few bytes per read, as a request body arrives.</summary>
    private sealed class TrickleStream(byte[] content, int piece) : MemoryStream(content)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(piece, buffer.Length)], cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(piece, count));
    }

    /// <summary>Records the size of every write.</summary>
    private sealed class WriteSizes : MemoryStream
    {
        public List<int> Sizes { get; } = [];

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            lock (Sizes) Sizes.Add(buffer.Length);
            base.Write(buffer);
        }
    }

    /// <summary>A body that counts its reads, and fails on a given one.</summary>
    private sealed class CountingBody(int pieces, int failOnRead = -1) : MemoryStream
    {
        private int _reads;
        public int Reads => Volatile.Read(ref _reads);

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = Interlocked.Increment(ref _reads);
            await Task.Yield();
            if (read == failOnRead) throw new IOException("the client went away");
            if (read > pieces) return 0;
            buffer.Span.Fill((byte)read);
            return buffer.Length;
        }
    }

    /// <summary>
    /// A file whose every write waits (up to 5 s) for the body's next read to start. Given the copy
    /// (<see cref="Copy"/>), a write then also waits (up to 1 s) for the copy to end, and records
    /// whether it did: a copy that ends while its write still runs has handed back buffers in use.
    /// </summary>
    private sealed class WriteAwaitingNextRead(CountingBody body) : MemoryStream
    {
        private int _writes;
        public List<bool> SawNextRead { get; } = [];
        public Task? Copy { get; set; }
        public bool OutlivedTheCopy { get; private set; }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            var piece = ++_writes; // filled by read number `piece`
            SawNextRead.Add(SpinWait.SpinUntil(() => body.Reads > piece, TimeSpan.FromSeconds(5)));
            if (Copy is not null) OutlivedTheCopy |= SpinWait.SpinUntil(() => Copy.IsCompleted, TimeSpan.FromSeconds(1));
            base.Write(buffer);
        }
    }

    [Fact]
    public async Task ACopyWritesWholeBuffersNotThePiecesTheBodyArrivesIn()
    {
        var content = Enumerable.Range(0, 10_000).Select(i => (byte)i).ToArray();
        var destination = new WriteSizes();
        var written = await LimitedCopy.CopyAsync(new TrickleStream(content, 300), destination, new byte[4096], new byte[4096], 20_000, _ => new Exception(), default);
        Assert.Equal(10_000, written);
        Assert.Equal(content, destination.ToArray());
        Assert.Equal([4096, 4096, 1808], destination.Sizes);
    }

    [Fact]
    public async Task ACopyStopsAsSoonAsTheLimitIsPassed()
    {
        var destination = new WriteSizes();
        var error = await Assert.ThrowsAsync<StorageLimitException>(() =>
            LimitedCopy.CopyAsync(new TrickleStream(new byte[50_000], 300), destination, new byte[4096], new byte[4096], 10_000, n => new StorageLimitException($"{n}"), default));
        Assert.True(long.Parse(error.Message) is > 10_000 and <= 10_000 + 4096);
        Assert.True(destination.Length <= 10_000, "nothing past the limit is written");
    }

    [Fact]
    public async Task TheNextPieceIsReceivedWhileTheLastIsWritten()
    {
        var body = new CountingBody(pieces: 3);
        var file = new WriteAwaitingNextRead(body);
        var written = await LimitedCopy.CopyAsync(body, file, new byte[4096], new byte[4096], 1 << 20, _ => new Exception(), default);
        Assert.Equal(3 * 4096, written);
        Assert.Equal([true, true, true], file.SawNextRead);
        Assert.Equal(Enumerable.Range(1, 3).SelectMany(i => Enumerable.Repeat((byte)i, 4096)), file.ToArray());
    }

    [Fact]
    public async Task ABodyThatFailsMidCopyReturnsOnlyOnceNoWriteUsesTheBuffersAnyMore()
    {
        var body = new CountingBody(pieces: 10, failOnRead: 2);
        var file = new WriteAwaitingNextRead(body);
        var copy = LimitedCopy.CopyAsync(body, file, new byte[4096], new byte[4096], 1 << 20, _ => new Exception(), default);
        file.Copy = copy;
        await Assert.ThrowsAsync<IOException>(() => copy);
        Assert.False(file.OutlivedTheCopy, "a write was still running when the copy gave up");
        Assert.Single(file.SawNextRead);
    }

    [Fact]
    public async Task AWriteThatFailsWhileTheNextReadFailsTooIsTheErrorReported()
    {
        var body = new CountingBody(pieces: 10, failOnRead: 2);
        var error = await Assert.ThrowsAsync<IOException>(() =>
            LimitedCopy.CopyAsync(body, new FullDisk(body), new byte[4096], new byte[4096], 1 << 20, _ => new Exception(), default));
        Assert.Equal("No space left on device", error.Message);
    }

    /// <summary>A file on a full disk: its write fails once the body's next read has started.</summary>
    private sealed class FullDisk(CountingBody body) : MemoryStream
    {
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            SpinWait.SpinUntil(() => body.Reads > 1, TimeSpan.FromSeconds(5));
            throw new IOException("No space left on device");
        }
    }

    [Fact]
    public async Task AStreamPulledByAnotherReaderRefusesPastTheLimitToo()
    {
        var limited = new LimitedReadStream(new TrickleStream(new byte[50_000], 300), 10_000, n => new StorageLimitException($"{n}"));
        var error = await Assert.ThrowsAsync<StorageLimitException>(() => limited.CopyToAsync(Stream.Null, 4096));
        Assert.Equal("12288", error.Message); // the read that crossed the limit: the third whole buffer
        Assert.Throws<NotSupportedException>(() => limited.Length);

        var within = new LimitedReadStream(new MemoryStream(new byte[10_000]), 10_000, _ => new Exception());
        await within.CopyToAsync(Stream.Null);
        Assert.Equal(10_000, within.BytesRead);
    }

    [Fact]
    public async Task EveryReadFillsTheReadersBufferSoSftpWritesAreWholeOnes()
    {
        var content = Enumerable.Range(0, 10_000).Select(i => (byte)i).ToArray();
        var limited = new LimitedReadStream(new TrickleStream(content, 300), 20_000, _ => new Exception());
        var buffer = new byte[4096];
        var sizes = new List<int>();
        var received = new MemoryStream();
        int read;
        while ((read = await limited.ReadAsync(buffer)) > 0)
        {
            sizes.Add(read);
            received.Write(buffer, 0, read);
        }
        Assert.Equal([4096, 4096, 1808], sizes);
        Assert.Equal(content, received.ToArray());

        var synchronous = new LimitedReadStream(new TrickleStream(content, 300), 20_000, _ => new Exception());
        Assert.Equal(4096, synchronous.Read(buffer, 0, 4096));
    }
}
