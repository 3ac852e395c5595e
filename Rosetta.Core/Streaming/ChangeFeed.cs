using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace Rosetta.Core.Streaming;

public enum ChangeKind { Upsert, Delete }

/// <summary>One change to an item of a <see cref="ChangeFeed{T}"/>.</summary>
public sealed record Change<T>(ChangeKind Kind, string Key, T Item);

/// <summary>The state when the subscription started, and every change after it, in batches.</summary>
/// <remarks>
/// The change stream does not complete on its own: callers end it by cancelling the token they
/// passed to <see cref="ChangeFeed{T}.Subscribe"/>.
/// </remarks>
public sealed record Subscription<T>(ImmutableArray<T> Initial, IAsyncEnumerable<IReadOnlyList<Change<T>>> Changes);

/// <summary>
/// A keyed collection that hands subscribers a snapshot plus a change stream (the shape of the
/// Aspire dashboard's resource subscription). Each subscriber has its own unbounded channel, so a
/// slow page never blocks the publisher or other subscribers; the snapshot is taken under the same
/// lock that registers the channel and applies changes, so nothing falls between the two.
/// </summary>
public sealed class ChangeFeed<T>(Func<T, string> keyOf, TimeSpan batchInterval)
{
    private readonly object _lock = new();
    private ImmutableDictionary<string, T> _items = ImmutableDictionary<string, T>.Empty;
    private ImmutableList<Subscriber> _subscribers = ImmutableList<Subscriber>.Empty;

    public ChangeFeed(Func<T, string> keyOf) : this(keyOf, TimeSpan.FromMilliseconds(100)) { }

    /// <summary>Current state (a consistent snapshot).</summary>
    public ImmutableDictionary<string, T> Items => _items;

    public bool TryGet(string key, out T item) => _items.TryGetValue(key, out item!);

    public int SubscriberCount => _subscribers.Count;

    public void Upsert(T item)
    {
        var key = keyOf(item);
        lock (_lock)
        {
            _items = _items.SetItem(key, item);
            Publish(new Change<T>(ChangeKind.Upsert, key, item));
        }
    }

    public void Delete(string key)
    {
        lock (_lock)
        {
            if (!_items.TryGetValue(key, out var item)) return;
            _items = _items.Remove(key);
            Publish(new Change<T>(ChangeKind.Delete, key, item));
        }
    }

    /// <summary>
    /// Subscribes to the items that pass <paramref name="filter"/> (all when null). The filter must
    /// depend only on what never changes for an item (e.g. its owner).
    /// </summary>
    public Subscription<T> Subscribe(Func<T, bool>? filter, CancellationToken ct)
    {
        var channel = Channel.CreateUnbounded<Change<T>>(new UnboundedChannelOptions
        {
            SingleReader = true,
            SingleWriter = false,
            // Never run a subscriber's continuation on the publisher's thread (which holds the lock).
            AllowSynchronousContinuations = false,
        });
        var subscriber = new Subscriber(channel.Writer, filter);
        ImmutableArray<T> initial;
        lock (_lock)
        {
            initial = [.. _items.Values.Where(i => filter is null || filter(i))];
            _subscribers = _subscribers.Add(subscriber);
        }
        // Ends with its token even if its changes are never read (a page whose load failed after subscribing):
        // the stream's own clean-up runs only once it is enumerated, and the channel would fill for good.
        ct.Register(() => Remove(subscriber));
        return new Subscription<T>(initial, Stream(channel.Reader, subscriber, ct));
    }

    private void Remove(Subscriber subscriber)
    {
        lock (_lock) _subscribers = _subscribers.Remove(subscriber);
        subscriber.Writer.TryComplete();
    }

    private async IAsyncEnumerable<IReadOnlyList<Change<T>>> Stream(ChannelReader<Change<T>> reader, Subscriber subscriber,
        [EnumeratorCancellation] CancellationToken ct)
    {
        try
        {
            await foreach (var batch in reader.ReadBatchesAsync(batchInterval, ct).ConfigureAwait(false))
            {
                yield return batch;
            }
        }
        finally
        {
            Remove(subscriber);
        }
    }

    private void Publish(Change<T> change)
    {
        foreach (var subscriber in _subscribers)
        {
            // Unbounded channel: TryWrite always succeeds while the channel is open.
            if (subscriber.Filter is null || subscriber.Filter(change.Item)) subscriber.Writer.TryWrite(change);
        }
    }

    private sealed record Subscriber(ChannelWriter<Change<T>> Writer, Func<T, bool>? Filter);
}
