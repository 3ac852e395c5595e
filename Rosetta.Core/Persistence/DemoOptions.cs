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
    }
}

public sealed class DemoSshHost
{
    public string Host { get; set; } = "127.0.0.1";
    public int Port { get; set; } = 2222;
    public string Username { get; set; } = "rosetta-demo";
    public ContainerEngineKind Engine { get; set; } = ContainerEngineKind.Docker;
}
