namespace Rosetta.Core.Storages;

/// <summary>Copies an upload into its temporary file, counting bytes so an upload past its limit stops at once.</summary>
internal static class LimitedCopy
{
    public static async Task<long> CopyAsync(Stream content, Stream destination, Memory<byte> buffer, long limit,
        Func<long, Exception> tooLarge, CancellationToken ct)
    {
        long written = 0;
        int read;
        while ((read = await content.ReadAsync(buffer, ct)) > 0)
        {
            written += read;
            if (written > limit) throw tooLarge(written);
            await destination.WriteAsync(buffer[..read], ct);
        }
        return written;
    }
}
