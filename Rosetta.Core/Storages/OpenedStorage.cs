using Rosetta.Core.Domain;

namespace Rosetta.Core.Storages;

/// <summary>
/// One storage resolved for one user: file operations with the read-only rule, the upload size
/// limit and the quota applied. Short-lived: opened per request.
/// </summary>
public sealed class OpenedStorage(Storage storage, IStorageFolder folder, StorageOptions options)
{
    public Storage Storage { get; } = storage;

    /// <summary>The folder's entries; on a writable storage, listing also clears transfers a stopped platform left there.</summary>
    public IReadOnlyList<StorageEntry> List(StoragePath path, StorageSort sort = StorageSort.Name, bool descending = false) =>
        folder.List(path, sort, descending, removeAbandonedTransfers: !Storage.ReadOnly);

    public void CreateFolder(StoragePath path)
    {
        EnsureWritable();
        path.EnsureNoDirectionOverrides("path");
        folder.CreateFolder(path);
    }

    public void Move(StoragePath from, StoragePath to)
    {
        EnsureWritable();
        to.EnsureNoDirectionOverrides("to");
        folder.Move(from, to);
    }

    public void Copy(StoragePath from, StoragePath to)
    {
        EnsureWritable();
        to.EnsureNoDirectionOverrides("to");
        folder.Copy(from, to, Remaining(), bytes => QuotaExceeded(bytes), hold: bytes => Reserve(bytes));
    }

    public void Delete(StoragePath path)
    {
        EnsureWritable();
        folder.Delete(path);
    }

    /// <summary>
    /// Stores <paramref name="content"/> at <paramref name="path"/> (replacing a file there, creating missing folders).
    /// <paramref name="declaredLength"/> (Content-Length) lets an oversized upload be refused before
    /// a byte is read; the limits are enforced on the bytes actually received either way.
    /// </summary>
    public async Task<long> UploadAsync(StoragePath path, Stream content, long? declaredLength, CancellationToken ct)
    {
        EnsureWritable();
        path.EnsureNoDirectionOverrides("path");
        if (declaredLength > options.MaxUploadBytes) throw TooLarge(declaredLength.Value);
        path.EnsureFitsUnder(folder.Root);
        // A file replaced gives its bytes back when the upload is done: only the difference counts against the quota.
        var replaced = options.QuotaBytes > 0 ? folder.ReplacedBytes(path) : 0;
        using var reservation = Reserve(declaredLength is { } declared ? Math.Max(0, declared - replaced) : null);
        var limit = Math.Min(options.MaxUploadBytes, declaredLength is null || reservation is null ? long.MaxValue : reservation.Bytes + replaced);
        if (declaredLength is null && reservation is not null) content = new QuotaMeteredStream(content, written => Extend(reservation, written - replaced));
        folder.CreateFolder(path.Parent, existingIsFine: true); // an upload of a tree brings its folders
        return await folder.WriteAsync(path, content, limit,
            written => written > options.MaxUploadBytes ? TooLarge(written) : QuotaExceeded(written, left: reservation?.Bytes + replaced), ct,
            reservation is null ? null : (written, replacing) => Settle(reservation, written - replacing));
    }

    /// <summary>
    /// The credit of a replaced file is settled as it is replaced: a file moved or shrunk meanwhile (the same
    /// user's other request) gives back less, and what the upload adds must then still fit.
    /// </summary>
    private StorageLimitException? Settle(QuotaReservation.Claim claim, long adds)
    {
        if (adds <= claim.Bytes) return null;
        var root = QuotaReservation.Of(folder.Root);
        lock (root)
        {
            var remaining = Remaining() ?? long.MaxValue;
            if (adds - claim.Bytes > remaining) return QuotaExceeded(adds, left: claim.Bytes + remaining);
            claim.Grow(adds - claim.Bytes);
            return null;
        }
    }

    /// <summary>
    /// Uploads in flight are written under hidden temporary names the quota's measure leaves out, so
    /// each one holds what it may still write until it ends: uploads running side by side cannot
    /// together pass the quota. One of a declared length holds that length from the start; one of
    /// unknown length (chunked, or a part of a form) holds what it has received, growing as it goes
    /// (<see cref="Extend"/>), so it does not shut every other upload out meanwhile. Null without a quota.
    /// </summary>
    private QuotaReservation.Claim? Reserve(long? declaredLength)
    {
        if (options.QuotaBytes <= 0) return null;
        var root = QuotaReservation.Of(folder.Root);
        lock (root)
        {
            if (Remaining() is not { } remaining) return null;
            if (declaredLength > remaining) throw QuotaExceeded(declaredLength.Value, left: remaining);
            return root.Take(declaredLength ?? 0);
        }
    }

