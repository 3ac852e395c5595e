namespace Rosetta.Core.Domain;

/// <summary>Per-task options from the API contract. Every field is optional.</summary>
public sealed record TaskOptions
{
    /// <summary>Extra environment variables for the container.</summary>
    public Dictionary<string, string>? Env { get; init; }
    /// <summary>CPU limit, in cores (fractions allowed).</summary>
    public double? Cpus { get; init; }
    /// <summary>Memory limit such as <c>512M</c> or <c>2G</c>.</summary>
    public string? Memory { get; init; }
    /// <summary>Wall-clock limit, <c>HH:MM:SS</c> or <c>D-HH:MM:SS</c>.</summary>
    public string? Walltime { get; init; }
    public string? Partition { get; init; }
    public string? Account { get; init; }
    public int? Gpus { get; init; }
}
