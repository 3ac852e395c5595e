using Rosetta.Core.Backends;
using Rosetta.Core.Backends.Cli;

namespace Rosetta.Tests.Unit;

/// <summary>Reading what docker and podman print: inspections, image digests, engine info.</summary>
public sealed class ContainerCliOutputTests
{
    // Trimmed from `docker inspect` of real containers (docker 20.10); podman prints the same shape.
    private const string Inspect = """
        [
          {"Id":"aaa","Image":"sha256:img","State":{"Status":"running","Running":true,"OOMKilled":false,"ExitCode":0,"Error":""},
           "Config":{"Labels":{"rosetta.task":"t1","rosetta.instance":"i"}},
           "NetworkSettings":{"Ports":{"8080/tcp":[{"HostIp":"127.0.0.1","HostPort":"32804"}]}}},
          {"Id":"bbb","Image":"sha256:img","State":{"Status":"exited","Running":false,"OOMKilled":true,"ExitCode":137,"Error":""},
           "Config":{"Labels":{"rosetta.task":"t2"}},"NetworkSettings":{"Ports":{}}},
          {"Id":"ccc","Image":"sha256:img","State":{"Status":"created","Running":false,"ExitCode":0},
           "Config":{"Labels":{"rosetta.task":"t3"}},"NetworkSettings":{"Ports":{"8080/tcp":null}}},
          {"Id":"ddd","Image":"sha256:img","State":{"Status":"running","Running":true},"Config":{"Labels":{"other":"x"}}}
        ]
        """;

    [Fact]
    public void InspectionsBecomeObservedContainers()
    {
        var observed = ContainerCliOutput.ParseInspect(Inspect);
        Assert.Equal(3, observed.Count); // the unlabelled container is not the platform's
        Assert.Equal(new ObservedContainer("t1", "aaa", ContainerRunState.Running, null, new TaskEndpoint("127.0.0.1", 32804), "sha256:img", null), observed[0]);
        Assert.Equal(ContainerRunState.Exited, observed[1].State);
        Assert.Equal(137, observed[1].ExitCode);
        Assert.Contains("out of memory", observed[1].Error);
        Assert.Equal(ContainerRunState.Created, observed[2].State);
        Assert.Null(observed[2].Endpoint);
        Assert.Empty(ContainerCliOutput.ParseInspect("[]"));
    }

    /// <summary>Podman's in-between states, where <c>Running</c> is false, are not an end: only exited, stopped and dead are.</summary>
    [Theory]
    [InlineData("initialized", ContainerRunState.Created)]
    [InlineData("configured", ContainerRunState.Created)]
    [InlineData("stopping", ContainerRunState.Running)]
    [InlineData("paused", ContainerRunState.Running)]
    [InlineData("stopped", ContainerRunState.Exited)]
    [InlineData("exited", ContainerRunState.Exited)]
    [InlineData("dead", ContainerRunState.Exited)]
    public void PodmansStatesAreReadForWhatTheyAre(string status, ContainerRunState expected)
    {
        var json = """[{"Id":"p1","Image":"x","State":{"Status":"STATUS","Running":false,"ExitCode":0},"Config":{"Labels":{"rosetta.task":"t1"}}}]""".Replace("STATUS", status);
        var observed = Assert.Single(ContainerCliOutput.ParseInspect(json));
        Assert.Equal(expected, observed.State);
        Assert.Equal(expected == ContainerRunState.Exited ? 0 : null, observed.ExitCode);
    }

    [Fact]
    public void TheDigestIsTheOneOfTheImagesOwnRepositoryElseTheImageId()
    {
        const string image = """[{"Id":"sha256:local","RepoDigests":["127.0.0.1:5000/other@sha256:wrong","quay.io/team/app@sha256:right"]}]""";
        Assert.Equal("sha256:right", ContainerCliOutput.ParseImageDigest(image, "quay.io/team/app:1.0"));
        Assert.Equal("sha256:local", ContainerCliOutput.ParseImageDigest(image, "rosetta/hello:latest"));
        Assert.Equal("sha256:lib", ContainerCliOutput.ParseImageDigest("""[{"Id":"x","RepoDigests":["docker.io/library/busybox@sha256:lib"]}]""", "busybox"));
        // Podman: images loaded on the host are localhost/…, and ids come without the algorithm.
        Assert.Equal("sha256:pod", ContainerCliOutput.ParseImageDigest("""[{"Id":"x","RepoDigests":["localhost/rosetta/hello@sha256:pod"]}]""", "rosetta/hello:latest"));
        var bare = new string('a', 64);
        Assert.Equal("sha256:" + bare, ContainerCliOutput.ParseImageDigest($$"""[{"Id":"{{bare}}","RepoDigests":[]}]""", "x"));
    }

