using System.Runtime.ExceptionServices;

namespace Rosetta.Core.Storages;

/// <summary>Copies a stream into a file up to a size limit, reading the next piece while the last one is written.</summary>
internal static class LimitedCopy
{
    /// <summary>
    /// Copies the first <paramref name="length"/> bytes of <paramref name="from"/>: a download announced with that
    /// length, of a file a task may be appending to meanwhile (a log, a checkpoint), sends what it announced; copied to
    /// its end, the answer went past its Content-Length and was cut.
    /// </summary>
    public static async Task CopyExactlyAsync(Stream from, Stream to, long length, int bufferSize, CancellationToken ct)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(bufferSize);
        try
        {
            for (long left = length; left > 0;)
            {
                var read = await from.ReadAsync(buffer.AsMemory(0, (int)Math.Min(bufferSize, left)), ct);
                if (read == 0) return; // shorter now: the answer ends short of its length, which the client sees
                await to.WriteAsync(buffer.AsMemory(0, read), ct);
                left -= read;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <remarks>
    /// Each buffer is filled before it is written: a request body arrives in pieces of a few kilobytes,
    /// and writing each piece as it came made a 1 GiB upload 20 times slower than cp (bench/storage.sh).
    /// The write (synchronous: a 1 MiB write to the page cache returns at once) runs on the thread
    /// pool while the next buffer fills, so receiving and writing overlap instead of taking turns.
    /// </remarks>
    public static async Task<long> CopyAsync(Stream content, Stream destination, Memory<byte> first, Memory<byte> second, long limit,
        Func<long, Exception> tooLarge, CancellationToken ct)
    {
        long written = 0;
        var writing = Task.CompletedTask;
        var (filling, spare) = (first, second);
        try
        {
            while (true)
            {
                var filled = await content.ReadAtLeastAsync(filling, filling.Length, throwOnEndOfStream: false, ct);
                await writing;
                if (filled == 0) return written;
                written += filled;
                if (written > limit) throw tooLarge(written);
                var piece = filling[..filled];
                writing = Task.Run(() => destination.Write(piece.Span), CancellationToken.None);
                if (filled < filling.Length) // the end of the content
                {
                    await writing;
                    return written;
                }
                (filling, spare) = (spare, filling);
            }
        }
        catch
        {
            // The caller returns the buffers to a pool: no write may still be reading one. A write that
            // failed too (a full disk) says more than the read it cut short.
            await writing.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (writing.Exception?.InnerException is { } writeFailure) ExceptionDispatchInfo.Throw(writeFailure);
            throw;
        }
    }
}
