using System.Collections.Concurrent;
using System.Diagnostics;

namespace Rosetta.Core.Storages;

/// <summary>
/// Measures storage folders for display (<see cref="OpenedStorage.UsageAsync"/>): each measure is a walk of
/// a whole tree with blocking file system calls, so walks run one at a time on the whole platform, and a
/// caller takes the result of a walk that began after it asked instead of starting another. A burst of
/// asks (pages opening, a script in a loop) then costs at most two walks of a folder and one thread.
/// The quota's own checks on uploads and copies measure for themselves, exactly, and do not wait here.
/// </summary>
internal static class UsageWalks
{
    private static readonly SemaphoreSlim OneAtATime = new(1, 1);
    private static readonly ConcurrentDictionary<string, (long Started, long? Bytes)> Latest = new(StringComparer.Ordinal);

    public static async Task<long?> MeasureAsync(string root, Func<long?> walk, CancellationToken ct)
    {
        var asked = Stopwatch.GetTimestamp();
        await OneAtATime.WaitAsync(ct);
        try
        {
            if (Latest.TryGetValue(root, out var latest) && latest.Started >= asked) return latest.Bytes;
            var started = Stopwatch.GetTimestamp();
            var bytes = walk();
            Latest[root] = (started, bytes);
            return bytes;
        }
        finally
        {
            OneAtATime.Release();
        }
    }
}
