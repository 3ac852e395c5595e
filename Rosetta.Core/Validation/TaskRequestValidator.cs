using System.Text.RegularExpressions;
using Rosetta.Core.Domain;

namespace Rosetta.Core.Validation;

/// <summary>What a computing resource can give one task; requests above it are refused up front.</summary>
public sealed record ComputingCapacity(double MaxCpus, long MaxMemoryBytes);

/// <summary>
/// Validates task options against the software and the computing resource, so a request the engine
/// or scheduler would reject is answered with a 400 that names the field, before anything is created.
/// </summary>
public static partial class TaskRequestValidator
{
    public const long MinMemoryBytes = 6L << 20; // Docker refuses less than 6 MiB.
    public const double MinCpus = 0.01;

    /// <param name="capacity">What the resource can give one task; null checks everything else (before the resource has been reached).</param>
    public static void ValidateOptions(ValidationErrors errors, TaskOptions options, Software software, ComputingResource computing, ComputingCapacity? capacity)
    {
        TextRules.Environment(errors, "options.env", options.Env, PlatformManagedVariables(software));
        if (computing.Kind != ComputingKind.Local)
        {
            RejectLineBreaks(errors, options.Env, computing);
            RejectLineBreaks(errors, software, options.Env, computing);
        }
        CheckResources(errors, "options", options, computing.Kind);
        if (capacity is not null) CheckCapacity(errors, options, computing, capacity);
    }

    /// <summary>Whether well-formed cpus and memory fit what <paramref name="computing"/> can give one task.</summary>
    public static void CheckCapacity(ValidationErrors errors, TaskOptions options, ComputingResource computing, ComputingCapacity capacity)
    {
        if (options.Cpus is { } cpus && double.IsFinite(cpus) && cpus >= MinCpus && cpus > capacity.MaxCpus)
            errors.Add("options.cpus", $"asks for {cpus} cores but '{computing.Name}' has {capacity.MaxCpus}.");
        if (ResourceQuantities.TryParseMemory(options.Memory, out var bytes) && bytes > capacity.MaxMemoryBytes)
            errors.Add("options.memory", $"asks for {ResourceQuantities.FormatBytes(bytes)} but '{computing.Name}' has {ResourceQuantities.FormatBytes(capacity.MaxMemoryBytes)}.");
    }

    /// <summary>
    /// A computing resource's defaults (what a task that says nothing gets): the rules of a task's options,
    /// less the resource's capacity, which is not known before it has been reached.
    /// </summary>
    public static void ValidateDefaults(ValidationErrors errors, TaskOptions defaults, ComputingKind kind)
    {
        if (defaults.Env is { Count: > 0 }) errors.Add("defaults.env", "is not a default of a computing resource; set variables in the software or the task.");
        CheckResources(errors, "defaults", defaults, kind);
    }

    /// <summary>The shape of the resources asked for, whatever the resource can give.</summary>
    private static void CheckResources(ValidationErrors errors, string prefix, TaskOptions options, ComputingKind kind)
    {
        if (options.Cpus is { } cpus && (double.IsNaN(cpus) || cpus < MinCpus))
            errors.Add($"{prefix}.cpus", $"must be at least {MinCpus} (a fraction of one core is allowed).");
        else if (options.Cpus is { } huge && double.IsInfinity(huge)) // JSON's 1e400
            errors.Add($"{prefix}.cpus", "is too large to be a number of cores; write e.g. 2 or 0.5.");

        if (options.Memory is { } memory)
        {
            if (!ResourceQuantities.TryParseMemory(memory, out var bytes))
                errors.Add($"{prefix}.memory", ResourceQuantities.IsMemoryNotation(memory)
                    ? $"'{Shorten(memory)}' is more memory than any machine has; write e.g. 512M or 2G."
                    : $"'{Shorten(memory)}' is not a memory size; write e.g. 512M or 2G.");
            else if (bytes < MinMemoryBytes)
                errors.Add($"{prefix}.memory", "must be at least 6M.");
        }

        if (options.Walltime is { } walltime && !ResourceQuantities.TryParseWalltime(walltime, out _))
            errors.Add($"{prefix}.walltime", ResourceQuantities.WalltimeProblem(walltime) is { } problem
                ? $"'{Shorten(walltime)}' {problem}"
                : $"'{Shorten(walltime)}' is not a duration; write HH:MM:SS (e.g. 02:00:00) or D-HH:MM:SS.");

        bool slurm = kind == ComputingKind.Slurm;
        CheckSchedulerName(errors, $"{prefix}.partition", options.Partition, slurm);
        CheckSchedulerName(errors, $"{prefix}.account", options.Account, slurm);
        if (options.Gpus is { } gpus)
        {
            if (!slurm) errors.Add($"{prefix}.gpus", "applies only to Slurm computing resources.");
            else if (gpus is < 0 or > 64) errors.Add($"{prefix}.gpus", "must be between 0 and 64.");
        }
    }

    /// <summary>Variables the platform sets itself for this software; a user may not override them.</summary>
    public static HashSet<string> PlatformManagedVariables(Software software)
    {
        var names = new HashSet<string>(StringComparer.Ordinal) { Backends.ContainerSpecFactory.StoragesEnv };
        if (software.SecretEnv is { } secret) names.Add(secret);
        if (software.ViewOnlySecretEnv is { } viewOnly) names.Add(viewOnly);
        if (software.BasePathEnv is { } basePath) names.Add(basePath);
        if (software.PortEnv is { } port) names.Add(port);
        return names;
    }

    /// <summary>
    /// Remote engines get the environment as an env file on standard input (so no value shows in a
    /// remote process list), and that format has one variable per line.
    /// </summary>
    private static void RejectLineBreaks(ValidationErrors errors, IReadOnlyDictionary<string, string>? env, ComputingResource computing)
    {
        foreach (var (name, value) in env ?? new Dictionary<string, string>())
        {
            if (value is not null && value.AsSpan().IndexOfAny('\n', '\r') >= 0 && TextRules.IsEnvName(name))
                errors.Add($"options.env.{name}", $"contains a line break, which '{computing.Name}' ({computing.Kind.ToString().ToLowerInvariant()}) cannot pass to a container; put multi-line values in a file instead.");
        }
    }

    /// <summary>The software's own fixed variables go the same way (a task's options may override them).</summary>
    private static void RejectLineBreaks(ValidationErrors errors, Software software, IReadOnlyDictionary<string, string>? overrides, ComputingResource computing)
    {
        foreach (var (name, value) in software.Env)
        {
            if (overrides?.ContainsKey(name) != true && value.AsSpan().IndexOfAny('\n', '\r') >= 0)
                errors.Add("software", $"'{software.Name}' sets {name} to a value with a line break, which '{computing.Name}' ({computing.Kind.ToString().ToLowerInvariant()}) cannot pass to a container; " +
                    $"run it on the platform host, or have the software changed (options.env.{name} with a one-line value also does).");
        }
    }

    private static void CheckSchedulerName(ValidationErrors errors, string field, string? value, bool slurm)
    {
        if (value is null) return;
        if (!slurm) errors.Add(field, "applies only to Slurm computing resources.");
        else if (!SchedulerNamePattern().IsMatch(value))
            errors.Add(field, "must be 1 to 64 characters: letters, digits, '_', '.' or '-'.");
    }

    [GeneratedRegex("^[A-Za-z0-9_.-]{1,64}\\z")]
    private static partial Regex SchedulerNamePattern();

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";
}
