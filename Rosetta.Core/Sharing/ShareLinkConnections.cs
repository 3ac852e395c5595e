using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Rosetta.Core.Sharing;

/// <summary>
/// Counts the long-lived connections open through each share link and refuses one beyond
/// <see cref="SharingOptions.MaxConnectionsPerLink"/>. The owner's own connections are not counted.
/// </summary>
public sealed class ShareLinkConnections(IOptions<SharingOptions> options)
{
    private readonly int _max = options.Value.MaxConnectionsPerLink;
    /// <summary>Per link hash, how many connections are open; a link with none has no entry.</summary>
    private readonly ConcurrentDictionary<string, int> _open = new(StringComparer.Ordinal);

    public int Limit => _max;

    /// <summary>
    /// Raised with a link's hash after a connection through it opened or closed, on the thread that did it:
    /// handlers only note it and hand any work off (the task page queues a redraw of its count).
    /// </summary>
    public event Action<string>? Changed;

    /// <summary>A hold on one connection, released when disposed; null when the link already has as many as allowed.</summary>
    public IDisposable? TryOpen(ShareLink link)
    {
        var hash = link.Hash;
        while (true)
        {
            var open = _open.GetOrAdd(hash, 0);
            if (_max > 0 && open >= _max) return null;
            // Compare-and-swap, so two opens racing for the last place cannot both have it.
            if (!_open.TryUpdate(hash, open + 1, open)) continue;
            var hold = new Hold(this, hash);
            Raise(hash);
            return hold;
        }
    }

    /// <summary>How many connections <paramref name="link"/> holds now.</summary>
    public int OpenThrough(ShareLink link) => _open.GetValueOrDefault(link.Hash);

    private void Close(string hash)
    {
        while (true)
        {
            var open = _open[hash];
            // The last one out removes the entry, only if nobody opened another meanwhile.
            if (!(open == 1 ? _open.TryRemove(KeyValuePair.Create(hash, 1)) : _open.TryUpdate(hash, open - 1, open))) continue;
            Raise(hash);
            return;
        }
    }

    /// <summary>Tells every handler; one that throws neither stops the others nor reaches the proxied connection.</summary>
    private void Raise(string hash)
    {
        if (Changed is not { } changed) return;
        foreach (var handler in changed.GetInvocationList().Cast<Action<string>>())
        {
            try
            {
                handler(hash);
            }
            catch (Exception)
            {
                // A page's bookkeeping; the count itself is already right.
            }
        }
    }

    private sealed class Hold(ShareLinkConnections owner, string hash) : IDisposable
    {
        private int _closed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _closed, 1) == 0) owner.Close(hash);
        }
    }
}
