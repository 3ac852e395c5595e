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
            entry.LastWriteTime = item.Modified;
            await using var target = await entry.OpenAsync(ct);
            await using var source = item.Open();
            await source.CopyToAsync(target, 128 * 1024, ct);
        }
    }
}
