using System.Runtime.ExceptionServices;

namespace Rosetta.Core.Storages;

/// <summary>Copies a stream into a file up to a size limit, reading the next piece while the last one is written.</summary>
internal static class LimitedCopy
{
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
