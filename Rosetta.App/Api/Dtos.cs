using Rosetta.Core.Domain;

namespace Rosetta.App.Api;

/// <summary>A task as the API, the hub and the pages show it (contract: GET /api/v1/tasks/{id}).</summary>
public sealed record TaskDto(
    string Id, string Name, string Status, string? StatusDetail, string Software, string Computing, string Owner,
    DateTime CreatedAt, DateTime UpdatedAt, DateTime? StartedAt, DateTime? EndedAt,
    string Image, string? ImageDigest, TaskOptions Options, InterfaceDto Interface, int? ExitCode, string? Error);

/// <summary>How to reach a task's interface: a proxied URL for HTTP, a host and port for SSH.</summary>
public sealed record InterfaceDto(string Protocol, string? Url, string? Host, int? Port);

public sealed record SoftwareDto(
    string Id, string Name, string Description, string Image, string Tag, string? Digest, int InterfacePort,
    string InterfaceProtocol, IReadOnlyDictionary<string, string> Env, bool AcceptsCustomPort, bool AcceptsInterfacePassword,
    string? PortEnv, string? SecretEnv, string? BasePathEnv, string? ProxyAuthorizationScheme, string? ViewOnlySecretEnv, bool PlatformWide)
{
    public static SoftwareDto From(Software s) => new(s.Id, s.Name, s.Description, s.Image, s.Tag, s.Digest, s.InterfacePort,
        s.InterfaceProtocol.ToString().ToLowerInvariant(), s.Env, s.AcceptsCustomPort, s.AcceptsInterfacePassword,
        s.PortEnv, s.SecretEnv, s.BasePathEnv, s.ProxyAuthorizationScheme, s.ViewOnlySecretEnv, s.OwnerId is null);
}

public sealed record ComputingDto(
    string Id, string Name, string Kind, string? Host, int Port, string? Username, string Engine,
    string? HostKeyFingerprint, TaskOptions Defaults, bool PlatformWide, string State, string? StateReason)
{
    /// <summary>With the monitor's view of it: <c>available</c>, <c>unreachable</c> (and why) or <c>unknown</c> (not tried yet).</summary>
    public static ComputingDto From(ComputingResource c, Rosetta.Core.Monitoring.TaskMonitor monitor)
    {
        var (state, reason) = monitor.StateOf(c);
        return new(c.Id, c.Name, c.Kind.ToString().ToLowerInvariant(), c.Host, c.Port, c.Username, c.Engine.ToString().ToLowerInvariant(),
            c.HostKeyFingerprint is null ? null : "SHA256:" + c.HostKeyFingerprint, c.Defaults, c.OwnerId is null, state.ToString().ToLowerInvariant(), reason);
    }
}

/// <summary>Maps tasks to DTOs; the interface URL is absolute when <c>Rosetta:PublicUrl</c> is configured.</summary>
public sealed class TaskDtoMapper(Hosting.PublicBaseUrl publicBase, Rosetta.Core.Tunnels.InterfaceForwarding forwarding)
{
    public TaskDto Map(TaskRecord t, HttpRequest? request = null)
    {
        var baseUrl = request is null ? publicBase.Or("") : publicBase.Of(request);
        var iface = t.InterfaceProtocol == InterfaceProtocol.Http
            ? new InterfaceDto("http", $"{baseUrl}/t/{t.Id}/", null, null)
            : new InterfaceDto(t.InterfaceProtocol.ToString().ToLowerInvariant(), null,
                Components.Model.TaskActions.ServedPort(t) is null ? null : forwarding.PublicHost, Components.Model.TaskActions.ServedPort(t));
        return new TaskDto(t.Id, t.Name, t.Status.ToWire(), t.StatusDetail, t.SoftwareId, t.ComputingId, t.OwnerId,
            t.CreatedAt, t.UpdatedAt, t.StartedAt, t.EndedAt, t.ImageReference, t.ImageDigest, t.Options, iface, t.ExitCode, t.Error);
    }
}
