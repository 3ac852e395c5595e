using Rosetta.Core.Domain;
using Rosetta.Core.Security;
using Rosetta.Core.Validation;

namespace Rosetta.Core.Backends;

/// <summary>
/// The one place that turns a task into a <see cref="ContainerSpec"/>: image reference, the
/// software's environment, the user's environment, and the variables the platform manages
/// (interface secret, proxy base path), and the storages bound in.
/// </summary>
public static class ContainerSpecFactory
{
    public static ContainerSpec Create(TaskRecord task, Software software, string instanceId, string? secret, IReadOnlyList<BindMount>? binds = null)
    {
        var env = new Dictionary<string, string>(software.Env, StringComparer.Ordinal);
        foreach (var (name, value) in task.Options.Env ?? []) env[name] = value;
        if (software.BasePathEnv is { } basePathEnv) env[basePathEnv] = ProxyPath(task.Id);
        if (software.SecretEnv is { } secretEnv && secret is not null) env[secretEnv] = secret;
        if (task.HasViewOnlyPassword && software.ViewOnlySecretEnv is { } viewOnlyEnv && secret is not null)
            env[viewOnlyEnv] = TaskSecrets.ViewOnlyOf(secret);
        // Where the storages are inside the task, for images that show them where users save their work
        // (the bundled Jupyter and desktop link them into the home folder, which goes with the container).
        if (binds is { Count: > 0 }) env[StoragesEnv] = string.Join(':', binds.Select(b => b.ContainerPath));

        long? memory = ResourceQuantities.TryParseMemory(task.Options.Memory, out var bytes) ? bytes : null;
        return new ContainerSpec
        {
            Name = ContainerName(task.Id),
            Image = software.ImageReference,
            InterfacePort = software.InterfacePort,
            Env = env,
            Labels = new Dictionary<string, string>
            {
                [ContainerLabels.Task] = task.Id,
                [ContainerLabels.Instance] = instanceId,
            },
            Cpus = task.Options.Cpus,
            MemoryBytes = memory,
            PortEnv = software.PortEnv,
            Batch = new BatchRequest(task.Options.Partition, task.Options.Account, task.Options.Gpus, task.Options.Walltime),
            Binds = binds ?? [],
        };
    }

    public static string ContainerName(string taskId) => $"rosetta-{taskId}";

    /// <summary>The storages' bind paths inside a task, ':'-separated (bind paths never hold a ':').</summary>
    public const string StoragesEnv = "ROSETTA_STORAGES";

    /// <summary>The path under which the platform proxies a task's interface.</summary>
    public static string ProxyPath(string taskId) => $"/t/{taskId}/";
}
