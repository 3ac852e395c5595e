using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace Rosetta.Core.Streaming;

public static class ChannelBatching
{
    /// <summary>
    /// Reads everything queued in the channel as one batch, at most once per
    /// <paramref name="minReadInterval"/>. A burst of updates therefore costs a consumer (a page,
    /// a hub connection) one render or one message, not one per update.
    /// </summary>
    public static async IAsyncEnumerable<IReadOnlyList<T>> ReadBatchesAsync<T>(this ChannelReader<T> reader,
        TimeSpan minReadInterval, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var lastRead = DateTime.MinValue;
        while (await reader.WaitToReadAsync(ct).ConfigureAwait(false))
        {
            var wait = lastRead + minReadInterval - DateTime.UtcNow;
            if (wait > TimeSpan.Zero) await Task.Delay(wait, ct).ConfigureAwait(false);

            var batch = new List<T>();
            while (reader.TryRead(out var item)) batch.Add(item);
            lastRead = DateTime.UtcNow;
            if (batch.Count > 0) yield return batch;
        }
    }
}
