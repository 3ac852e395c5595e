using System.Globalization;
using System.Text.Json;
using Rosetta.Core.Validation;

namespace Rosetta.Core.Backends.Cli;

/// <summary>What the engine CLI printed, read into the backend model. Docker and podman print the same
/// inspect format for containers; their <c>info</c> differs and both forms are read.</summary>
public static class ContainerCliOutput
{
    /// <summary>A container as inspected; <see cref="ObservedContainer.Endpoint"/> is the port on the remote loopback.</summary>
    public static IReadOnlyList<ObservedContainer> ParseInspect(string json) => Read(json, "inspect", () => ReadInspect(json));

    private static IReadOnlyList<ObservedContainer> ReadInspect(string json)
    {
        using var document = JsonDocument.Parse(json.Trim().Length == 0 ? "[]" : json);
        var observed = new List<ObservedContainer>();
        foreach (var container in document.RootElement.EnumerateArray())
        {
            if (Labels(container).GetValueOrDefault(ContainerLabels.Task) is not { } taskId) continue;
            var state = container.GetProperty("State");
            var status = String(state, "Status") ?? "";
            var runState = RunStateOf(status, state.TryGetProperty("Running", out var r) && r.ValueKind == JsonValueKind.True);
            var running = runState == ContainerRunState.Running;
            var oom = state.TryGetProperty("OOMKilled", out var o) && o.ValueKind == JsonValueKind.True;
            var error = oom ? "The container ran out of memory and was killed." : String(state, "Error") is { Length: > 0 } e ? e : null;
            int? exitCode = runState == ContainerRunState.Exited && state.TryGetProperty("ExitCode", out var code) && code.TryGetInt32(out var c) ? c : null;
            observed.Add(new ObservedContainer(taskId, String(container, "Id") ?? "", runState, exitCode,
                running ? PublishedEndpoint(container) : null, String(container, "Image"), error));
        }
        return observed;
    }

    /// <summary>
    /// Docker's and podman's states. Only those of a container that ended count as ended: podman passes a new container
    /// through "initialized" before "running", and one being stopped through "stopping", with <c>Running</c> false in
    /// both; read as ended, a poll in that moment failed a task starting well ("exited with code 0").
    /// </summary>
    private static ContainerRunState RunStateOf(string status, bool running) => status switch
    {
        _ when running => ContainerRunState.Running,
        "created" or "configured" or "initialized" => ContainerRunState.Created,
        "paused" or "stopping" or "restarting" => ContainerRunState.Running, // alive still; an end is seen when it comes
        _ => ContainerRunState.Exited, // exited, stopped, dead, removing; and unknown
    };

    /// <summary>The registry digest of <paramref name="image"/> when it came from a registry, else the image id.</summary>
    public static string ParseImageDigest(string json, string image) => Read(json, "image inspect", () => ReadImageDigest(json, image));

    private static string ReadImageDigest(string json, string image)
    {
        using var document = JsonDocument.Parse(json);
        var first = document.RootElement.EnumerateArray().First();
        var repository = image.Split('@')[0];
        var colon = repository.LastIndexOf(':');
        if (colon > repository.LastIndexOf('/')) repository = repository[..colon];
        if (first.TryGetProperty("RepoDigests", out var digests) && digests.ValueKind == JsonValueKind.Array)
        {
            foreach (var digest in digests.EnumerateArray().Select(d => d.GetString() ?? ""))
            {
                var at = digest.IndexOf('@');
                if (at > 0 && RepositoryMatches(digest[..at], repository)) return digest[(at + 1)..];
            }
        }
        // Podman prints image ids without the algorithm.
        var id = String(first, "Id") ?? "";
        return id.Length == 64 && !id.Contains(':') ? "sha256:" + id : id;
    }

    /// <summary>The user the image runs as (its <c>USER</c>, <c>Config.User</c> for both engines); empty when it names none (root).</summary>
    public static string ParseImageUser(string json) => Read(json, "image inspect", () => ReadImageUser(json));

