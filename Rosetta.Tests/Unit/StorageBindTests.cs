using Rosetta.Core.Backends;
using Rosetta.Core.Backends.Cli;
using Rosetta.Core.Backends.Docker;
using Rosetta.Core.Domain;
using Rosetta.Core.Storages;

namespace Rosetta.Tests.Unit;

/// <summary>Storages reach the engines as bind mounts, read-only where the storage is.</summary>
public sealed class StorageBindTests
{
    private static readonly ContainerSpec Spec = new()
    {
        Name = "rosetta-0123456789abcdef",
        Image = "rosetta/hello",
        InterfacePort = 8080,
        Binds = [new BindMount("/srv/rosetta/users/alice", "/storages/personal", false), new BindMount("/data/reference set", "/storages/reference", true)],
    };

    [Fact]
    public void DockerGetsBindMountsReadOnlyWhereTheStorageIs()
    {
        var mounts = DockerContainerConverter.ToCreateParameters(Spec).HostConfig!.Mounts!;
        Assert.Collection(mounts,
            m => Assert.Equal(("bind", "/srv/rosetta/users/alice", "/storages/personal", false), (m.Type, m.Source, m.Target, m.ReadOnly)),
            m => Assert.Equal(("bind", "/data/reference set", "/storages/reference", true), (m.Type, m.Source, m.Target, m.ReadOnly)));
    }

    [Fact]
    public void TheCliGetsQuotedVolumeOptionsAndTheFoldersAreMadeFirst()
    {
        var run = new ContainerCli(ContainerEngineKind.Podman).Run(Spec, new TaskFileOwner(1000, 1000), "65534:65534");
        Assert.Contains("--userns keep-id:uid=1000,gid=1000 -v /srv/rosetta/users/alice:/storages/personal -v '/data/reference set:/storages/reference:ro' --user 65534:65534 rosetta/hello", run);
        Assert.Equal("mkdir -p -- /srv/rosetta/users/alice '/data/reference set'", ContainerCli.CreateFolders(Spec.Binds.Select(b => b.HostPath)));
    }
}
