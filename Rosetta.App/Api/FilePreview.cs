using System.Security.Cryptography;
using System.Text;
using Rosetta.Core.Storages;

namespace Rosetta.App.Api;

/// <summary>
/// What the file manager previews and how. Images are served by the preview endpoint with a type
/// from a short list (never SVG or HTML: they could run script on the dashboard's origin), in a
/// sandbox; everything else is read as UTF-8 text on the server, its first bytes only, and shown
/// as text, never as markup.
/// </summary>
public static class FilePreview
{
    /// <summary>The most of a text file read for its preview.</summary>
    public const int MaxTextBytes = 64 * 1024;

    /// <summary>The most characters the editor takes (the text area refuses more): a file of up to <see cref="MaxTextBytes"/> holds no more.</summary>
    public const int MaxEditChars = MaxTextBytes;

    /// <summary>The largest image shown inline; bigger ones are downloaded.</summary>
    public const long MaxImageBytes = 32L << 20;

    /// <summary>
    /// The preview response's policy: no script, no plugins, no requests, its own opaque origin
    /// (sandbox), whatever the bytes turn out to be.
    /// </summary>
    public const string ContentSecurityPolicy = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'";

    private static readonly Dictionary<string, string> ImageTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        [".png"] = "image/png",
        [".jpg"] = "image/jpeg",
        [".jpeg"] = "image/jpeg",
        [".gif"] = "image/gif",
        [".webp"] = "image/webp",
    };

    /// <summary>The image type a file is shown with, by its extension; null when it is not previewed as an image.</summary>
    public static string? ImageType(string fileName) => ImageTypes.GetValueOrDefault(Path.GetExtension(fileName));

    /// <summary>The beginning of a file as text, or <see cref="TextPreview.Binary"/> when it holds NUL bytes.</summary>
    public static async Task<TextPreview> ReadTextAsync(OpenedStorage storage, StoragePath path, CancellationToken ct)
    {
        var (buffer, length) = await ReadBeginningAsync(storage, path, ct);
        var truncated = length > MaxTextBytes;
        var shown = buffer.AsSpan(0, Math.Min(length, MaxTextBytes));
        if (shown.Contains((byte)0)) return new TextPreview("", Truncated: truncated, Binary: true);
        if (!truncated)
        {
            // All of the file, valid UTF-8, with one kind of line end: it can be edited, since saving gives
            // back the same bytes for what is unchanged (a text area turns every line end into \n).
            try
            {
                var text = StrictUtf8.GetString(shown);
                var (returns, feeds, pairs) = (text.Count(c => c == '\r'), text.Count(c => c == '\n'), text.Split("\r\n").Length - 1);
                var windows = returns > 0 && returns == pairs && feeds == pairs;
                return new TextPreview(text, Truncated: false, Binary: false, Editable: returns == 0 || windows, WindowsLineEnds: windows,
                    Fingerprint: SHA256.HashData(shown));
            }
            catch (DecoderFallbackException)
            {
            }
        }
        // A cut in the middle of a multi-byte character drops that character instead of showing a '?'.
        var decoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetDecoder();
        var chars = new char[shown.Length];
        var count = decoder.GetChars(shown, chars, flush: !truncated);
        return new TextPreview(new string(chars, 0, count), truncated, Binary: false);
    }

    /// <summary>The first <see cref="MaxTextBytes"/> bytes of a file and one more, which says whether there is more.</summary>
    private static async Task<(byte[] Buffer, int Length)> ReadBeginningAsync(OpenedStorage storage, StoragePath path, CancellationToken ct)
    {
        var buffer = new byte[MaxTextBytes + 1];
        var length = 0;
        await using var content = storage.OpenRead(path);
        int read;
        while (length < buffer.Length && (read = await content.ReadAsync(buffer.AsMemory(length), ct)) > 0) length += read;
        return (buffer, length);
    }

    /// <summary>
    /// Whether the file holds what <paramref name="preview"/> read (by content: a rewrite of the same size
    /// within the same second, or one that kept the old time, is a change too).
    /// </summary>
    public static async Task<bool> StillHoldsAsync(OpenedStorage storage, StoragePath path, TextPreview preview, CancellationToken ct)
    {
        var (buffer, length) = await ReadBeginningAsync(storage, path, ct);
        return length <= MaxTextBytes && preview.Fingerprint is { } read && SHA256.HashData(buffer.AsSpan(0, length)).AsSpan().SequenceEqual(read);
    }

    /// <summary>
    /// Saves an edited text over the file, as UTF-8 with the line ends it had (a browser hands a text
    /// area's text back with \n only). Written like an upload: under a temporary name first, within the
    /// upload size and quota, refused on a read-only storage.
    /// </summary>
    public static Task SaveTextAsync(OpenedStorage storage, StoragePath path, string text, bool windowsLineEnds, CancellationToken ct)
    {
        text = text.Replace("\r\n", "\n");
        if (windowsLineEnds) text = text.Replace("\n", "\r\n");
        var bytes = StrictUtf8.GetBytes(text);
        return storage.UploadAsync(path, new MemoryStream(bytes), bytes.Length, ct);
    }

    /// <summary>UTF-8 that refuses what it cannot decode (and writes no byte-order mark of its own: a file's own one is kept as its first character).</summary>
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}

/// <summary>
/// A text file's beginning: <see cref="Truncated"/> when there is more than <see cref="FilePreview.MaxTextBytes"/>;
/// <see cref="Editable"/> when it is the whole file, valid UTF-8, its lines ending all with \n or all with \r\n (<see cref="WindowsLineEnds"/>).
/// </summary>
public sealed record TextPreview(string Text, bool Truncated, bool Binary, bool Editable = false, bool WindowsLineEnds = false, byte[]? Fingerprint = null);
