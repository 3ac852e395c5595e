using Rosetta.Core.Domain;

namespace Rosetta.Core.Persistence;

/// <summary>
/// Demo computing resources that <c>./rosetta.sh demo</c> asks for (configuration section
/// <c>Rosetta:Demo</c>), so a newcomer can try every backend on one machine.
/// </summary>
public sealed class DemoOptions
{
    /// <summary>The loopback SSH host that <c>./rosetta.sh infra</c> starts; registered as platform-wide <c>demo-ssh</c>.</summary>
    public DemoSshHost? Ssh { get; set; }

    public const string SshComputingId = "demo-ssh";

    /// <summary>The single-node Slurm cluster that <c>./rosetta.sh infra</c> starts, its login host being the demo SSH host; registered as platform-wide <c>demo-slurm</c>.</summary>
    public DemoSshHost? Slurm { get; set; }

    public const string SlurmComputingId = "demo-slurm";

    /// <summary>The demo resources to seed, as computing rows.</summary>
    public IEnumerable<ComputingResource> Computing()
    {
        if (Ssh is { } ssh)
        {
            yield return new ComputingResource
            {
                Id = SshComputingId, Name = "Demo SSH host", Kind = ComputingKind.Ssh, Host = ssh.Host, Port = ssh.Port,
                Username = ssh.Username, Engine = ssh.Engine,
            };
        }
        if (Slurm is { } slurm)
        {
            yield return new ComputingResource
            {
                Id = SlurmComputingId, Name = "Demo Slurm cluster", Kind = ComputingKind.Slurm, Host = slurm.Host, Port = slurm.Port,
                Username = slurm.Username, Engine = slurm.Engine, Defaults = new TaskOptions { Partition = "debug" },
            };
        }
    }
}

public sealed class DemoSshHost
{
    public string Host { get; set; } = "127.0.0.1";
    public int Port { get; set; } = 2222;
    public string Username { get; set; } = "rosetta-demo";
    public ContainerEngineKind Engine { get; set; } = ContainerEngineKind.Docker;
}
