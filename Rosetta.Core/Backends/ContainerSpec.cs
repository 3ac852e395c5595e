namespace Rosetta.Core.Backends;

/// <summary>
/// Engine-neutral description of the container a task runs. Built once from the task, its software
/// and options by <see cref="ContainerSpecFactory"/>; every backend translates it for its engine.
/// </summary>
public sealed record ContainerSpec
{
    /// <summary>Container name, derived from the task id (never from user text).</summary>
    public required string Name { get; init; }
    public required string Image { get; init; }
    public required int InterfacePort { get; init; }
    public IReadOnlyDictionary<string, string> Env { get; init; } = new Dictionary<string, string>();
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
    public double? Cpus { get; init; }
    public long? MemoryBytes { get; init; }
    /// <summary>The variable through which the software accepts another interface port (where ports are shared: Apptainer on a node).</summary>
    public string? PortEnv { get; init; }
    /// <summary>What a batch scheduler is asked for (Slurm); ignored by other backends.</summary>
    public BatchRequest Batch { get; init; } = new(null, null, null, null);
    /// <summary>Host folders bound into the container (the computing resource's storages); the host folders exist.</summary>
    public IReadOnlyList<BindMount> Binds { get; init; } = [];
}

/// <summary>The scheduler options of a task (validated by <see cref="Validation.TaskRequestValidator"/>).</summary>
public sealed record BatchRequest(string? Partition, string? Account, int? Gpus, string? Walltime);

/// <summary>A folder of the host seen inside the container at <see cref="ContainerPath"/>.</summary>
public sealed record BindMount(string HostPath, string ContainerPath, bool ReadOnly);

/// <summary>Labels the platform puts on its containers.</summary>
public static class ContainerLabels
{
    /// <summary>The task id (fixed by the API contract).</summary>
    public const string Task = "rosetta.task";
    /// <summary>The installation that owns the container, so side-by-side instances never adopt each other's.</summary>
    public const string Instance = "rosetta.instance";
}