    private static string ReadImageUser(string json)
    {
        using var document = JsonDocument.Parse(json);
        var first = document.RootElement.EnumerateArray().First();
        return first.TryGetProperty("Config", out var config) && config.ValueKind == JsonValueKind.Object ? String(config, "User") ?? "" : "";
    }

    /// <summary>CPUs, memory and a one-line description from <c>info --format '{{json .}}'</c>.</summary>
    public static (ComputingCapacity Capacity, string Description) ParseInfo(string json, string program) => Read(json, "info", () => ReadInfo(json, program));

    private static (ComputingCapacity Capacity, string Description) ReadInfo(string json, string program)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        if (root.TryGetProperty("NCPU", out var ncpu)) // docker
        {
            var capacity = new ComputingCapacity(ncpu.GetInt32(), root.GetProperty("MemTotal").GetInt64());
            return (capacity, $"docker {String(root, "ServerVersion")}: {Describe(capacity)}, {Int(root, "ContainersRunning")} containers running");
        }
        var host = root.GetProperty("host"); // podman
        var podman = new ComputingCapacity(host.GetProperty("cpus").GetInt32(), host.GetProperty("memTotal").GetInt64());
        var version = root.TryGetProperty("version", out var v) ? String(v, "Version") : null;
        return (podman, $"{program} {version}: {Describe(podman)}");
    }

    /// <summary>
    /// What a host printed is not trusted to be the engine's JSON: a login whose shell prints a banner for every command
    /// (common on clusters), another engine's shape, a cut answer. Such output is the host being unusable as configured,
    /// said with the start of what came, not a 500.
    /// </summary>
    private static T Read<T>(string output, string command, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or IndexOutOfRangeException)
        {
            var start = new string(output.TrimStart().Take(120).Select(c => char.IsControl(c) ? ' ' : c).ToArray());
            throw new BackendUnavailableException(
                $"The host's answer to the engine's '{command}' was not what docker or podman print ({(start.Length == 0 ? "nothing" : $"it began: {start}")}). " +
                "If that is a message of the login's shell, make it print nothing for non-interactive commands.", e);
        }
    }

    private static string Describe(ComputingCapacity capacity) =>
        $"{capacity.MaxCpus} CPUs, {ResourceQuantities.FormatBytes(capacity.MaxMemoryBytes)} memory";

    private static bool RepositoryMatches(string candidate, string repository) =>
        candidate == repository || candidate == $"docker.io/{repository}" || candidate == $"docker.io/library/{repository}"
        || candidate == $"localhost/{repository}" // podman's name for images built or loaded on the host
        || candidate.EndsWith($"/{repository}", StringComparison.Ordinal) && !repository.Contains('/');

    private static Dictionary<string, string> Labels(JsonElement container)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (container.TryGetProperty("Config", out var config) && config.TryGetProperty("Labels", out var map) && map.ValueKind == JsonValueKind.Object)
            foreach (var label in map.EnumerateObject()) labels[label.Name] = label.Value.GetString() ?? "";
        return labels;
    }

    /// <summary>The first published TCP port (the platform publishes exactly one, the interface).</summary>
    private static TaskEndpoint? PublishedEndpoint(JsonElement container)
    {
        if (!container.TryGetProperty("NetworkSettings", out var network) || !network.TryGetProperty("Ports", out var ports)
            || ports.ValueKind != JsonValueKind.Object) return null;
        foreach (var port in ports.EnumerateObject())
        {
            if (port.Value.ValueKind != JsonValueKind.Array) continue;
            foreach (var binding in port.Value.EnumerateArray())
            {
                if (int.TryParse(String(binding, "HostPort"), NumberStyles.None, CultureInfo.InvariantCulture, out var hostPort))
                    return new TaskEndpoint(String(binding, "HostIp") is { Length: > 0 } ip && ip != "0.0.0.0" ? ip : "127.0.0.1", hostPort);
            }
        }
        return null;
    }

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static long Int(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.TryGetInt64(out var n) ? n : 0;
}
