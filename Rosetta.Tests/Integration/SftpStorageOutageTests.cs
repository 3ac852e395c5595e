using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Integration;

/// <summary>
/// An sftp storage whose host goes away in the middle of a transfer or a copy (its sshd killed with every
/// session, as a host that crashes or drops off the network): the API names the lost connection,
/// leaves nothing under the final name, removes its temporary file once the host is back, and the
/// next request reconnects by itself.
/// </summary>
[Collection("ssh")]
public sealed class SftpStorageOutageTests(SshPlatformFixture platform) : IAsyncLifetime
{
    private RosettaAppFactory App => platform.App;
    private readonly string _root = "/tmp/rosetta-sftp-outage-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _user = "so" + Guid.NewGuid().ToString("N")[..6];
    private HttpClient _client = null!;
    private PrivateSshd _sshd = null!;
    private string _storage = "";

    private string Folder => $"{_root}/{_user}";

    public async Task InitializeAsync()
    {
        _client = await App.NewUserClientAsync(_user);
        _sshd = await PrivateSshd.StartAsync(await _client.GetStringAsync("/api/v1/account/public-key"));
        var computing = await _client.PostAsJsonAsync("/api/v1/computing", new { name = "fragile host", kind = "ssh", host = "127.0.0.1", port = _sshd.Port, username = DemoSshHost.User });
        Assert.True(computing.StatusCode == HttpStatusCode.Created, await computing.Content.ReadAsStringAsync());
        _storage = "so-" + Guid.NewGuid().ToString("N")[..6];
        var storage = await _client.PostAsJsonAsync("/api/v1/storages", new
        {
            id = _storage, name = "fragile", kind = "sftp", computing = (string)(await computing.Content.ReadFromJsonAsync<JsonObject>())!["id"]!,
            basePath = _root + "/$USER", bindPath = "/storages/fragile",
        });
        Assert.True(storage.StatusCode == HttpStatusCode.Created, await storage.Content.ReadAsStringAsync());
    }

    public async Task DisposeAsync()
    {
        await _sshd.DisposeAsync();
        _client.Dispose();
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task AHostLostDuringAnUploadIsNamedAndLeavesNoFile()
    {
        await StorageApi.UploadAsync(_client, _storage, "result.bin", new byte[1000]);
        var proceed = new TaskCompletionSource();
        var upload = _client.PutAsync($"/api/v1/storages/{_storage}/files?path=result.bin", new PausingContent(1_000_000, 3_000_000, proceed.Task));
        await StorageApi.WaitUntilAsync(() => StorageApi.UploadsInProgress(Folder).Any(f => new FileInfo(f).Length > 0), "the upload reached the host");

        _sshd.Kill();
        proceed.SetResult();
        var response = await upload;
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("SSH connection to 127.0.0.1", (string?)(await TaskApi.ProblemAsync(response))["detail"]);

        // While the host is down the storage says so; once it is back the next request reconnects
        // and the upload's temporary file is removed.
        var down = await _client.GetAsync($"/api/v1/storages/{_storage}/files");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
        Assert.Contains("refused the connection", (string?)(await TaskApi.ProblemAsync(down))["detail"]);
        await _sshd.StartAsync();
        Assert.Equal(["result.bin"], await StorageApi.NamesAsync(_client, _storage));
        await StorageApi.WaitUntilAsync(() => StorageApi.UploadsInProgress(Folder).Length == 0, "the temporary file is removed after reconnecting");
        Assert.Equal(1000, new FileInfo($"{Folder}/result.bin").Length); // the old file is intact
        await StorageApi.UploadAsync(_client, _storage, "again.bin", new byte[5000]);
        Assert.Equal(5000, new FileInfo($"{Folder}/again.bin").Length);
    }

    [Fact]
    public async Task AHostLostDuringADownloadCutsTheResponseShortAndTheNextOneWorks()
    {
        var content = new byte[48 * 1024 * 1024]; // more than the socket and SFTP buffers between host and client
        Random.Shared.NextBytes(content);
        await StorageApi.UploadAsync(_client, _storage, "big.bin", content);

        using (var response = await _client.GetAsync($"/api/v1/storages/{_storage}/download?path=big.bin", HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(content.Length, response.Content.Headers.ContentLength);
            await using var body = await response.Content.ReadAsStreamAsync();
            var buffer = new byte[1024 * 1024];
            var received = await body.ReadAtLeastAsync(buffer, buffer.Length);
            _sshd.Kill();
            // The client learns the download is incomplete (the connection ends before Content-Length), not a short file taken for whole.
            await Assert.ThrowsAnyAsync<IOException>(async () =>
            {
                int read;
                while ((read = await body.ReadAsync(buffer)) > 0) received += read;
            });
            Assert.True(received < content.Length, $"received {received} of {content.Length} bytes");
        }

        await _sshd.StartAsync();
        Assert.Equal(content, await _client.GetByteArrayAsync($"/api/v1/storages/{_storage}/download?path=big.bin"));
    }

    [Fact]
    public async Task AHostLostDuringACopyLeavesNoHalfCopy()
    {
        // A folder of many files: each costs round trips, so the copy is surely cut in the middle.
        Assert.Empty(await StorageApi.ListAsync(_client, _storage));
        Directory.CreateDirectory($"{Folder}/tree");
        var content = new byte[64 * 1024];
        Random.Shared.NextBytes(content);
        for (var i = 0; i < 300; i++) await File.WriteAllBytesAsync($"{Folder}/tree/{i:000}.bin", content);

        var copy = StorageApi.PostJsonAsync(_client, _storage, "copy", new { from = "tree", to = "copy" });
        await StorageApi.WaitUntilAsync(() => StorageApi.UploadsInProgress(Folder).Any(d => Directory.Exists(d) && Directory.GetFiles(d).Length > 0), "the copy started writing");
        _sshd.Kill();
        var response = await copy;
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("SSH connection to 127.0.0.1", (string?)(await TaskApi.ProblemAsync(response))["detail"]);

        await _sshd.StartAsync();
        Assert.Equal(["tree"], await StorageApi.NamesAsync(_client, _storage));
        await StorageApi.WaitUntilAsync(() => StorageApi.UploadsInProgress(Folder).Length == 0, "the half copy is removed after reconnecting");
        Assert.False(Directory.Exists($"{Folder}/copy"));
        Assert.Equal(HttpStatusCode.Created, (await StorageApi.PostJsonAsync(_client, _storage, "copy", new { from = "tree", to = "copy" })).StatusCode);
        Assert.Equal(300, Directory.GetFiles($"{Folder}/copy").Length);
        Assert.Equal(content, await File.ReadAllBytesAsync($"{Folder}/copy/299.bin"));
    }

    /// <summary>A request body that sends <c>first</c> bytes, waits for a signal, then sends the rest.</summary>
    private sealed class PausingContent(int first, int rest, Task proceed) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(new byte[first]);
            await stream.FlushAsync();
            await proceed;
            await stream.WriteAsync(new byte[rest]);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = first + rest;
            return true;
        }
    }
}
