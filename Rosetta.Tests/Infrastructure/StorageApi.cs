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
}
