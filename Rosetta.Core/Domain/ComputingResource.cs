namespace Rosetta.Core.Domain;

/// <summary>A place where tasks run: the local engine, an SSH host or a Slurm cluster.</summary>
public sealed class ComputingResource
{
    public required string Id { get; set; }
    public required string Name { get; set; }
    public ComputingKind Kind { get; set; }
    public string? Host { get; set; }
    public int Port { get; set; } = 22;

    /// <summary>Host and port as messages show them: an IPv6 address in brackets (<c>[::1]:22</c>), so the port reads as one.</summary>
    public string Address => Host is { } host && host.Contains(':') ? $"[{host}]:{Port}" : $"{Host}:{Port}";
    public string? Username { get; set; }
    public ContainerEngineKind Engine { get; set; } = ContainerEngineKind.Docker;
    /// <summary>SHA-256 fingerprint of the SSH host key, pinned on first connection.</summary>
    public string? HostKeyFingerprint { get; set; }
    /// <summary>Default task options for this resource (cpus, memory, walltime, partition...).</summary>
    public TaskOptions Defaults { get; set; } = new();
    /// <summary>Owner's user id; null for platform-wide resources.</summary>
    public string? OwnerId { get; set; }
    public DateTime CreatedAt { get; set; } = DateTime.UtcNow;
}
