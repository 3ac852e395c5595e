namespace Rosetta.Core.Domain;

/// <summary>
/// A task: one container of a <see cref="Software"/> on a <see cref="ComputingResource"/>, owned by
/// a user. This is the persisted row; the task monitor is the only writer of its state fields.
/// </summary>
public sealed class TaskRecord
{
    public required string Id { get; set; }
    public required string OwnerId { get; set; }
    public required string Name { get; set; }
    public required string SoftwareId { get; set; }
    public required string ComputingId { get; set; }
    public TaskOptions Options { get; set; } = new();
    public TaskState Status { get; set; } = TaskState.Created;
    /// <summary>Human-readable progress or reason (pull progress, queue reason).</summary>
    public string? StatusDetail { get; set; }
    public DateTime CreatedAt { get; set; } = DateTime.UtcNow;
    public DateTime UpdatedAt { get; set; } = DateTime.UtcNow;
    public DateTime? StartedAt { get; set; }
    public DateTime? EndedAt { get; set; }

    /// <summary>Image reference requested (tag or digest form).</summary>
    public string ImageReference { get; set; } = "";
    /// <summary>Digest (or image id) of the image actually run.</summary>
    public string? ImageDigest { get; set; }
    public InterfaceProtocol InterfaceProtocol { get; set; }
    /// <summary>Backend identifier: container id, or Slurm job id.</summary>
    public string? BackendId { get; set; }
    /// <summary>Where the platform host reaches the interface (127.0.0.1 and a published or tunnelled port).</summary>
    public string? InterfaceHost { get; set; }
    public int? InterfacePort { get; set; }
    /// <summary>For non-HTTP interfaces: the TCP port on the platform host that forwards to the task.</summary>
    public int? ForwardedPort { get; set; }
    public int? ExitCode { get; set; }
    public string? Error { get; set; }
    /// <summary>
    /// Whether the proxy keeps the <c>/t/{id}</c> prefix (the software serves under it) — fixed at
    /// launch, because the container was started with that base path.
    /// </summary>
    public bool ProxyKeepsPrefix { get; set; }
    /// <summary>Scheme of the Authorization header the proxy sends with the secret (e.g. <c>token</c>); null: none.</summary>
    public string? ProxyAuthorizationScheme { get; set; }
    /// <summary>
    /// Whether the container was given a view-only VNC password (<see cref="Software.ViewOnlySecretEnv"/>):
    /// fixed at creation like the secret, so the proxy knows it may log view-only guests in with it.
    /// </summary>
    public bool HasViewOnlyPassword { get; set; }
    /// <summary>The per-task interface secret, encrypted at rest.</summary>
    public string? ProtectedSecret { get; set; }

    public TaskRecord Clone() => (TaskRecord)MemberwiseClone();
}
