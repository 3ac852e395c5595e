using System.Net;
using System.Text.Json.Nodes;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Integration;

/// <summary>
/// <c>GET /api/v1/storages/{id}/preview</c>: images of a short list of types only, inline but
/// unsniffable and sandboxed, so nothing uploaded runs as a page on the dashboard's origin.
/// </summary>
public sealed class StoragePreviewApiTests(StorageFixture fixture) : IClassFixture<StorageFixture>
{
    private RosettaAppFactory App => fixture.App;

    // A 1×1 transparent PNG.
    private static readonly byte[] Png = Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=");

    [Fact]
    public async Task AnImageIsServedInlineAsThatImageTypeSandboxedAndUnsniffable()
    {
        var name = "pv" + Guid.NewGuid().ToString("N")[..8];
        using var client = await App.NewUserClientAsync(name);
        await StorageApi.UploadAsync(client, "personal", "plots/Fit.PNG", Png);

        using var response = await client.GetAsync("/api/v1/storages/personal/preview?path=plots/Fit.PNG");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("inline", response.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        var policy = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.StartsWith("sandbox; default-src 'none'", policy);
        Assert.EndsWith("frame-ancestors 'none'", policy);
        Assert.Equal(Png, await response.Content.ReadAsByteArrayAsync());

        // The dashboard's other responses keep their own policy.
        using var listing = await client.GetAsync("/api/v1/storages/personal/files");
        Assert.Equal("frame-ancestors 'none'", listing.Headers.GetValues("Content-Security-Policy").Single());
    }

    [Fact]
    public async Task MarkupScriptsFoldersAndHugeImagesAreRefusedWithAReason()
    {
        var name = "pv" + Guid.NewGuid().ToString("N")[..8];
        using var client = await App.NewUserClientAsync(name);
        await StorageApi.UploadAsync(client, "personal", "page.html", "<script>alert(1)</script>"u8.ToArray());
        await StorageApi.UploadAsync(client, "personal", "logo.svg", "<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"u8.ToArray());
        await StorageApi.UploadAsync(client, "personal", "folder.png/inside.txt", "x"u8.ToArray());

        foreach (var path in new[] { "page.html", "logo.svg", "folder.png", "" })
        {
            using var refused = await client.GetAsync($"/api/v1/storages/personal/preview?path={path}");
            var body = await refused.Content.ReadAsStringAsync();
            Assert.True(refused.StatusCode == HttpStatusCode.BadRequest, $"{path}: {(int)refused.StatusCode} {body}");
            Assert.Contains(path.EndsWith(".png", StringComparison.Ordinal) || path == "" ? "is a folder" : "download it instead", (string)JsonNode.Parse(body)!["errors"]!["path"]![0]!);
        }
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/v1/storages/personal/preview?path=missing.png")).StatusCode);

        // Another user's image is not there at all.
        await StorageApi.UploadAsync(client, "personal", "mine.png", Png);
        using var other = await App.NewUserClientAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync("/api/v1/storages/personal/preview?path=mine.png")).StatusCode);

        // Larger than the preview's limit (written on the host: uploads here stop at 200 kB).
        await using (var huge = File.Create(Path.Combine(fixture.StorageRoot, "users", name, "sky.jpg")))
            huge.SetLength((32L << 20) + 1);
        using var tooLarge = await client.GetAsync("/api/v1/storages/personal/preview?path=sky.jpg");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Contains("download it instead", await tooLarge.Content.ReadAsStringAsync());
    }
}
