using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Docker.DotNet.Models;
using Microsoft.AspNetCore.SignalR.Client;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Integration;

/// <summary>
/// Images missing on the engine are pulled, with progress on the task, from a real registry on
/// 127.0.0.1:5000 (started by ./rosetta.sh test); the digest actually run is recorded, and a pinned
/// digest is what runs.
/// </summary>
[Collection("platform")]
public sealed class ImagePullTests(PlatformFixture platform)
{
    private const string Registry = "127.0.0.1:5000";
    private RosettaAppFactory App => platform.App;

    [Fact]
    public async Task AMissingImageIsPulledWithVisibleProgressAndItsDigestIsRecorded()
    {
        var (repository, digest) = await PushHelloAsync();
        await using var _ = RemovingPulledImages(repository);
        using var client = await App.NewUserClientAsync();
        var software = await AddSoftwareAsync(client, repository, digest: null);

        await using var hub = new HubConnectionBuilder()
            .WithUrl(new Uri(App.BaseAddress, "/hubs/tasks"), o => o.Headers["Authorization"] = client.DefaultRequestHeaders.Authorization!.ToString())
            .Build();
        var details = new List<string>();
        hub.On<JsonObject>("TaskChanged", t => { lock (details) if ((string?)t["statusDetail"] is { } d) details.Add(d); });
        await hub.StartAsync();

        var id = (string)(await TaskApi.StartAsync(client, new { software, computing = "local" }))["id"]!;
        var running = await TaskApi.WaitForStatusAsync(client, id, "running");
        Assert.Equal(digest, (string?)running["imageDigest"]);
        lock (details) Assert.Contains(details, d => d.StartsWith("Pulling", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/t/{id}/")).StatusCode);
        await TaskApi.StopAndDeleteAsync(client, id);
    }

    [Fact]
    public async Task APinnedDigestIsWhatRuns()
    {
        var (repository, digest) = await PushHelloAsync();
        await using var _ = RemovingPulledImages(repository);
        using var client = await App.NewUserClientAsync();
        var software = await AddSoftwareAsync(client, repository, digest);
        var id = (string)(await TaskApi.StartAsync(client, new { software, computing = "local" }))["id"]!;
        var running = await TaskApi.WaitForStatusAsync(client, id, "running");
        Assert.Equal($"{repository}@{digest}", (string?)running["image"]);
        Assert.Equal(digest, (string?)running["imageDigest"]);
        await TaskApi.StopAndDeleteAsync(client, id);
    }

    /// <summary>
    /// An image the registry does not have, and a registry nobody listens at: there the engine answers
    /// 500 "connect: connection refused", and it is still the pull that failed, not the engine.
    /// </summary>
    [Theory]
    [InlineData(Registry)]
    [InlineData("127.0.0.1:1")]
    public async Task AnImageThatCannotBePulledFailsTheTaskWithTheReason(string registry)
    {
        using var client = await App.NewUserClientAsync();
        var software = await AddSoftwareAsync(client, $"{registry}/rosetta-test/absent-{Guid.NewGuid():N}", digest: null);
        var id = (string)(await TaskApi.StartAsync(client, new { software, computing = "local" }))["id"]!;
        var failed = await TaskApi.WaitForStatusAsync(client, id, "failed");
        Assert.Contains("could not be pulled", (string?)failed["error"]);
        Assert.Contains(registry, (string?)failed["error"]);
        Assert.DoesNotContain("unreachable", (string?)failed["error"]);
        Assert.Null(await DockerEngine.FindTaskContainerAsync(id));
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v1/tasks/{id}")).StatusCode);
    }

    private static async Task<string> AddSoftwareAsync(HttpClient client, string image, string? digest)
    {
        var response = await client.PostAsJsonAsync("/api/v1/software", new { name = "Pulled hello", image, tag = "v1", digest, interfacePort = 8080 });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (string)(await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
    }

    /// <summary>Pushes rosetta/hello under a fresh name and removes that name locally, so only a pull can bring it back.</summary>
    private static async Task<(string Repository, string Digest)> PushHelloAsync()
    {
        await DockerEngine.EnsureAvailableAsync();
        using var registry = new HttpClient();
        try
        {
            (await registry.GetAsync($"http://{Registry}/v2/")).EnsureSuccessStatusCode();
        }
        catch (HttpRequestException e)
        {
            throw new InvalidOperationException($"The test registry on {Registry} does not answer; ./rosetta.sh test starts it.", e);
        }

        var repository = $"{Registry}/rosetta-test/hello-{Guid.NewGuid().ToString("N")[..8]}";
        using var docker = DockerEngine.Client();
        await docker.Images.TagImageAsync("rosetta/hello:latest", new ImageTagParameters { RepositoryName = repository, Tag = "v1" });
        var errors = new List<string>();
        await docker.Images.PushImageAsync($"{repository}:v1", new ImagePushParameters { Tag = "v1" }, new AuthConfig(),
            new SyncProgress<JSONMessage>(m => { if (m.Error?.Message is { } e) errors.Add(e); }));
        Assert.Empty(errors);
        var pushed = await docker.Images.InspectImageAsync($"{repository}:v1");
        var digest = pushed.RepoDigests.Single(d => d.StartsWith(repository + "@", StringComparison.Ordinal)).Split('@')[1];
        await docker.Images.DeleteImageAsync($"{repository}:v1", new ImageDeleteParameters());
        foreach (var repoDigest in (await docker.Images.InspectImageAsync("rosetta/hello:latest")).RepoDigests.Where(d => d.StartsWith(repository)))
            await docker.Images.DeleteImageAsync(repoDigest, new ImageDeleteParameters());
        return (repository, digest);
    }

    /// <summary>On dispose, removes what the platform pulled of the test's repository, so runs do not pile up images.</summary>
    private static AsyncCleanup RemovingPulledImages(string repository) => new(async () =>
    {
        using var docker = DockerEngine.Client();
        foreach (var image in await docker.Images.ListImagesAsync(new ImagesListParameters { All = true }))
        {
            var names = (image.RepoTags ?? []).Concat(image.RepoDigests ?? []).Where(n => n.StartsWith(repository + ":", StringComparison.Ordinal) || n.StartsWith(repository + "@", StringComparison.Ordinal));
            foreach (var name in names.ToList())
            {
                try
                {
                    await docker.Images.DeleteImageAsync(name, new ImageDeleteParameters());
                }
                catch (Docker.DotNet.DockerImageNotFoundException)
                {
                    // Gone with the name removed just before.
                }
            }
        }
    });

    private sealed class AsyncCleanup(Func<Task> cleanup) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await cleanup();
    }

    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
