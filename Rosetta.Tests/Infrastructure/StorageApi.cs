using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Rosetta.Tests.Infrastructure;

/// <summary>Small helpers to drive <c>/api/v1/storages</c> from tests.</summary>
public static class StorageApi
{
    public static async Task<HttpResponseMessage> PutAsync(HttpClient client, string storage, string path, byte[] content) =>
        await client.PutAsync($"/api/v1/storages/{storage}/files?path={Uri.EscapeDataString(path)}", new ByteArrayContent(content));

    public static async Task UploadAsync(HttpClient client, string storage, string path, byte[] content)
    {
        var response = await PutAsync(client, storage, path, content);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"PUT {path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    public static async Task<JsonArray> ListAsync(HttpClient client, string storage, string path = "")
    {
        var response = await client.GetAsync($"/api/v1/storages/{storage}/files?path={Uri.EscapeDataString(path)}");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"listing '{path}' answered {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!["entries"]!.AsArray();
    }

    public static async Task<List<string>> NamesAsync(HttpClient client, string storage, string path = "") =>
        (await ListAsync(client, storage, path)).Select(e => (string)e!["name"]!).ToList();

    public static Task<HttpResponseMessage> PostJsonAsync(HttpClient client, string storage, string action, object body) =>
        client.PostAsJsonAsync($"/api/v1/storages/{storage}/{action}", body);

    /// <summary>Waits until <paramref name="condition"/> holds; fails saying <paramref name="what"/> otherwise.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what, int seconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"after {seconds} s still not: {what}");
            await Task.Delay(50);
        }
    }

    /// <summary>The uploads in progress (or left behind) in a folder on this machine: their temporary files.</summary>
    public static string[] UploadsInProgress(string folder) =>
        Directory.Exists(folder) ? Directory.GetFileSystemEntries(folder, ".rosetta-upload-*") : [];

    /// <summary>
    /// A raw client that promises <paramref name="declared"/> bytes for <paramref name="path"/>, sends
    /// <paramref name="sent"/>, waits until the platform has started writing (<paramref name="started"/>)
    /// and goes away, as a browser tab closed mid-upload.
    /// </summary>
    public static async Task AbortUploadHalfwayAsync(Uri app, string token, string storage, string path, int declared, int sent, Func<bool> started)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(app.Host, app.Port);
        var stream = tcp.GetStream();
        var head = $"PUT /api/v1/storages/{storage}/files?path={Uri.EscapeDataString(path)} HTTP/1.1\r\nHost: {app.Authority}\r\n" +
                   $"Authorization: Bearer {token}\r\nContent-Length: {declared}\r\n\r\n";
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(head));
        await stream.WriteAsync(new byte[sent]);
        await stream.FlushAsync();
        await WaitUntilAsync(started, "the platform started writing the upload");
        tcp.Client.LingerState = new System.Net.Sockets.LingerOption(true, 0); // a reset, as when the client's process dies
    }

    /// <summary>A whole download is an attachment of the file's length; a ranged one (resumed downloads) the bytes asked for.</summary>
    public static async Task AssertDownloadAsync(HttpClient client, string storage, string path, byte[] content)
    {
        var url = $"/api/v1/storages/{storage}/download?path={Uri.EscapeDataString(path)}";
        using var whole = await client.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
        Assert.Equal(content.Length, whole.Content.Headers.ContentLength);
        Assert.Equal("application/octet-stream", whole.Content.Headers.ContentType?.MediaType);
        Assert.Equal("attachment", whole.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal(path.Split('/')[^1], whole.Content.Headers.ContentDisposition?.FileNameStar);
        Assert.Equal(content, await whole.Content.ReadAsByteArrayAsync());

        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(3, 9);
        using var ranged = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.PartialContent, ranged.StatusCode);
        Assert.Equal(content[3..10], await ranged.Content.ReadAsByteArrayAsync());
    }
}
