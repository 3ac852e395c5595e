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

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Sizes.Add(buffer.Length);
            return base.WriteAsync(buffer, cancellationToken);
        }
    }

    [Fact]
    public async Task ACopyWritesWholeBuffersNotThePiecesTheBodyArrivesIn()
    {
        var content = Enumerable.Range(0, 10_000).Select(i => (byte)i).ToArray();
        var destination = new WriteSizes();
        var written = await LimitedCopy.CopyAsync(new TrickleStream(content, 300), destination, new byte[4096], 20_000, _ => new Exception(), default);
        Assert.Equal(10_000, written);
        Assert.Equal(content, destination.ToArray());
        Assert.Equal([4096, 4096, 1808], destination.Sizes);
    }

    [Fact]
    public async Task ACopyStopsAsSoonAsTheLimitIsPassed()
    {
        var destination = new WriteSizes();
        var error = await Assert.ThrowsAsync<StorageLimitException>(() =>
            LimitedCopy.CopyAsync(new TrickleStream(new byte[50_000], 300), destination, new byte[4096], 10_000, n => new StorageLimitException($"{n}"), default));
        Assert.True(long.Parse(error.Message) is > 10_000 and <= 10_000 + 4096);
        Assert.True(destination.Length <= 10_000, "nothing past the limit is written");
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
