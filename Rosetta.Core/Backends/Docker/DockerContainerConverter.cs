using Docker.DotNet.Models;

namespace Rosetta.Core.Backends.Docker;

/// <summary>
/// The one seam between the platform's <see cref="ContainerSpec"/> and Docker.DotNet's models.
/// </summary>
public static class DockerContainerConverter
{
    public static CreateContainerParameters ToCreateParameters(ContainerSpec spec)
    {
        var port = $"{spec.InterfacePort}/tcp";
        return new CreateContainerParameters
        {
            Name = spec.Name,
            Image = spec.Image,
            Env = spec.Env.Select(kv => $"{kv.Key}={kv.Value}").ToList(),
            Labels = new Dictionary<string, string>(spec.Labels),
            ExposedPorts = new Dictionary<string, EmptyStruct> { [port] = default },
            HostConfig = new HostConfig
            {
                // Published on loopback only: the platform's proxy is the single way in. An empty
                // HostPort lets the engine choose a free port (docker/for-mac#5588: not "0").
                PortBindings = new Dictionary<string, IList<PortBinding>>
                {
                    [port] = [new PortBinding { HostIP = "127.0.0.1", HostPort = "" }],
                },
                NanoCPUs = spec.Cpus is { } cpus ? (long)Math.Round(cpus * 1_000_000_000) : 0,
                Memory = spec.MemoryBytes ?? 0,
                Init = true,
                Mounts = spec.Binds.Select(b => new Mount { Type = "bind", Source = b.HostPath, Target = b.ContainerPath, ReadOnly = b.ReadOnly }).ToList(),
            },
        };
    }
}
