namespace Rosetta.Core.Domain;

/// <summary>Where a task's container runs.</summary>
public enum ComputingKind
{
    /// <summary>The Docker engine on the platform host.</summary>
    Local,
    /// <summary>A standalone host reached over SSH, running Docker or Podman.</summary>
    Ssh,
    /// <summary>A Slurm cluster reached over SSH through its login host.</summary>
    Slurm,
}

/// <summary>What the platform knows of a computing resource's reachability.</summary>
public enum ComputingState
{
    /// <summary>Followed by the task monitor, and its last reconciliation succeeded.</summary>
    Available,
    /// <summary>Tried and not reached (or its kind is not served by this installation).</summary>
    Unreachable,
    /// <summary>Not tried yet (a remote resource is followed from its first task), or being reached now.</summary>
    Unknown,
}

/// <summary>The container engine used on a computing resource.</summary>
public enum ContainerEngineKind
{
    Docker,
    Podman,
    Apptainer,
}

/// <summary>How a task's interface is reached.</summary>
public enum InterfaceProtocol
{
    /// <summary>HTTP (and WebSocket) proxied at <c>/t/{id}/</c>.</summary>
    Http,
    /// <summary>An SSH server, reached through a forwarded TCP port.</summary>
    Ssh,
}
