using System.Net;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Rosetta.Core.Domain;
using Rosetta.Core.Validation;

namespace Rosetta.Core.Backends.Docker;

/// <summary>
/// Runs tasks on the Docker engine of the platform host through its API (Docker.DotNet).
/// </summary>
public sealed class DockerBackend : ITaskBackend, IDisposable
{
    private readonly IDockerClient _docker;
    private readonly DockerEngineOptions _options;
    private readonly PlatformIdentity _identity;
    private readonly ILogger<DockerBackend> _logger;
    private ComputingCapacity? _capacity;

    public DockerBackend(IOptions<DockerEngineOptions> options, PlatformIdentity identity, ILogger<DockerBackend> logger)
    {
        _options = options.Value;
        _identity = identity;
        _logger = logger;
        _docker = new DockerClientBuilder().WithEndpoint(new Uri(_options.Endpoint)).Build();
    }

    public ComputingKind Kind => ComputingKind.Local;

    public async Task<string> TestConnectionAsync(ComputingResource computing, CancellationToken ct)
    {
        var version = await Call(() => _docker.System.GetVersionAsync(ct));
        var info = await Call(() => _docker.System.GetSystemInfoAsync(ct));
        _capacity = new ComputingCapacity(info.NCPU, info.MemTotal);
        return $"Docker {version.Version} (API {version.APIVersion}) at {_options.Endpoint}: {info.NCPU} CPUs, {ResourceQuantities.FormatBytes(info.MemTotal)} memory, {info.ContainersRunning} containers running.";
    }

    public async Task<ComputingCapacity> GetCapacityAsync(ComputingResource computing, CancellationToken ct)
    {
        if (_capacity is not null) return _capacity;
        var info = await Call(() => _docker.System.GetSystemInfoAsync(ct));
        return _capacity = new ComputingCapacity(info.NCPU, info.MemTotal);
    }

    public async Task<LaunchResult> LaunchAsync(LaunchRequest request, IProgress<string> progress, CancellationToken ct)
    {
        var spec = request.Spec;
        var image = await EnsureImageAsync(spec.Image, progress, ct);

        progress.Report("Creating container");
        CreateContainerResponse created;
        try
        {
            created = await Call(() => _docker.Containers.CreateContainerAsync(DockerContainerConverter.ToCreateParameters(spec), ct));
        }
        catch (DockerApiException e) when (e.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Conflict)
        {
            throw new LaunchFailedException($"The engine refused the container: {EngineMessage(e)}", e);
        }

        try
        {
            progress.Report("Starting container");
            await Call(() => _docker.Containers.StartContainerAsync(created.ID, new ContainerStartParameters(), ct));
        }
        catch (DockerApiException e)
        {
            throw new LaunchFailedException($"The engine could not start the container: {EngineMessage(e)}", e, backendId: created.ID);
        }

        var inspect = await Call(() => _docker.Containers.InspectContainerAsync(created.ID, ct));
        var endpoint = InterfaceEndpoint(inspect, spec.InterfacePort)
            ?? throw new LaunchFailedException($"The container exited with code {inspect.State?.ExitCode} before its interface answered.",
                exitCode: inspect.State is { Running: false } state ? (int)state.ExitCode : null, backendId: created.ID);
        return new LaunchResult(created.ID, ImageDigest(image), endpoint);
    }

    public async Task StopAsync(ComputingResource computing, string backendId, CancellationToken ct)
    {
        try
        {
            await Call(() => _docker.Containers.StopContainerAsync(backendId,
                new ContainerStopParameters { WaitBeforeKillSeconds = (uint)_options.StopGraceSeconds }, ct));
        }
        catch (DockerContainerNotFoundException)
        {
            // Already gone: stopping is done.
        }
    }

