namespace Rosetta.Core.Storages;

/// <summary>
/// An upload's content, read-only, that throws <c>tooLarge</c> as soon as more than <c>limit</c> bytes
/// have come: for copies that pull from the stream themselves (SSH.NET's pipelined SFTP upload).
/// </summary>
/// <remarks>
/// Every read fills the caller's buffer (short only at the end): SSH.NET sends one SFTP write per
/// read, and a request body hands out whatever has arrived, often a few kilobytes. With 16 KiB
/// pieces SSH.NET's upload ran at 198 instead of 256 MiB/s, with 8 KiB pieces at a crawl.
/// </remarks>
internal sealed class LimitedReadStream(Stream content, long limit, Func<long, Exception> tooLarge) : Stream
{
    public long BytesRead { get; private set; }

    public override int Read(byte[] buffer, int offset, int count) =>
        Count(content.ReadAtLeast(buffer.AsSpan(offset, count), count, throwOnEndOfStream: false));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Count(await content.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private int Count(int read)
    {
        BytesRead += read;
        if (BytesRead > limit) throw tooLarge(BytesRead);
        return read;
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => BytesRead; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
