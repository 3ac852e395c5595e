using System.Diagnostics;
using Rosetta.Core.Backends;
using Rosetta.Core.Backends.Cli;
using Rosetta.Core.Backends.Slurm;
using Rosetta.Core.Domain;
using Rosetta.Core.Remote;
using Rosetta.Core.Storages;

namespace Rosetta.Tests.Unit;

/// <summary>The generated batch script as text (Apptainer has no engine here to run it) and the squeue/scontrol output read back.</summary>
public sealed class SlurmJobScriptTests
{
    private static ContainerSpec Spec(string? portEnv = null) => new()
    {
        Name = "rosetta-t1",
        Image = "rosetta/jupyter:latest",
        InterfacePort = 8888,
        Env = new Dictionary<string, string> { ["JUPYTER_TOKEN"] = "very-secret-token", ["EVIL"] = "$(touch /tmp/pwned)'\"`" },
        Labels = new Dictionary<string, string> { ["rosetta.task"] = "t1", ["rosetta.instance"] = "i1" },
        Cpus = 1.5,
        MemoryBytes = 512L * 1024 * 1024,
        PortEnv = portEnv,
    };

    private static readonly TaskFileOwner Owner = new(1000, 1000);

    [Fact]
    public void TheApptainerScriptRunsTheImageFromItsRegistryWithThePortVariableAndNoSecret()
    {
        var script = SlurmJobScript.Generate(Spec(portEnv: "JUPYTER_PORT"), "t1", "i1", ContainerEngineKind.Apptainer, Owner);

        Assert.StartsWith("#!/bin/bash\n", script);
        Assert.Contains("engine=$(command -v apptainer || command -v singularity)", script);
        Assert.Contains("\"$engine\" run --contain --cleanenv --pid --ipc --env-file <(printf '%s\\n' \"$environment\") --env JUPYTER_PORT=\"$port\" docker://rosetta/jupyter:latest", script);
        // The env file (the interface secret) is gone before the process starts.
        Assert.True(script.IndexOf("environment=$(cat \"$env_file\" 2>/dev/null) && rm -f \"$env_file\" ||", StringComparison.Ordinal) is var read and >= 0
            && read < script.IndexOf("engine=$(command -v apptainer", StringComparison.Ordinal), "the env file is read and removed before anything can end the job");
        Assert.Contains("env_file=t1.env", script);
        Assert.Contains("scontrol update JobId=\"$SLURM_JOB_ID\" Comment=\"$comment endpoint=$node_ip:$port\"", script);
        Assert.Contains("comment='rosetta.instance=i1 rosetta.task=t1'", script);
        // The environment travels in the 0600 env file, never in the script.
        Assert.DoesNotContain("very-secret-token", script);
        Assert.DoesNotContain("pwned", script);
        // No daemon: the process is the job's child, ended with it (no docker rm).
        Assert.DoesNotContain("docker", script.Replace("docker://", ""));
        // There is no apptainer here to run it, but bash parses it.
        var file = Path.GetTempFileName();
        File.WriteAllText(file, script);
        using var bash = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("bash", ["-n", file]) { RedirectStandardError = true })!;
        var errors = bash.StandardError.ReadToEnd();
        bash.WaitForExit();
        File.Delete(file);
        Assert.True(bash.ExitCode == 0, errors);
    }

    [Fact]
    public void WithoutAPortVariableApptainerUsesTheSoftwaresFixedPortAndASifPathIsRunAsItIs()
    {
        var script = SlurmJobScript.Generate(Spec() with { Image = "/shared/images/app.sif" }, "t1", "i1", ContainerEngineKind.Apptainer, Owner);
        Assert.Contains("port=$interface_port", script);
        Assert.Contains("--env-file <(printf '%s\\n' \"$environment\") /shared/images/app.sif", script);
    }

    [Theory]
    [InlineData(ContainerEngineKind.Docker, "docker")]
    [InlineData(ContainerEngineKind.Podman, "podman")]
    public void TheEngineScriptPublishesOnTheNodeAddressAndRemovesTheContainerOnEveryEnd(ContainerEngineKind engine, string program)
    {
        var script = SlurmJobScript.Generate(Spec(), "t1", "i1", engine, Owner);
        // The node port is picked by the script and reported while the container starts; a taken one is tried again.
        Assert.Contains($"{program} run --name rosetta-t1 --env-file <(printf '%s\\n' \"$environment\") -p \"$node_ip:$port:$interface_port\"", script);
        Assert.Contains("report_endpoint &", script);
        Assert.Contains("port is already allocated", script);
        Assert.Contains("--cpus 1.5 --memory 536870912 rosetta/jupyter:latest", script);
        Assert.Contains($"remove_container() {{ {program} rm -f \"$container\"", script);
        Assert.Contains("trap 'remove_container; exit 143' TERM INT HUP", script);
        Assert.Contains("trap remove_container EXIT", script);
        Assert.DoesNotContain("very-secret-token", script);
    }

    [Theory]
    [InlineData(ContainerEngineKind.Docker, "-v /home/u/data:/storages/data -v '/home/u/my refs:/storages/refs:ro' ")]
    [InlineData(ContainerEngineKind.Podman, "-v /home/u/data:/storages/data -v '/home/u/my refs:/storages/refs:ro' ")]
    [InlineData(ContainerEngineKind.Apptainer, "--bind /home/u/data:/storages/data --bind '/home/u/my refs:/storages/refs:ro' ")]
    public void StoragesAreBoundAfterTheirFoldersAreMadeReadOnlyWhereTheStorageIs(ContainerEngineKind engine, string expected)
    {
        var script = SlurmJobScript.Generate(Spec() with
        {
            Binds = [new BindMount("/home/u/data", "/storages/data", false), new BindMount("/home/u/my refs", "/storages/refs", true)],
        }, "t1", "i1", engine, Owner);
        Assert.Contains(expected, script);
        var mkdir = script.IndexOf("mkdir -p -- /home/u/data '/home/u/my refs' || { echo 'The storage folders could not be created on the node.' >&2; exit 1; }", StringComparison.Ordinal);
        Assert.True(mkdir > 0 && mkdir < script.IndexOf(expected, StringComparison.Ordinal), script);
    }

    [Fact]
    public void WithDockerTheReadWriteFoldersAreOpenedToTheImagesUserBeforeTheContainerStartsAndAFailureOnlyWarns()
    {
        var script = SlurmJobScript.Generate(Spec() with
        {
            Binds = [new BindMount("/home/u/data", "/storages/data", false), new BindMount("/home/u/my refs", "/storages/refs", true)],
        }, "t1", "i1", ContainerEngineKind.Docker, Owner);
        var grant = script.IndexOf(ContainerCli.GrantTaskAccess(["/home/u/data"], Owner), StringComparison.Ordinal);
        Assert.True(grant > script.IndexOf("mkdir -p -- ", StringComparison.Ordinal) && grant < script.IndexOf("docker run", StringComparison.Ordinal), script);
        Assert.DoesNotContain("my refs'; do", script); // read-only storages stay read-only
        // No exit on failure: the task runs, and its log says what to install.
        Assert.Contains("3) echo \"rosetta: setfacl is not installed on $(hostname), so this task cannot write into its storages: install the acl package on $(hostname) so tasks can write into storages.\" >&2 ;;", script);
        Assert.DoesNotContain("--userns", script);

        // Nothing to grant without an image user (OwnerUid -1) or without a read-write storage.
        Assert.DoesNotContain("setfacl", SlurmJobScript.Generate(Spec() with { Binds = [new BindMount("/home/u/data", "/storages/data", false)] }, "t1", "i1", ContainerEngineKind.Docker, TaskFileOwner.Unchanged));
        Assert.DoesNotContain("setfacl", SlurmJobScript.Generate(Spec() with { Binds = [new BindMount("/home/u/refs", "/storages/refs", true)] }, "t1", "i1", ContainerEngineKind.Docker, Owner));
    }

    [Fact]
    public void RootlessPodmanMapsTheLoginToTheImagesUserAndApptainerNeedsNothing()
    {
        var binds = new[] { new BindMount("/home/u/data", "/storages/data", false) };
        var podman = SlurmJobScript.Generate(Spec() with { Binds = binds }, "t1", "i1", ContainerEngineKind.Podman, Owner);
        Assert.Contains("--userns keep-id:uid=1000,gid=1000 -v /home/u/data:/storages/data --user \"${image_user:-0:0}\" rosetta/jupyter:latest", podman);
        // The image's own user is read on the node (pulled first if missing), so keep-id never runs a root image as uid 1000.
        Assert.Contains("image_user=$(podman image inspect --format '{{.Config.User}}' rosetta/jupyter:latest 2>/dev/null) || { podman pull -q rosetta/jupyter:latest >/dev/null && ", podman);
        Assert.DoesNotContain("setfacl", podman);
        var apptainer = SlurmJobScript.Generate(Spec() with { Binds = binds }, "t1", "i1", ContainerEngineKind.Apptainer, Owner);
        Assert.DoesNotContain("setfacl", apptainer);
        Assert.DoesNotContain("--userns", apptainer);
    }

    /// <summary>
    /// A node whose address cannot be found (an IPv6-only NodeAddr, a resolver down) ends the job saying so, before any
    /// container starts: reporting the loopback instead sent the platform's tunnel to the login host's own port of that
    /// number, with the task's interface secret, whoever listens there. Run with stand-ins for scontrol, getent and docker.
    /// </summary>
    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task ANodeWithoutAnIpv4AddressEndsTheJobInsteadOfReportingTheLoopback()
    {
        var job = await RunWithStandInsAsync(SlurmJobScript.Generate(Spec(), "t1", "i1", ContainerEngineKind.Docker, Owner), new()
        {
            ["scontrol"] = "echo 'NodeName=n1 Arch=x86_64 NodeAddr=fd00::7 NodeHostName=n1'",
            ["getent"] = "exit 2",
        });
        Assert.Equal(1, job.ExitCode);
        Assert.Contains("No IPv4 address was found for this node (NodeAddr 'fd00::7')", job.Error);
        Assert.Empty(job.EngineCalls);
    }

    /// <summary>
    /// GPUs Slurm allocates reach the container: docker's and podman's by their node-wide ids (their containers are
    /// the engine daemon's, outside the job's device confinement), Apptainer's through --nv and the job's own
    /// CUDA_VISIBLE_DEVICES, which --cleanenv would drop. There is no GPU here: the engines are stand-ins that write
    /// down how they were called.
    /// </summary>
    [Theory]
    [InlineData(ContainerEngineKind.Docker, "docker", "--gpus\n\"device=0,2\"\n")]
    [InlineData(ContainerEngineKind.Podman, "podman", "--device\nnvidia.com/gpu=0\n--device\nnvidia.com/gpu=2\n")]
    [InlineData(ContainerEngineKind.Apptainer, "apptainer", "--nv\n--env\nCUDA_VISIBLE_DEVICES=1,3\n")]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task TheGpusSlurmAllocatesReachTheContainer(ContainerEngineKind engine, string program, string expected)
    {
        var script = SlurmJobScript.Generate(Spec(), "t1", "i1", engine, Owner, gpus: 2);
        var job = await RunWithStandInsAsync(script, Node, program, new() { ["SLURM_JOB_GPUS"] = "0,2", ["CUDA_VISIBLE_DEVICES"] = "1,3" });
        Assert.True(job.ExitCode == 0, job.Error);
        Assert.Contains(expected, Assert.Single(job.EngineCalls, call => call.StartsWith("run\n", StringComparison.Ordinal)));

        // Without GPUs asked for, none are given.
        var without = await RunWithStandInsAsync(SlurmJobScript.Generate(Spec(), "t1", "i1", engine, Owner), Node, program, new() { ["SLURM_JOB_GPUS"] = "0,2" });
        var run = Assert.Single(without.EngineCalls, call => call.StartsWith("run\n", StringComparison.Ordinal));
        Assert.DoesNotContain("gpu", run, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("--nv\n", run);
    }

    /// <summary>A job Slurm named no GPUs for (the gres not configured) ends saying so, before the container starts without them.</summary>
    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task AJobAskingForGpusThatSlurmNamedNoneForEndsSayingSo()
    {
        var job = await RunWithStandInsAsync(SlurmJobScript.Generate(Spec(), "t1", "i1", ContainerEngineKind.Docker, Owner, gpus: 1), Node, "docker", new());
        Assert.Equal(1, job.ExitCode);
        Assert.Contains("Slurm named none for its job (SLURM_JOB_GPUS is empty)", job.Error);
        Assert.DoesNotContain(job.EngineCalls, call => call.StartsWith("run\n", StringComparison.Ordinal));
    }

    /// <summary>A node Slurm reaches on the loopback, as the test cluster's is.</summary>
    private static readonly Dictionary<string, string> Node = new() { ["scontrol"] = "echo 'NodeName=n1 NodeAddr=127.0.0.1 NodeHostName=n1'" };

    private sealed record JobRun(int ExitCode, string Error, IReadOnlyList<string> EngineCalls);

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static Task<JobRun> RunWithStandInsAsync(string script, Dictionary<string, string> standIns) =>
        RunWithStandInsAsync(script, standIns, "docker", new());

    /// <summary>
    /// Runs a job script as Slurm would on a node, with stand-ins for the commands named (their bodies) and for the engine
    /// <paramref name="engine"/>, which writes down each call's arguments (one per line) and exits 0.
    /// </summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static async Task<JobRun> RunWithStandInsAsync(string script, Dictionary<string, string> standIns, string engine, Dictionary<string, string> environment)
    {
        var folder = Directory.CreateTempSubdirectory("rosetta-slurm-job");
        try
        {
            var bin = folder.CreateSubdirectory("bin").FullName;
            var calls = Path.Combine(folder.FullName, "engine-calls");
            var all = new Dictionary<string, string>(standIns)
            {
                [engine] = $"{{ printf '%s\\n' \"$@\"; echo ---; }} >> {ShellCommand.Quote(calls)}",
            };
            foreach (var (name, body) in all)
            {
                var path = Path.Combine(bin, name);
                await File.WriteAllTextAsync(path, "#!/bin/bash\n" + body + "\n");
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
            await File.WriteAllTextAsync(Path.Combine(folder.FullName, "t1.env"), "A=1\n");
            await File.WriteAllTextAsync(Path.Combine(folder.FullName, "job.sh"), script);

            var start = new ProcessStartInfo("bash", ["job.sh"]) { RedirectStandardError = true, WorkingDirectory = folder.FullName };
            start.Environment["PATH"] = bin + ":" + Environment.GetEnvironmentVariable("PATH");
            start.Environment["SLURM_JOB_ID"] = "7";
            foreach (var (name, value) in environment) start.Environment[name] = value;
            using var job = Process.Start(start)!;
            var error = await job.StandardError.ReadToEndAsync();
            await job.WaitForExitAsync();
            var recorded = File.Exists(calls) ? (await File.ReadAllTextAsync(calls)).Split("---\n", StringSplitOptions.RemoveEmptyEntries) : [];
            return new JobRun(job.ExitCode, error, recorded);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData(ContainerEngineKind.Docker)]
    [InlineData(ContainerEngineKind.Podman)]
    [InlineData(ContainerEngineKind.Apptainer)]
    public async Task EveryGeneratedScriptIsValidBash(ContainerEngineKind engine)
    {
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, SlurmJobScript.Generate(Spec(portEnv: "PORT") with
            {
                Image = "x/y:'z",
                Binds = [new BindMount("/home/u/it's $(x)", "/storages/a", false), new BindMount("/home/u/b", "/storages/b", true)],
            }, "t1", "i'1", engine, Owner));
            using var bash = Process.Start(new ProcessStartInfo("bash", ["-n", file]) { RedirectStandardError = true })!;
            var error = await bash.StandardError.ReadToEndAsync();
            await bash.WaitForExitAsync();
            Assert.True(bash.ExitCode == 0, error);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void TheListingKeepsOnlyThisInstancesJobsWithTheirEndpoints()
    {
        var output = """
            12|rosetta-t1|RUNNING|None|localhost|rosetta.instance=i1 rosetta.task=0123456789abcdef endpoint=10.0.0.5:43210
            13|rosetta-t2|PENDING|Resources||rosetta.instance=i1 rosetta.task=fedcba9876543210
            14|rosetta-t3|RUNNING|None|localhost|rosetta.instance=other rosetta.task=00000000000000aa
            15|myjob|RUNNING|None|localhost|
            16|planted|PENDING|Resources||rosetta.instance=i1 rosetta.task=../../.ssh/authorized_keys
            17|planted|PENDING|Resources||rosetta.instance=i1 rosetta.task=t1
            x18|planted|PENDING|Resources||rosetta.instance=i1 rosetta.task=00000000000000bb
            """;
        var jobs = SlurmQueue.ParseList(output, "i1");
        Assert.Equal(["12", "13"], jobs.Select(j => j.JobId));
        Assert.Equal(["0123456789abcdef", "fedcba9876543210"], jobs.Select(j => j.TaskId));
        Assert.Equal(new TaskEndpoint("10.0.0.5", 43210), jobs[0].Endpoint);
        Assert.Equal(ContainerRunState.Running, SlurmQueue.RunState(jobs[0]));
        Assert.Equal(ContainerRunState.Queued, SlurmQueue.RunState(jobs[1]));
        Assert.Equal("Slurm job 13 pending: Resources", SlurmQueue.WaitingDetail(jobs[1]));
        Assert.Equal("Slurm job 13 pending: waiting for the scheduler to place it", SlurmQueue.WaitingDetail(jobs[1] with { Reason = "None" }));
    }

    [Theory]
    [InlineData("0:0", 0)]
    [InlineData("3:0", 3)]
    [InlineData("0:15", 143)]
    [InlineData("0:9", 137)]
    public void ExitCodesCountSignalsAsAShellDoes(string raw, int expected) => Assert.Equal(expected, SlurmQueue.ExitCode(raw));

    [Fact]
    public void AnEndedJobIsReadFromScontrol()
    {
        var ends = SlurmQueue.ParseShowJobs("JobId=12 JobName=rosetta-t1 UserId=x(1) JobState=TIMEOUT Reason=TimeLimit Dependency=(null) ExitCode=0:15\n");
        Assert.Equal("Slurm job 12 reached its time limit (TIMEOUT, exit code 0:15).", SlurmQueue.EndDetail("12", ends["12"]));
        Assert.Throws<ArgumentException>(() => SlurmQueue.ShowJobsCommand(["12; rm -rf ~"]));
    }

    [Fact]
    public async Task TheLeftoverListingNamesOnlyOldRegularEnvFilesOfTheFolder()
    {
        var home = Directory.CreateTempSubdirectory("rosetta-sweep");
        try
        {
            var folder = Directory.CreateDirectory(Path.Combine(home.FullName, SlurmJobScript.Directory)).FullName;
            var old = DateTime.UtcNow.AddMinutes(-11);
            void Plant(string name, DateTime at)
            {
                var path = Path.Combine(folder, name);
                File.WriteAllText(path, "JUPYTER_TOKEN=secret\n");
                File.SetLastWriteTimeUtc(path, at);
            }
            var ended = Rosetta.Core.Tasks.TaskIds.New();
            var fresh = Rosetta.Core.Tasks.TaskIds.New();
            Plant($"{ended}.env", old);
            Plant($"{fresh}.env", DateTime.UtcNow.AddMinutes(-9)); // a submission may be writing it now
            Plant($"{ended}.sh", old); // not an env file
            Plant("not-a-task.env", old);
            Plant("$(touch pwned).env", old);
            var outside = Path.Combine(home.FullName, "elsewhere.env");
            File.WriteAllText(outside, "x");
            File.CreateSymbolicLink(Path.Combine(folder, $"{Rosetta.Core.Tasks.TaskIds.New()}.env"), outside);

            var (code, output) = await BashAsync(SlurmJobScript.OldEnvFilesCommand(10), home.FullName, home.FullName);
            Assert.Equal(0, code);
            Assert.Equal([ended], SlurmJobScript.TaskIdsOfEnvFiles(output));
            Assert.False(File.Exists(Path.Combine(folder, "pwned")));

            Directory.Delete(folder, recursive: true); // no folder: nothing, and no failure
            File.WriteAllText(Path.Combine(home.FullName, $"{ended}.env"), "x");
            File.SetLastWriteTimeUtc(Path.Combine(home.FullName, $"{ended}.env"), old);
            (code, output) = await BashAsync(SlurmJobScript.OldEnvFilesCommand(10), home.FullName, home.FullName);
            Assert.Equal(0, code);
            Assert.Empty(SlurmJobScript.TaskIdsOfEnvFiles(output)); // not the home's own files
        }
        finally
        {
            home.Delete(recursive: true);
        }
    }

    private static async Task<(int Code, string Output)> BashAsync(string command, string home, string workingDirectory)
    {
        var start = new ProcessStartInfo("bash", ["-c", command]) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        start.Environment["HOME"] = home;
        using var bash = Process.Start(start)!;
        var output = await bash.StandardOutput.ReadToEndAsync();
        await bash.StandardError.ReadToEndAsync();
        await bash.WaitForExitAsync();
        return (bash.ExitCode, output);
    }
}
