namespace Rosetta.Core.Backends.Docker;

/// <summary>Configuration section <c>Rosetta:Docker</c>.</summary>
public sealed class DockerEngineOptions
{
    /// <summary>The engine's API endpoint; the local socket by default.</summary>
    public string Endpoint { get; set; } = "unix:///var/run/docker.sock";
    /// <summary>Seconds a stopping container gets before it is killed.</summary>
    public int StopGraceSeconds { get; set; } = 10;
}
