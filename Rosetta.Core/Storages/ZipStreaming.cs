using System.IO.Compression;

namespace Rosetta.Core.Storages;

/// <summary>Writes a zip archive entry by entry straight to the output: nothing is built in memory or on disk.</summary>
internal static class ZipStreaming
{
    public sealed record Item(string RelativePath, bool IsFolder, DateTime Modified, Func<Stream> Open);

    public static async Task WriteAsync(Stream output, IEnumerable<Item> items, CancellationToken ct)
    {
        await using var zip = await ZipArchive.CreateAsync(output, ZipArchiveMode.Create, leaveOpen: true, entryNameEncoding: null, ct);
        foreach (var item in items)
        {
            if (item.IsFolder)
            {
                zip.CreateEntry(item.RelativePath + "/");
                continue;
            }
            var entry = zip.CreateEntry(item.RelativePath, CompressionLevel.Fastest);
            entry.LastWriteTime = ZipTime(item.Modified);
            await using var target = await entry.OpenAsync(ct);
            await using var source = item.Open();
            await source.CopyToAsync(target, 128 * 1024, ct);
        }
    }

    /// <summary>
    /// Zip stores times from 1980 to 2107 only, and a file from a reproducible build or an old tarball
    /// (modified in 1970) must not end the archive halfway: such times are moved to the nearest end.
    /// </summary>
    private static DateTimeOffset ZipTime(DateTime modified)
    {
        var earliest = new DateTimeOffset(1980, 1, 2, 0, 0, 0, TimeSpan.Zero); // a day in: local time zones cannot push it before 1980
        var latest = new DateTimeOffset(2107, 12, 30, 0, 0, 0, TimeSpan.Zero);
        var time = new DateTimeOffset(DateTime.SpecifyKind(modified, DateTimeKind.Utc));
        return time < earliest ? earliest : time > latest ? latest : time;
    }
}