    /// <summary>
    /// Makes <paramref name="claim"/> cover <paramref name="received"/> bytes, or refuses the upload when the
    /// quota cannot. It grows in doubling steps (at least 1 MiB, at most half of what is left), so a large
    /// upload measures the storage a few times, not once per piece, and never holds all that is left.
    /// </summary>
    private void Extend(QuotaReservation.Claim claim, long received)
    {
        if (received <= claim.Bytes) return;
        var root = QuotaReservation.Of(folder.Root);
        lock (root)
        {
            var remaining = Remaining() ?? long.MaxValue;
            var needed = received - claim.Bytes;
            if (needed > remaining)
                throw new StorageLimitException($"Not enough room in '{Storage.Name}': the upload passed the {Describe(claim.Bytes + remaining)} its storage had left of its {Describe(options.QuotaBytes)} quota. Delete files to make room.");
            claim.Grow(Math.Max(needed, Math.Min(Math.Max(claim.Bytes, 1L << 20), remaining / 2)));
        }
    }

    /// <summary>
    /// What the storage holds against its quota, for display, or null where no quota applies: none is
    /// configured, or the storage is on a remote host, whose own quota rules there. A walk of the whole
    /// folder, shared with others who ask meanwhile (<see cref="UsageWalks"/>).
    /// </summary>
    public async Task<StorageUsage?> UsageAsync(CancellationToken ct) =>
        options.QuotaBytes > 0 && Storage.Kind == StorageKind.Local // a remote folder's path may spell a local one: never shared with it
        && await UsageWalks.MeasureAsync(folder.Root, folder.Usage, ct) is { } used ? new StorageUsage(used, options.QuotaBytes) : null;

    /// <summary>Whether a download of <paramref name="path"/> is a folder (archived) or a file (streamed).</summary>
    public bool IsFolder(StoragePath path) => folder.IsFolder(path);

    public Stream OpenRead(StoragePath path) => folder.OpenRead(path);

    /// <summary>Writes a whole file to the stream <paramref name="start"/> returns once it knows the length.</summary>
    public Task DownloadAsync(StoragePath path, Func<long, Stream> start, CancellationToken ct) => folder.DownloadAsync(path, start, ct);

    /// <summary>Streams a folder as a zip archive (links skipped), entry by entry.</summary>
    public Task WriteZipAsync(StoragePath path, Stream output, CancellationToken ct) => folder.WriteZipAsync(path, output, ct);

    private void EnsureWritable()
    {
        if (Storage.ReadOnly) throw new ReadOnlyStorageException(Storage.Name);
    }

    private long? Remaining() => options.QuotaBytes > 0 && folder.Usage() is { } used
        ? Math.Max(0, options.QuotaBytes - used - QuotaReservation.Of(folder.Root).Held) : null;

    private StorageLimitException TooLarge(long bytes) =>
        new($"The upload ({Describe(bytes)} or more) is larger than the maximum of {Describe(options.MaxUploadBytes)} per upload.");

    private StorageLimitException QuotaExceeded(long bytes, long? left = null) =>
        new($"Not enough room in '{Storage.Name}': {Describe(bytes)} do not fit in the {Describe(left ?? Remaining() ?? 0)} left of its {Describe(options.QuotaBytes)} quota. Delete files to make room.");

    internal static string Describe(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.#} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.#} MiB",
        >= 1L << 10 => $"{bytes / 1024.0:0.#} KiB",
        _ => $"{bytes} bytes",
    };
}

/// <summary>Bytes in a storage's files (uploads still in flight not counted) and the most it may hold.</summary>
public sealed record StorageUsage(long UsedBytes, long QuotaBytes);

/// <summary>Bytes held by uploads in flight into one storage folder (see <see cref="OpenedStorage"/>); lock the instance to check and hold at once.</summary>
internal sealed class QuotaReservation
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, QuotaReservation> Roots = new(StringComparer.Ordinal);
    private long _held;

    public static QuotaReservation Of(string root) => Roots.GetOrAdd(root, _ => new QuotaReservation());

    public long Held => Interlocked.Read(ref _held);

    public Claim Take(long bytes)
    {
        Interlocked.Add(ref _held, bytes);
        return new Claim(this, bytes);
    }

    /// <summary>Bytes one upload holds until disposed.</summary>
    public sealed class Claim(QuotaReservation root, long bytes) : IDisposable
    {
        private int _released;
        private long _bytes = bytes;
        public long Bytes => Interlocked.Read(ref _bytes);

        /// <summary>Holds <paramref name="more"/> bytes more (under the root's lock, after checking they are left).</summary>
        public void Grow(long more)
        {
            Interlocked.Add(ref _bytes, more);
            Interlocked.Add(ref root._held, more);
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) Interlocked.Add(ref root._held, -Bytes);
        }
    }
}
