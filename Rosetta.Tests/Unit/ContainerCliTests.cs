using Rosetta.Core.Backends;
using Rosetta.Core.Backends.Cli;
using Rosetta.Core.Domain;

namespace Rosetta.Tests.Unit;

/// <summary>The engine command lines for remote hosts: quoted, and never carrying the environment.</summary>
public sealed class ContainerCliTests
{
    private static readonly ContainerSpec Spec = new()
    {
        Name = "rosetta-0123456789abcdef",
        Image = "registry.example.org:5000/team/app:1.0",
        InterfacePort = 8888,
        Env = new Dictionary<string, string> { ["JUPYTER_TOKEN"] = "s3cret-token-value", ["NOTE"] = "it's $(hostile)" },
        Labels = new Dictionary<string, string> { [ContainerLabels.Task] = "0123456789abcdef", [ContainerLabels.Instance] = "inst" },
        Cpus = 1.5,
        MemoryBytes = 512L << 20,
    };

    [Fact]
    public void RunPublishesOnTheHostsLoopbackWithLabelsAndLimitsAndReadsTheEnvironmentFromStandardInput()
    {
        var run = new ContainerCli(ContainerEngineKind.Docker).Run(Spec);
        Assert.Equal("docker run -d --name rosetta-0123456789abcdef --env-file /dev/stdin -p 127.0.0.1::8888 " +
            "--label rosetta.task=0123456789abcdef --label rosetta.instance=inst --cpus 1.5 --memory 536870912 " +
            "registry.example.org:5000/team/app:1.0", run);
        // Secrets and other values never appear on the remote command line (a process list shows it).
        Assert.DoesNotContain("s3cret", run);
        Assert.DoesNotContain("hostile", run);
    }

    [Fact]
    public void PodmanGetsTheSameCommandsUnderItsOwnName()
    {
        var cli = new ContainerCli(ContainerEngineKind.Podman);
        Assert.StartsWith("podman run -d ", cli.Run(Spec));
        Assert.Equal("podman logs --timestamps --tail 10 --follow abc", cli.Logs("abc", 10, follow: true));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ContainerCli(ContainerEngineKind.Apptainer));
    }

    [Fact]
    public void HostileImageNamesAndIdsAreQuoted()
    {
        var cli = new ContainerCli(ContainerEngineKind.Docker);
        Assert.Equal("docker pull 'img;touch /tmp/x'", cli.Pull("img;touch /tmp/x"));
        Assert.Equal("docker stop -t 5 '$(id)'", cli.Stop("$(id)", 5));
        Assert.Equal("docker rm -f 'a b'", cli.Remove("a b"));
        Assert.Contains("--filter 'label=rosetta.instance=x y'", cli.InspectAll("x y"));
    }

    [Fact]
    public void TheEnvFileHasOneLiteralLinePerVariableAndIsNeverEmpty()
    {
        var file = ContainerCli.EnvFile(Spec.Env);
        Assert.Equal("# environment of a Rosetta task\nJUPYTER_TOKEN=s3cret-token-value\nNOTE=it's $(hostile)\n", file);
        Assert.NotEmpty(ContainerCli.EnvFile(new Dictionary<string, string>()));
        var error = Assert.Throws<ArgumentException>(() => ContainerCli.EnvFile(new Dictionary<string, string> { ["TWO"] = "a\nb" }));
        Assert.Contains("TWO", error.Message);
    }
}
