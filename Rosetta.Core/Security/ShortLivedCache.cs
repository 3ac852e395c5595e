using System.Collections.Concurrent;

namespace Rosetta.Core.Security;

/// <summary>
/// Answers about who may do what (a token's user, a user's claims), kept briefly so a busy client does
/// not cost database queries on every request, and dropped at once when the facts change. An answer
/// read while an invalidation happens may be stale: it serves the call that read it but is never
/// kept, so a revoked token or a disabled user is not trusted again for the rest of the lifetime.
/// </summary>
public sealed class ShortLivedCache<TKey, TValue>(TimeSpan lifetime, TimeProvider? time = null)
    where TKey : notnull where TValue : class
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly ConcurrentDictionary<TKey, Entry> _entries = new();
    /// <summary>Bumped by every invalidation, before it removes anything.</summary>
    private long _invalidations;

    public async Task<TValue?> GetOrCreateAsync(TKey key, Func<Task<TValue?>> create)
    {
        if (_entries.TryGetValue(key, out var cached) && cached.Until > _time.GetUtcNow()) return cached.Value;
        var before = Interlocked.Read(ref _invalidations);
        var value = await create();
        if (value is null)
        {
            _entries.TryRemove(key, out _);
            return null;
        }
        var entry = new Entry(value, _time.GetUtcNow() + lifetime);
        _entries[key] = entry;
        // Read across an invalidation, the value may be stale: take it back (only this very entry, which an
        // invalidation that came after the store has removed already, or a newer read has replaced).
        if (Interlocked.Read(ref _invalidations) != before) _entries.TryRemove(new KeyValuePair<TKey, Entry>(key, entry));
        return value;
    }

    public void Invalidate(TKey key)
    {
        Interlocked.Increment(ref _invalidations);
        _entries.TryRemove(key, out _);
    }

    public void InvalidateWhere(Func<TValue, bool> match)
    {
        Interlocked.Increment(ref _invalidations);
        foreach (var (key, entry) in _entries)
            if (match(entry.Value)) _entries.TryRemove(new KeyValuePair<TKey, Entry>(key, entry));
    }

    private sealed record Entry(TValue Value, DateTimeOffset Until);
}
