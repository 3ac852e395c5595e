using System.Buffers;
using System.Text;

namespace Rosetta.App.Proxy;

/// <summary>
/// Some interfaces write the secret they were given into their own pages (Jupyter puts its token in
/// <c>data-jupyter-api-token</c> for its scripts). Through the proxy their scripts do not need it (the
/// proxy adds the Authorization itself), and a page must not hand it to whoever views it, a share-link
/// guest included. HTML pages, which are small, are read whole and sent on with every occurrence of the
/// secret blanked; a page larger than <see cref="MaxPageBytes"/> goes through untouched.
/// </summary>
public static class PageSecretScrubber
{
    public const int MaxPageBytes = 8 << 20;

    public static bool IsPage(HttpResponseMessage response) =>
        response.Content.Headers.ContentType?.MediaType is "text/html"
        && response.Content.Headers.ContentEncoding.All(e => e.Equals("identity", StringComparison.OrdinalIgnoreCase));

    /// <summary>Sends <paramref name="response"/>'s body to the client with <paramref name="secret"/> blanked.</summary>
    public static async Task CopyAsync(HttpResponseMessage response, HttpResponse client, string secret, CancellationToken ct)
    {
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        var buffer = new MemoryStream();
        var chunk = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            int read;
            while (buffer.Length <= MaxPageBytes && (read = await body.ReadAsync(chunk, ct)) > 0) buffer.Write(chunk, 0, read);
            if (buffer.Length > MaxPageBytes)
            {
                client.ContentLength = response.Content.Headers.ContentLength;
                await client.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), ct);
                await body.CopyToAsync(client.Body, ct);
                return;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
        var page = Blank(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), Encoding.ASCII.GetBytes(secret));
        client.ContentLength = page.Length;
        await client.Body.WriteAsync(page, ct);
    }

    /// <summary>The bytes with every occurrence of <paramref name="secret"/> removed.</summary>
    public static byte[] Blank(ReadOnlySpan<byte> page, ReadOnlySpan<byte> secret)
    {
        var result = new ArrayBufferWriter<byte>(page.Length);
        int at;
        while ((at = page.IndexOf(secret)) >= 0)
        {
            result.Write(page[..at]);
            page = page[(at + secret.Length)..];
        }
        result.Write(page);
        return result.WrittenSpan.ToArray();
    }
}