    public async Task RemoveAsync(ComputingResource computing, string taskId, string backendId, CancellationToken ct)
    {
        try
        {
            await Call(() => _docker.Containers.RemoveContainerAsync(backendId,
                new ContainerRemoveParameters { Force = true, RemoveVolumes = true }, ct));
        }
        catch (DockerContainerNotFoundException)
        {
        }
        catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.Conflict)
        {
            // "removal already in progress"
        }
    }

    public async IAsyncEnumerable<LogLine> ReadLogsAsync(ComputingResource computing, string backendId, int? tail, bool follow,
        [EnumeratorCancellation] CancellationToken ct)
    {
        MultiplexedStream stream;
        try
        {
            stream = await Call(() => _docker.Containers.GetContainerLogsAsync(backendId, new ContainerLogsParameters
            {
                ShowStdout = true,
                ShowStderr = true,
                Follow = follow,
                Timestamps = true,
                Tail = tail is { } n ? n.ToString(System.Globalization.CultureInfo.InvariantCulture) : "all",
            }, ct));
        }
        catch (DockerContainerNotFoundException)
        {
            yield break;
        }

        using (stream)
        {
            var stdout = new LogLineAssembler(LogStream.Stdout, timestamps: true);
            var stderr = new LogLineAssembler(LogStream.Stderr, timestamps: true);
            var buffer = new byte[16 * 1024];
            while (true)
            {
                MultiplexedStream.ReadResult read;
                try
                {
                    read = await stream.ReadOutputAsync(buffer, 0, buffer.Length, ct);
                }
                catch (IOException) when (!ct.IsCancellationRequested)
                {
                    break; // The engine closed the stream (container removed, engine restarted).
                }
                if (read.EOF) break;
                var assembler = read.Target == MultiplexedStream.TargetStream.StandardError ? stderr : stdout;
                foreach (var line in assembler.Append(buffer.AsSpan(0, read.Count))) yield return line;
            }
            if (stdout.Flush() is { } lastOut) yield return lastOut;
            if (stderr.Flush() is { } lastErr) yield return lastErr;
        }
    }

    public async Task<IReadOnlyList<ObservedContainer>> ListAsync(ComputingResource computing, CancellationToken ct)
    {
        var containers = await Call(() => _docker.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["label"] = new Dictionary<string, bool> { [$"{ContainerLabels.Instance}={_identity.InstanceId}"] = true },
            },
        }, ct));

        var observed = new List<ObservedContainer>(containers.Count);
        foreach (var container in containers)
        {
            if (!container.Labels.TryGetValue(ContainerLabels.Task, out var taskId)) continue;
            try
            {
                var inspect = await Call(() => _docker.Containers.InspectContainerAsync(container.ID, ct));
                observed.Add(Observe(taskId, inspect));
            }
            catch (DockerContainerNotFoundException)
            {
                // Removed between list and inspect: treated like never listed.
            }
        }
        return observed;
    }

    public async IAsyncEnumerable<ContainerEvent> WatchAsync(ComputingResource computing, DateTimeOffset since, [EnumeratorCancellation] CancellationToken ct)
    {
        // Events arrive on the engine's HTTP stream; a channel hands them to the iterator in order
        // (System.Progress<T> would post them to the thread pool and could reorder them).
        var channel = Channel.CreateUnbounded<Message>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var parameters = new ContainerEventsParameters
        {
            Since = since.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["type"] = new Dictionary<string, bool> { ["container"] = true },
                ["label"] = new Dictionary<string, bool> { [$"{ContainerLabels.Instance}={_identity.InstanceId}"] = true },
            },
        };
        var pump = Task.Run(async () =>
        {
            try
            {
                await _docker.System.MonitorEventsAsync(parameters, new ChannelProgress<Message>(channel.Writer), ct);
                channel.Writer.TryComplete(new BackendUnavailableException("The Docker engine closed its event stream."));
            }
            catch (Exception e)
            {
                channel.Writer.TryComplete(ct.IsCancellationRequested ? null : Unavailable(e));
            }
        }, CancellationToken.None);

        await foreach (var message in channel.Reader.ReadAllAsync(ct))
        {
            if (ToEvent(message) is { } containerEvent) yield return containerEvent;
        }
        await pump;
    }

    public void Dispose() => _docker.Dispose();

    private async Task<ImageInspectResponse> EnsureImageAsync(string image, IProgress<string> progress, CancellationToken ct)
    {
        try
        {
            return await Call(() => _docker.Images.InspectImageAsync(image, ct));
        }
        catch (DockerImageNotFoundException)
        {
        }
        catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
        }

        progress.Report($"Pulling {image}");
        var (repository, tag) = SplitReference(image);
        var pullProgress = new PullProgress(progress);
        try
        {
            await Call(() => _docker.Images.CreateImageAsync(new ImagesCreateParameters { FromImage = repository, Tag = tag },
                null, pullProgress, ct));
        }
        catch (DockerApiException e)
        {
            throw new LaunchFailedException($"Image {image} is not on this host and could not be pulled: {EngineMessage(e)}", e);
        }
        if (pullProgress.Error is { } error)
            throw new LaunchFailedException($"Image {image} is not on this host and could not be pulled: {error}");
        try
        {
            return await Call(() => _docker.Images.InspectImageAsync(image, ct));
        }
        catch (DockerApiException e)
        {
            throw new LaunchFailedException($"Image {image} could not be pulled: {EngineMessage(e)}", e);
        }
    }

    /// <summary>Splits <c>repo:tag</c> or <c>repo@sha256:...</c>; a registry port's colon is not a tag.</summary>
    internal static (string Repository, string Tag) SplitReference(string image)
    {
        var at = image.IndexOf('@');
        if (at >= 0) return (image[..at], image[(at + 1)..]);
        var colon = image.LastIndexOf(':');
        return colon > image.LastIndexOf('/') ? (image[..colon], image[(colon + 1)..]) : (image, "latest");
    }

    /// <summary>The registry digest when the image came from a registry, else the local image id.</summary>
    private static string ImageDigest(ImageInspectResponse image) =>
        image.RepoDigests?.FirstOrDefault() is { } repoDigest && repoDigest.Contains('@')
            ? repoDigest[(repoDigest.IndexOf('@') + 1)..]
            : image.ID;

    /// <summary>
    /// Where the platform reaches the interface (<see cref="DockerEngineOptions.TaskAddress"/>). The
    /// port stays published either way: it tells a started container from one that already exited, and
    /// an operator can still reach the interface on the host.
    /// </summary>
    private TaskEndpoint? InterfaceEndpoint(ContainerInspectResponse inspect, int interfacePort)
    {
        var published = PublishedEndpoint(inspect, interfacePort);
        if (published is null || _options.TaskAddress == TaskAddressMode.Published) return published;
        var address = inspect.NetworkSettings?.Networks?.Values
            .Select(network => network.IPAddress).FirstOrDefault(ip => !string.IsNullOrEmpty(ip));
        return address is null ? published : new TaskEndpoint(address, interfacePort);
    }

    private static TaskEndpoint? PublishedEndpoint(ContainerInspectResponse inspect, int interfacePort)
    {
        if (inspect.NetworkSettings?.Ports is not { } ports) return null;
        if (!ports.TryGetValue($"{interfacePort}/tcp", out var bindings) || bindings is null) return null;
        var binding = bindings.FirstOrDefault(b => int.TryParse(b.HostPort, out _));
        return binding is null ? null : new TaskEndpoint("127.0.0.1", int.Parse(binding.HostPort, System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// The interface port of a container found again (after a restart): the one port the platform
    /// published. The image's own EXPOSE lines join the exposed ports, in any order, so those only
    /// serve for a container with nothing published.
    /// </summary>
    internal static int? InterfacePortOf(ContainerInspectResponse inspect)
    {
        static int? First(IEnumerable<string>? keys) => keys?
            .Select(k => int.TryParse(k.Split('/')[0], out var p) ? p : (int?)null).FirstOrDefault(p => p is not null);
        return First(inspect.HostConfig?.PortBindings?.Keys) ?? First(inspect.Config?.ExposedPorts?.Keys);
    }

    private ObservedContainer Observe(string taskId, ContainerInspectResponse inspect)
    {
        var state = inspect.State;
        var runState = state switch
        {
            { Running: true } => ContainerRunState.Running,
            { Status: "created" } => ContainerRunState.Created,
            _ => ContainerRunState.Exited,
        };
        var endpoint = InterfacePortOf(inspect) is { } port ? InterfaceEndpoint(inspect, port) : null;
        string? error = state?.OOMKilled == true ? "The container ran out of memory and was killed." :
            string.IsNullOrEmpty(state?.Error) ? null : state.Error;
        return new ObservedContainer(taskId, inspect.ID, runState,
            runState == ContainerRunState.Exited ? (int?)state?.ExitCode : null, endpoint, inspect.Image, error);
    }

    private static ContainerEvent? ToEvent(Message message)
    {
        var attributes = message.Actor?.Attributes;
        if (attributes is null || !attributes.TryGetValue(ContainerLabels.Task, out var taskId)) return null;
        var kind = message.Action switch
        {
            "start" => ContainerEventKind.Started,
            "die" => ContainerEventKind.Died,
            "destroy" => ContainerEventKind.Destroyed,
            "oom" => ContainerEventKind.OutOfMemory,
            _ => (ContainerEventKind?)null,
        };
        if (kind is null) return null;
        int? exitCode = attributes.TryGetValue("exitCode", out var code) && int.TryParse(code, out var c) ? c : null;
        return new ContainerEvent(taskId, message.Actor!.ID, kind.Value, exitCode);
    }

    /// <summary>Maps connection failures to <see cref="BackendUnavailableException"/> so callers can tell "engine down" from "engine said no".</summary>
    private async Task<T> Call<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (Exception e) when (IsConnectionFailure(e))
        {
            throw Unavailable(e);
        }
    }

    private async Task Call(Func<Task> call)
    {
        try
        {
            await call();
        }
        catch (Exception e) when (IsConnectionFailure(e))
        {
            throw Unavailable(e);
        }
    }

    private BackendUnavailableException Unavailable(Exception e) => e as BackendUnavailableException ??
        new BackendUnavailableException($"The Docker engine at {_options.Endpoint} is unreachable: {e.GetBaseException().Message}", e);

    /// <summary>
    /// The engine cannot be reached, or it answers that it cannot reach its own containerd. Any other
    /// answer, a 500 included, is the engine saying no: "connect: connection refused" in a pull's answer
    /// is about the registry, not the engine.
    /// </summary>
    private static bool IsConnectionFailure(Exception e) =>
        e is HttpRequestException or System.Net.Sockets.SocketException or IOException or TimeoutException
            || (e is DockerApiException api && (int)api.StatusCode >= 500 && (api.ResponseBody ?? "").Contains("containerd", StringComparison.OrdinalIgnoreCase));

    private static string EngineMessage(DockerApiException e)
    {
        var body = e.ResponseBody?.Trim() ?? "";
        // The engine answers {"message":"..."}; show the message, not the JSON.
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(body);
            if (doc.RootElement.TryGetProperty("message", out var message)) return message.GetString() ?? body;
        }
        catch (System.Text.Json.JsonException)
        {
        }
        return body.Length > 0 ? body : e.Message;
    }

    /// <summary>IProgress that writes synchronously into a channel, preserving order.</summary>
    private sealed class ChannelProgress<T>(ChannelWriter<T> writer) : IProgress<T>
    {
        public void Report(T value) => writer.TryWrite(value);
    }

    /// <summary>Turns pull messages into short progress lines and remembers a pull error.</summary>
    private sealed class PullProgress(IProgress<string> progress) : IProgress<JSONMessage>
    {
        public string? Error { get; private set; }

        public void Report(JSONMessage value)
        {
            if (!string.IsNullOrEmpty(value.Error?.Message)) Error = value.Error.Message;
            var progressText = value.Progress is { Total: > 0 } p ? $"{p.Current * 100 / p.Total}%" : null;
            var text = string.Join(' ', new[] { value.ID, value.Status, progressText }
                .Where(s => !string.IsNullOrWhiteSpace(s)));
            if (text.Length > 0) progress.Report($"Pulling: {text}");
        }
    }
}
