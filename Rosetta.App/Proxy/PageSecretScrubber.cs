using System.Buffers;
using System.Text;

namespace Rosetta.App.Proxy;

/// <summary>
/// Some interfaces write the secret they were given into their own pages (Jupyter puts its token in
/// <c>data-jupyter-api-token</c> for its scripts, and in the logo's link of its error pages). Through the proxy
/// their scripts do not need it (the proxy adds the Authorization itself), and a page must not hand it to
/// whoever views it, a share-link guest included. HTML pages go through a window a little longer than the
/// secret, with every occurrence blanked: whatever the page's size, nothing more is held per request.
/// </summary>
public static class PageSecretScrubber
{
    private const int ChunkBytes = 64 * 1024;

    public static bool IsPage(HttpResponseMessage response) =>
        response.Content.Headers.ContentType?.MediaType is "text/html"
        && response.Content.Headers.ContentEncoding.All(e => e.Equals("identity", StringComparison.OrdinalIgnoreCase));

    /// <summary>Sends <paramref name="response"/>'s body to the client with <paramref name="secret"/> blanked.</summary>
    public static async Task CopyAsync(HttpResponseMessage response, HttpResponse client, string secret, CancellationToken ct)
    {
        client.ContentLength = null; // shorter wherever the secret stood
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        await ScrubAsync(body, client.Body, Encoding.ASCII.GetBytes(secret), ct);
    }

    /// <summary>
    /// Copies <paramref name="from"/> to <paramref name="to"/> without any occurrence of <paramref name="secret"/>. The
    /// last <c>secret.Length - 1</c> bytes of each read wait for the next one: a secret may begin there.
    /// </summary>
    public static async Task ScrubAsync(Stream from, Stream to, ReadOnlyMemory<byte> secret, CancellationToken ct, int chunkBytes = ChunkBytes)
    {
        if (secret.IsEmpty)
        {
            await from.CopyToAsync(to, ct);
            return;
        }
        var window = ArrayPool<byte>.Shared.Rent(chunkBytes + secret.Length);
        try
        {
            var held = 0;
            while (true)
            {
                var read = await from.ReadAsync(window.AsMemory(held, chunkBytes), ct);
                var length = held + read;
                var start = 0;
                int at;
                while ((at = window.AsSpan(start, length - start).IndexOf(secret.Span)) >= 0)
                {
                    await to.WriteAsync(window.AsMemory(start, at), ct);
                    start += at + secret.Length;
                }
                var keep = read == 0 ? 0 : Math.Min(length - start, secret.Length - 1);
                await to.WriteAsync(window.AsMemory(start, length - start - keep), ct);
                if (read == 0) return;
                window.AsSpan(length - keep, keep).CopyTo(window);
                held = keep;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(window);
        }
    }
}