    [Fact]
    public void TheImagesUserIsItsConfigUserEmptyWhenItNamesNone()
    {
        Assert.Equal("65534:65534", ContainerCliOutput.ParseImageUser("""[{"Id":"x","Config":{"User":"65534:65534","Env":[]}}]"""));
        Assert.Equal("", ContainerCliOutput.ParseImageUser("""[{"Id":"x","Config":{"User":""}}]"""));
        Assert.Equal("", ContainerCliOutput.ParseImageUser("""[{"Id":"x","Config":null}]"""));
    }

    [Fact]
    public void DockerAndPodmanInfoGiveTheSizeOfTheHost()
    {
        var (docker, dockerText) = ContainerCliOutput.ParseInfo("""{"NCPU":8,"MemTotal":17179869184,"ServerVersion":"24.0.7","ContainersRunning":3}""", "docker");
        Assert.Equal(new Rosetta.Core.Validation.ComputingCapacity(8, 16L << 30), docker);
        Assert.Contains("docker 24.0.7: 8 CPUs, 16 GiB memory, 3 containers running", dockerText);
        var (podman, podmanText) = ContainerCliOutput.ParseInfo("""{"host":{"cpus":4,"memTotal":8589934592},"version":{"Version":"4.3.1"}}""", "podman");
        Assert.Equal(new Rosetta.Core.Validation.ComputingCapacity(4, 8L << 30), podman);
        Assert.Contains("podman 4.3.1", podmanText);
    }

    /// <summary>
    /// A host's answer is not trusted to be the engine's JSON (a shell banner before it, another shape, nothing): it is
    /// the host unusable as configured, said with the start of what came, not an exception that ends in a 500.
    /// </summary>
    [Fact]
    public void OutputThatIsNotTheEnginesIsSaidToBeSo()
    {
        var banner = Assert.Throws<BackendUnavailableException>(() =>
            ContainerCliOutput.ParseInfo("Welcome to the cluster!\n{\"NCPU\":8,\"MemTotal\":1}", "docker"));
        Assert.Contains("'info' was not what docker or podman print (it began: Welcome to the cluster! {", banner.Message);
        Assert.Contains("make it print nothing for non-interactive commands", banner.Message);
        Assert.Throws<BackendUnavailableException>(() => ContainerCliOutput.ParseInfo("""{"NCPU":"eight","MemTotal":1}""", "docker"));
        Assert.Throws<BackendUnavailableException>(() => ContainerCliOutput.ParseInfo("""{"something":"else"}""", "podman"));
        Assert.Contains("(nothing)", Assert.Throws<BackendUnavailableException>(() => ContainerCliOutput.ParseImageDigest("", "x")).Message);
        Assert.Throws<BackendUnavailableException>(() => ContainerCliOutput.ParseImageUser("[]"));
        Assert.Throws<BackendUnavailableException>(() => ContainerCliOutput.ParseInspect("""[{"Id":"a","State":7,"Config":{"Labels":{"rosetta.task":"t"}}}]"""));
        Assert.Throws<BackendUnavailableException>(() => ContainerCliOutput.ParseInspect("""{"not":"a list"}"""));
    }

    [Fact]
    public void ChangesBetweenTwoListingsBecomeEvents()
    {
        ObservedContainer C(string id, ContainerRunState state, int? exit = null, string? error = null) => new("t-" + id, id, state, exit, null, null, error);
        var before = new[] { C("died", ContainerRunState.Running), C("gone", ContainerRunState.Running), C("oom", ContainerRunState.Running), C("same", ContainerRunState.Running), C("started", ContainerRunState.Created) };
        var after = new[] { C("died", ContainerRunState.Exited, 3), C("oom", ContainerRunState.Exited, 137, "The container ran out of memory."), C("same", ContainerRunState.Running), C("started", ContainerRunState.Running), C("new", ContainerRunState.Exited, 1) };
        var events = ContainerChanges.Between(before, after).Select(e => $"{e.BackendId}:{e.Kind}:{e.ExitCode}").ToList();
        Assert.Equal(["died:Died:3", "gone:Died:", "gone:Destroyed:", "oom:OutOfMemory:", "oom:Died:137", "started:Started:", "new:Died:1"], events);
    }
}
