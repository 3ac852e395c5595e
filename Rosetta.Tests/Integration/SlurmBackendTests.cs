using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Rosetta.Core.Backends;
using Rosetta.Core.Backends.Slurm;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Integration;

/// <summary>
/// Tasks as Slurm jobs on the real single-node cluster, submitted through the real demo sshd (its
/// login host), driven through the platform's API and proxy like a user would.
/// </summary>
[Collection("slurm")]
public sealed class SlurmBackendTests(SlurmPlatformFixture platform)
{
    private const string DemoSlurm = SlurmPlatformFixture.DemoComputing;
    private RosettaAppFactory App => platform.App;

    [Fact]
    public async Task AStopArrivingAsTheJobIsSubmittedLetsSbatchFinishSoTheJobIdIsRecordedForTheStop()
    {
        // A submission cut off half-way may still reach sbatch; a job whose id was never recorded is one
        // that nothing cancels.
        var taskId = await CancelledLaunch.CheckAsync(App, DemoSlurm, cancelAtStep: "Submitting the job", async launch =>
        {
            Assert.True(launch.Submitted is not null, $"no job id recorded: the submission was cut off ({launch.Thrown?.Message})");
            Assert.Equal(launch.Submitted, await SlurmCluster.JobIdOfTaskAsync(launch.TaskId));
        });
        Assert.False(File.Exists(SlurmCluster.EnvFileOf(taskId)), "the stop left the job's env file");
    }

    [Fact]
    public async Task ASubmissionCutOffBeforeSbatchAnswersFailsTheTaskAndLeavesNoEnvFileWithTheSecret()
    {
        // sbatch waits for a stopped controller while the login host's shell running the submission is
        // killed: the env file (the interface secret) is written, and the command's own clean-up never runs.
        using var client = await App.NewUserClientAsync();
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync($"/api/v1/computing/{DemoSlurm}/test", null)).StatusCode); // the cluster's size, known before it goes quiet
        string? id = null;
        await SlurmCluster.StopControllerAsync();
        try
        {
            id = (string)(await TaskApi.StartAsync(client, new { software = "hello", computing = DemoSlurm }))["id"]!;
            var (shell, sbatch) = await SlurmCluster.WaitForSubmissionAsync(id, seconds: 8);
            Assert.True(File.Exists(SlurmCluster.EnvFileOf(id)), "the submission wrote no env file before sbatch");
            Process.GetProcessById(shell).Kill();
            Process.GetProcessById(sbatch).Kill();

            var failed = await TaskApi.WaitForStatusAsync(client, id, "failed", seconds: 30);
            Assert.Contains("ended before sbatch answered", (string?)failed["error"]);
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (File.Exists(SlurmCluster.EnvFileOf(id)) && DateTime.UtcNow < deadline) await Task.Delay(100);
            Assert.False(File.Exists(SlurmCluster.EnvFileOf(id)), "the cut-off submission left the env file");
        }
        finally
        {
            await SlurmCluster.StartControllerAsync();
            if (id is not null) await StopAndDeleteIfPresentAsync(client, id);
        }
    }

    [Fact]
    public async Task HelloRunsAsAJobBehindATunnelWithLogsAndStopCancelsTheJobAndRemovesTheContainer()
    {
        using var client = await App.NewUserClientAsync();
        var id = (string)(await TaskApi.StartAsync(client, new { name = "hello as a job", software = "hello", computing = DemoSlurm }))["id"]!;
        try
        {
            await TaskApi.WaitForStatusAsync(client, id, "running", seconds: 60);
            var jobId = await SlurmCluster.JobOfTaskAsync(id);
            Assert.Equal("RUNNING", await SlurmCluster.JobStateAsync(jobId));

            // The job's container publishes on the node's address (loopback here), reached through the login host.
            var container = await DockerEngine.InspectTaskContainerAsync(id);
            Assert.Equal("127.0.0.1", container.NetworkSettings!.Ports!["8080/tcp"]!.Single().HostIP);
            Assert.Contains("Hello from Rosetta", await client.GetStringAsync($"/t/{id}/"));
            Assert.Contains("hello: listening on port 8080", await client.GetStringAsync($"/api/v1/tasks/{id}/logs"));

            (await client.PostAsync($"/api/v1/tasks/{id}/stop", null)).EnsureSuccessStatusCode();
            await TaskApi.WaitForStatusAsync(client, id, "stopped", seconds: 40);
            Assert.Equal("CANCELLED", await SlurmCluster.JobStateAsync(jobId));
            Assert.Null(await DockerEngine.FindTaskContainerAsync(id)); // the job's trap removed it
            Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v1/tasks/{id}")).StatusCode);
        }
        finally
        {
            await StopAndDeleteIfPresentAsync(client, id);
        }
    }

    [Fact]
    public async Task AJobCancelledOutsideThePlatformEndsTheTaskWithTheSchedulersState()
    {
        using var client = await App.NewUserClientAsync();
        var id = (string)(await TaskApi.StartAsync(client, new { software = "hello", computing = DemoSlurm }))["id"]!;
        await TaskApi.WaitForStatusAsync(client, id, "running", seconds: 60);
        await SlurmCluster.CancelAsync(await SlurmCluster.JobOfTaskAsync(id));

        var exited = await TaskApi.WaitForStatusAsync(client, id, "exited", seconds: 20);
        Assert.Contains("CANCELLED", (string?)exited["error"]);
        Assert.Null(await DockerEngine.FindTaskContainerAsync(id));
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v1/tasks/{id}")).StatusCode);
    }

    [Fact]
    public async Task AnUnknownPartitionFailsTheTaskWithTheSchedulersMessage()
    {
        using var client = await App.NewUserClientAsync();
        var id = (string)(await TaskApi.StartAsync(client, new { software = "hello", computing = DemoSlurm, options = new { partition = "nosuchpartition" } }))["id"]!;
        var failed = await TaskApi.WaitForStatusAsync(client, id, "failed", seconds: 30);
        Assert.Contains("invalid partition", (string?)failed["error"], StringComparison.OrdinalIgnoreCase);
        Assert.False(File.Exists(SlurmCluster.EnvFileOf(id)), "the refused submission left the env file");
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v1/tasks/{id}")).StatusCode);
    }

    [Fact]
    public async Task WhileTheControllerRestartsARunningJobKeepsItsStateAndInterfaceAndLaterChangesAreSeen()
    {
        using var client = await App.NewUserClientAsync();
        var id = (string)(await TaskApi.StartAsync(client, new { software = "hello", computing = DemoSlurm }))["id"]!;
        try
        {
            await TaskApi.WaitForStatusAsync(client, id, "running", seconds: 60);
            var jobId = await SlurmCluster.JobOfTaskAsync(id);
            await SlurmCluster.StopControllerAsync();
            try
            {
                await TaskApi.WaitForComputingStateAsync(client, DemoSlurm, "unreachable", seconds: 30); // the monitor's squeue has failed
                Assert.Equal("running", (string?)(await TaskApi.GetAsync(client, id))["status"]);
                Assert.Contains("Hello from Rosetta", await client.GetStringAsync($"/t/{id}/")); // the node and tunnel do not need the controller
            }
            finally
            {
                await SlurmCluster.StartControllerAsync();
            }
            Assert.Equal("RUNNING", await SlurmCluster.JobStateAsync(jobId));
            await SlurmCluster.CancelAsync(jobId);
            var exited = await TaskApi.WaitForStatusAsync(client, id, "exited", seconds: 30);
            Assert.Contains("CANCELLED", (string?)exited["error"]);
        }
        finally
        {
            await StopAndDeleteIfPresentAsync(client, id);
        }
    }

    [Fact]
    public async Task AJobWaitingInTheQueueWhileTheControllerIsDownStaysQueuedAndRunsWhenItIsBack()
    {
        using var client = await App.NewUserClientAsync();
        var cpus = await SlurmCluster.NodeCpusAsync();
        var blocker = (string)(await TaskApi.StartAsync(client, new { software = "hello", computing = DemoSlurm, options = new { cpus } }))["id"]!;
        string? waiting = null;
        try
        {
            await TaskApi.WaitForStatusAsync(client, blocker, "running", seconds: 60);
            waiting = (string)(await TaskApi.StartAsync(client, new { software = "hello", computing = DemoSlurm, options = new { cpus = 1 } }))["id"]!;
            await TaskApi.WaitForStatusAsync(client, waiting, "queued", seconds: 20);
            var jobId = await SlurmCluster.JobOfTaskAsync(waiting);
            await SlurmCluster.StopControllerAsync();
            try
            {
                // The launch's listings fail: the task says so and keeps waiting for its job.
                var deadline = DateTime.UtcNow.AddSeconds(30);
                var task = await TaskApi.GetAsync(client, waiting);
                while (!((string?)task["statusDetail"] ?? "").Contains("Slurm did not answer") && DateTime.UtcNow < deadline)
                {
                    Assert.Equal("queued", (string?)task["status"]);
                    await Task.Delay(200);
                    task = await TaskApi.GetAsync(client, waiting);
                }
                Assert.Equal("queued", (string?)task["status"]);
                Assert.Contains("Slurm did not answer", (string?)task["statusDetail"]);
            }
            finally
            {
                await SlurmCluster.StartControllerAsync();
            }
            Assert.Equal("PENDING", await SlurmCluster.JobStateAsync(jobId));
            await TaskApi.StopAndDeleteAsync(client, blocker);
            await TaskApi.WaitForStatusAsync(client, waiting, "running", seconds: 60);
            Assert.Equal(jobId, await SlurmCluster.JobOfTaskAsync(waiting));
            Assert.Contains("Hello from Rosetta", await client.GetStringAsync($"/t/{waiting}/"));
        }
        finally
        {
            if (waiting is not null) await StopAndDeleteIfPresentAsync(client, waiting);
            await StopAndDeleteIfPresentAsync(client, blocker);
        }
    }

    [Fact]
    public async Task AnEndedJobKeepsItsEndAfterSlurmForgetsIt()
    {
        using var client = await App.NewUserClientAsync();
        var id = (string)(await TaskApi.StartAsync(client, new { software = "hello", computing = DemoSlurm }))["id"]!;
        try
        {
            await TaskApi.WaitForStatusAsync(client, id, "running", seconds: 60);
            var jobId = await SlurmCluster.JobOfTaskAsync(id);
            await SlurmCluster.CancelAsync(jobId);
            var exited = await TaskApi.WaitForStatusAsync(client, id, "exited", seconds: 30);

            // Slurm drops ended jobs MinJobAge seconds after their end (an hour on the demo cluster).
            await using (await SlurmCluster.ForgetEndedJobsSoonAsync())
            {
                await SlurmCluster.WaitUntilForgottenAsync(jobId, seconds: 150);
            }
            // Listings from now on no longer carry the job; the task keeps the end it had.
            var backend = App.Services.GetServices<ITaskBackend>().OfType<SlurmBackend>().Single();
            var listed = backend.ListingsOf(DemoSlurm);
            using var twoListings = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (backend.ListingsOf(DemoSlurm) < listed + 2) await Task.Delay(100, twoListings.Token);
            // (The error may have gained the job's last output meanwhile; it must not have been taken
            // for a container removed behind the platform's back.)
            var after = await TaskApi.GetAsync(client, id);
            Assert.Equal("exited", (string?)after["status"]);
            Assert.StartsWith((string)exited["error"]!, (string?)after["error"]);
            Assert.Contains($"Slurm job {jobId} ended CANCELLED", (string?)after["error"]);
            Assert.DoesNotContain("removed outside the platform", (string?)after["error"]);
        }
        finally
        {
            await StopAndDeleteIfPresentAsync(client, id);
        }
    }

    [Fact]
    public async Task AUsersOwnClusterWithRootlessPodmanOnTheNodeRunsHelloAsAJob()
    {
        using var user = await App.NewUserClientAsync();
        await DemoSshHost.AuthorizeAsync(await user.GetStringAsync("/api/v1/account/public-key"));
        var added = await user.PostAsJsonAsync("/api/v1/computing", new
        {
            name = "my cluster", kind = "slurm", host = DemoSshHost.Host, port = DemoSshHost.Port, username = DemoSshHost.User, engine = "podman",
        });
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        var computing = (string)(await added.Content.ReadFromJsonAsync<System.Text.Json.Nodes.JsonObject>())!["id"]!;
        var test = (await (await user.PostAsync($"/api/v1/computing/{computing}/test", null)).Content.ReadFromJsonAsync<System.Text.Json.Nodes.JsonObject>())!;
        Assert.True((bool)test["ok"]!, (string?)test["message"]);
        Assert.Contains("slurm-wlm 22.05", (string?)test["message"]);
        Assert.Contains("partitions debug*, short", (string?)test["message"]);

        var id = (string)(await TaskApi.StartAsync(user, new { software = "hello", computing }))["id"]!;
        try
        {
            await TaskApi.WaitForStatusAsync(user, id, "running", seconds: 60);
            Assert.Contains("Hello from Rosetta", await user.GetStringAsync($"/t/{id}/"));
            Assert.Contains(id, await DemoSshHost.PodmanAsync("ps", "--format", "{{.Names}}"));
            (await user.PostAsync($"/api/v1/tasks/{id}/stop", null)).EnsureSuccessStatusCode();
            await TaskApi.WaitForStatusAsync(user, id, "stopped", seconds: 40);
        }
        finally
        {
            await StopAndDeleteIfPresentAsync(user, id);
        }
        Assert.DoesNotContain(id, await DemoSshHost.PodmanAsync("ps", "-a", "--format", "{{.Names}}"));
    }

    [Fact]
    public async Task InAPodmanJobTheLoginIsTheImagesUserSoTheJobWritesItsReadWriteStorage()
    {
        var root = "/tmp/rosetta-slurm-sftp-" + Guid.NewGuid().ToString("N")[..8];
        using var user = await App.NewUserClientAsync();
        await DemoSshHost.AuthorizeAsync(await user.GetStringAsync("/api/v1/account/public-key"));
        var added = await user.PostAsJsonAsync("/api/v1/computing", new
        {
            name = "my podman cluster", kind = "slurm", host = DemoSshHost.Host, port = DemoSshHost.Port, username = DemoSshHost.User, engine = "podman",
        });
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        var computing = (string)(await added.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
        var storage = "pd-" + Guid.NewGuid().ToString("N")[..6];
        var created = await user.PostAsJsonAsync("/api/v1/storages", new
        {
            id = storage, name = "job data", kind = "sftp", computing, basePath = $"{root}/$SSH_USER", bindPath = "/storages/data",
        });
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        await StorageApi.UploadAsync(user, storage, "input.txt", "uploaded\n"u8.ToArray());

        var id = (string)(await TaskApi.StartAsync(user, new { software = "hello", computing }))["id"]!;
        try
        {
            await TaskApi.WaitForStatusAsync(user, id, "running", seconds: 60);
            Assert.Contains("Hello from Rosetta", await user.GetStringAsync($"/t/{id}/"));
            await DemoSshHost.PodmanAsync("exec", "--user", "1000:1000", $"rosetta-{id}", "sh", "-c",
                "echo changed >> /storages/data/input.txt && mkdir /storages/data/out && echo 42 > /storages/data/out/answer.txt");
            Assert.Equal("uploaded\nchanged\n", await user.GetStringAsync($"/api/v1/storages/{storage}/download?path=input.txt"));
            Assert.Equal("42\n", await user.GetStringAsync($"/api/v1/storages/{storage}/download?path=out/answer.txt"));
            Assert.Equal(HttpStatusCode.NoContent, (await user.DeleteAsync($"/api/v1/storages/{storage}/files?path=out")).StatusCode);
        }
        finally
        {
            await StopAndDeleteIfPresentAsync(user, id);
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    [Theory]
    [InlineData("short", "00:05:00", null, "time limit")]
    [InlineData(null, null, 1, "gres")]
    public async Task OptionsTheSchedulerRefusesFailTheTaskWithItsMessage(string? partition, string? walltime, int? gpus, string expected)
    {
        using var client = await App.NewUserClientAsync();
        var id = (string)(await TaskApi.StartAsync(client, new { software = "hello", computing = DemoSlurm, options = new { partition, walltime, gpus } }))["id"]!;
        var failed = await TaskApi.WaitForStatusAsync(client, id, "failed", seconds: 30);
        Assert.Contains(expected, (string?)failed["error"], StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v1/tasks/{id}")).StatusCode);
    }

    [Fact]
    public async Task MemoryLargerThanAnyNodeIsRefusedBeforeSubmission()
    {
        using var client = await App.NewUserClientAsync();
        var response = await client.PostAsJsonAsync("/api/v1/tasks", new { software = "hello", computing = DemoSlurm, options = new { memory = "100000G" } });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("options.memory", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task JupyterAsAJobRunsCodeOverItsKernelWebSocketThroughTheTunnel()
    {
        var token = await App.AdminTokenAsync();
        using var client = App.Client(token);
        var id = (string)(await TaskApi.StartAsync(client, new { software = "jupyter", computing = DemoSlurm }))["id"]!;
        try
        {
            await TaskApi.WaitForStatusAsync(client, id, "running", seconds: 90);
            Assert.Equal("42\n", await JupyterKernel.RunAsync(App.BaseAddress, client, token, id, "print(6 * 7)"));
        }
        finally
        {
            await TaskApi.StopAndDeleteAsync(client, id);
        }
        Assert.Null(await DockerEngine.FindTaskContainerAsync(id));
    }

    [Fact]
    public async Task AtItsWalltimeSlurmItselfKillsTheJobAndTheTaskExitsWithTheSchedulersTimeout()
    {
        using var client = await App.NewUserClientAsync();
        // Slurm counts time limits in minutes: one minute is the shortest it enforces. The platform
        // leaves a job's walltime to the scheduler (it checks limits about every 30 s), so this is
        // Slurm's own TIMEOUT, not the platform stopping the task.
        var id = (string)(await TaskApi.StartAsync(client, new { software = "hello", computing = DemoSlurm, options = new { walltime = "00:01:00" } }))["id"]!;
        try
        {
            await TaskApi.WaitForStatusAsync(client, id, "running", seconds: 60);
            var jobId = await SlurmCluster.JobOfTaskAsync(id);
            var job = (await SlurmCluster.RunAsync("scontrol", "show", "job", "-o", jobId)).Output;
            Assert.Contains("TimeLimit=00:01:00", job);
            Assert.Contains("Requeue=0", job); // a rerun would find its environment file gone

            var exited = await TaskApi.WaitForStatusAsync(client, id, "exited", seconds: 150);
            Assert.Equal("TIMEOUT", await SlurmCluster.JobStateAsync(jobId));
            Assert.Contains($"Slurm job {jobId} reached its time limit (TIMEOUT", (string?)exited["error"]);
            Assert.DoesNotContain("the platform stopped", (string?)exited["error"]);
            Assert.Null(await DockerEngine.FindTaskContainerAsync(id)); // the job's trap removed it
            Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v1/tasks/{id}")).StatusCode);
        }
        finally
        {
            await StopAndDeleteIfPresentAsync(client, id);
        }
    }

    [Fact]
    public async Task AJobWhoseEndpointNeverAnswersFailsAtTheStartTimeoutAndIsCancelled()
    {
        using var keys = new TempDirectory();
        var settings = await SlurmPlatformFixture.SettingsAsync(keys.Info);
        settings["Rosetta:Tasks:StartTimeoutSeconds"] = "8";
        await using var app = new RosettaAppFactory(settings: settings);
        string? jobId = null;
        try
        {
            using var client = app.Client(await app.AdminTokenAsync());
            // hello listens on 8080; this entry claims 9999: the job reports an endpoint where nothing ever answers.
            var software = await client.PostAsJsonAsync("/api/v1/software", new { name = "Wrong port on a node", image = "rosetta/hello", interfacePort = 9999 });
            Assert.Equal(HttpStatusCode.Created, software.StatusCode);
            var softwareId = (string)(await software.Content.ReadFromJsonAsync<System.Text.Json.Nodes.JsonObject>())!["id"]!;

            var id = (string)(await TaskApi.StartAsync(client, new { software = softwareId, computing = DemoSlurm }))["id"]!;
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while ((jobId = await SlurmCluster.JobIdOfTaskAsync(id)) is null && DateTime.UtcNow < deadline) await Task.Delay(100);
            Assert.NotNull(jobId);
            var failed = await TaskApi.WaitForStatusAsync(client, id, "failed", seconds: 60);
            Assert.Contains("did not answer on port 9999 within 8 s; the container was stopped", (string?)failed["error"]);
            Assert.Equal("CANCELLED", await SlurmCluster.JobStateAsync(jobId));
            Assert.Null(await DockerEngine.FindTaskContainerAsync(id));
            Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v1/tasks/{id}")).StatusCode);
        }
        finally
        {
            if (jobId is not null) await SlurmCluster.RunAsync("scancel", jobId); // this test's own job, should an assertion have failed first
            await RosettaAppFactory.RemoveContainersAsync(app.InstanceId);
        }
    }

    [Fact]
    public async Task AJobSeesTheFilesOfTheClustersSftpStoragesAtTheirBindPathsReadOnlyWhereTheStorageIs()
    {
        var root = "/tmp/rosetta-slurm-sftp-" + Guid.NewGuid().ToString("N")[..8];
        using var admin = App.Client(await App.AdminTokenAsync());
        var storages = new[] { ("slurm-data", "/storages/data", false), ("slurm-refs", "/storages/refs", true) };
        foreach (var (name, bindPath, readOnly) in storages)
        {
            var created = await admin.PostAsJsonAsync("/api/v1/storages", new
            {
                id = name, name, kind = "sftp", computing = DemoSlurm, basePath = $"{root}/{name}/$SSH_USER/$USER", bindPath, readOnly, platformWide = true,
            });
            Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        }
        var user = "slb" + Guid.NewGuid().ToString("N")[..6];
        using var client = await App.NewUserClientAsync(user);
        string? id = null;
        try
        {
            // Uploaded through the file manager (SFTP on the login host), before the job exists.
            await StorageApi.UploadAsync(client, "slurm-data", "input.txt", "uploaded over sftp"u8.ToArray());
            id = (string)(await TaskApi.StartAsync(client, new { name = "binds in a job", software = "hello", computing = DemoSlurm }))["id"]!;
            await TaskApi.WaitForStatusAsync(client, id, "running", seconds: 60);

            var container = await DockerEngine.InspectTaskContainerAsync(id);
            var data = container.Mounts.Single(m => m.Destination == "/storages/data");
            var refs = container.Mounts.Single(m => m.Destination == "/storages/refs");
            Assert.Equal($"{root}/slurm-data/{DemoSshHost.User}/{user}", data.Source);
            Assert.True(data.RW);
            Assert.Equal($"{root}/slurm-refs/{DemoSshHost.User}/{user}", refs.Source);
            Assert.False(refs.RW);
            Assert.True(Directory.Exists(refs.Source), "the job made the read-only storage's folder before binding it");
            Assert.Equal("uploaded over sftp", await DockerEngine.ReadInContainerAsync(container.ID, "/storages/data/input.txt"));

            // The images' user (uid 1000, not the job's login) writes the read-write storage (ACLs the job
            // granted), and the file manager keeps full rights over what it wrote; the read-only one refuses.
            var wrote = await DockerEngine.ExecAsync(container.ID, "1000:1000", "sh", "-c",
                "echo ' and changed in the job' >> /storages/data/input.txt && mkdir /storages/data/out && echo 42 > /storages/data/out/answer.txt");
            Assert.True(wrote.ExitCode == 0, $"the image's user could not write its storage in the job: {wrote.Error}");
            Assert.Equal("uploaded over sftp and changed in the job\n", await client.GetStringAsync("/api/v1/storages/slurm-data/download?path=input.txt"));
            Assert.Equal("42\n", await client.GetStringAsync("/api/v1/storages/slurm-data/download?path=out/answer.txt"));
            Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync("/api/v1/storages/slurm-data/files?path=out")).StatusCode);
            Assert.NotEqual(0, (await DockerEngine.ExecAsync(container.ID, "1000:1000", "touch", "/storages/refs/by-job.txt")).ExitCode);
        }
        finally
        {
            if (id is not null) await StopAndDeleteIfPresentAsync(client, id);
            // Platform-wide storages would be bound into every later job on demo-slurm (other tests' too).
            foreach (var (name, _, _) in storages) await admin.DeleteAsync($"/api/v1/storages/{name}");
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task AJobQueuedAcrossAPlatformRestartStaysQueuedAndRunsWhenTheNodeFreesUp()
    {
        using var keys = new TempDirectory();
        var settings = await SlurmPlatformFixture.SettingsAsync(keys.Info);
        var cpus = await SlurmCluster.NodeCpusAsync();
        var first = new RosettaAppFactory(settings: settings);
        string blocker, waiting;
        {
            using var client = await first.NewUserClientAsync("slurm-queued-restart");
            blocker = (string)(await TaskApi.StartAsync(client, new { software = "hello", computing = DemoSlurm, options = new { cpus } }))["id"]!;
            await TaskApi.WaitForStatusAsync(client, blocker, "running", seconds: 60);
            waiting = (string)(await TaskApi.StartAsync(client, new { software = "hello", computing = DemoSlurm, options = new { cpus = 1 } }))["id"]!;
            await TaskApi.WaitForStatusAsync(client, waiting, "queued", seconds: 20);
        }
        await first.DisposeAsync();

        await using var second = new RosettaAppFactory(first.DataDirectory, settings);
        using var again = second.Client(await second.TokenAsync("slurm-queued-restart", "password-slurm-queued-restart"));
        try
        {
            var queued = await TaskApi.GetAsync(again, waiting);
            Assert.Equal("queued", (string?)queued["status"]);
            await TaskApi.WaitForStatusAsync(again, blocker, "running", seconds: 10);
            await TaskApi.StopAndDeleteAsync(again, blocker);
            await TaskApi.WaitForStatusAsync(again, waiting, "running", seconds: 60);
            Assert.Contains("Hello from Rosetta", await again.GetStringAsync($"/t/{waiting}/"));
        }
        finally
        {
            await StopAndDeleteIfPresentAsync(again, waiting);
            await StopAndDeleteIfPresentAsync(again, blocker);
        }
    }

    [Fact]
    public async Task ASecondJobWaitsQueuedWithTheSchedulersReasonBehindAFullNodeAndRunsWhenItIsFree()
    {
        using var client = await App.NewUserClientAsync();
        var cpus = await SlurmCluster.NodeCpusAsync();
        var first = (string)(await TaskApi.StartAsync(client, new { software = "hello", computing = DemoSlurm, options = new { cpus } }))["id"]!;
        string? second = null;
        try
        {
            await TaskApi.WaitForStatusAsync(client, first, "running", seconds: 60);
            second = (string)(await TaskApi.StartAsync(client, new { software = "hello", computing = DemoSlurm, options = new { cpus = 1 } }))["id"]!;
            var queued = await TaskApi.WaitForStatusAsync(client, second, "queued", seconds: 20);
            // The scheduler says "None" until its first pass over the new job, then why it waits.
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (!((string?)queued["statusDetail"] ?? "").Contains("Resources") && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
                queued = await TaskApi.GetAsync(client, second);
                Assert.Equal("queued", (string?)queued["status"]);
            }
            Assert.Contains("Resources", (string?)queued["statusDetail"]);

            // A queued job stopped before it ran: cancelled, and its env file (the interface secret) gone with it.
            var third = (string)(await TaskApi.StartAsync(client, new { software = "jupyter", computing = DemoSlurm, options = new { cpus = 1 } }))["id"]!;
            await TaskApi.WaitForStatusAsync(client, third, "queued", seconds: 20);
            var thirdJob = await SlurmCluster.JobOfTaskAsync(third);
            Assert.True(File.Exists(SlurmCluster.EnvFileOf(third)));
            (await client.PostAsync($"/api/v1/tasks/{third}/stop", null)).EnsureSuccessStatusCode();
            await TaskApi.WaitForStatusAsync(client, third, "stopped", seconds: 20);
            Assert.Equal("CANCELLED", await SlurmCluster.JobStateAsync(thirdJob));
            Assert.False(File.Exists(SlurmCluster.EnvFileOf(third)));
            Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v1/tasks/{third}")).StatusCode);

            await TaskApi.StopAndDeleteAsync(client, first);
            await TaskApi.WaitForStatusAsync(client, second, "running", seconds: 60);
            Assert.Contains("Hello from Rosetta", await client.GetStringAsync($"/t/{second}/"));
        }
        finally
        {
            if (second is not null) await StopAndDeleteIfPresentAsync(client, second);
            await StopAndDeleteIfPresentAsync(client, first);
        }
    }

    [Fact]
    public async Task AHundredQueuedJobsAreFollowedWithOneSqueuePerIntervalAndAJobCancelledAmongThemIsSeen()
    {
        const int Queued = 100;
        // A platform of its own: what is counted is this scenario's listings, nothing left by earlier tests.
        using var keys = new TempDirectory();
        await using var app = new RosettaAppFactory(settings: await SlurmPlatformFixture.SettingsAsync(keys.Info));
        var interval = TimeSpan.FromSeconds(double.Parse(app.Services.GetRequiredService<IConfiguration>()["Rosetta:Slurm:PollIntervalSeconds"]!, System.Globalization.CultureInfo.InvariantCulture));
        var options = app.Services.GetRequiredService<IOptions<SlurmOptions>>().Value;
        var backend = app.Services.GetServices<ITaskBackend>().OfType<SlurmBackend>().Single();
        using var client = await app.NewUserClientAsync();
        var cpus = await SlurmCluster.NodeCpusAsync();
        var blocker = (string)(await TaskApi.StartAsync(client, new { name = "fills the node", software = "hello", computing = DemoSlurm, options = new { cpus } }))["id"]!;
        var waiting = new List<string>();
        try
        {
            await TaskApi.WaitForStatusAsync(client, blocker, "running", seconds: 60);
            for (var i = 0; i < Queued; i++)
                waiting.Add((string)(await TaskApi.StartAsync(client, new { name = $"queued {i}", software = "hello", computing = DemoSlurm, options = new { cpus = 1 } }))["id"]!);

            // Every one of them queued behind the full node, with the scheduler's reason.
            var deadline = DateTime.UtcNow.AddSeconds(180);
            List<JsonObject> tasks;
            while ((tasks = await TasksAsync(client, waiting)).Any(t => (string?)t["status"] != "queued") && DateTime.UtcNow < deadline) await Task.Delay(500);
            Assert.All(tasks, t => Assert.Equal("queued", (string?)t["status"]));
            // A task shows queued once its job is submitted, which may be well after its POST (sbatch
            // calls share the connection): the last launch's first seconds of looking often start now at the latest.
            var allQueued = DateTime.UtcNow;
            Assert.Equal(Queued, (await SlurmCluster.RunAsync("squeue", "-h", "-t", "PENDING", "-u", DemoSshHost.User, "-o", "%j")).Output
                .Split('\n').Count(name => waiting.Contains(name.Replace("rosetta-", ""))));

            // Once no launch is in its first seconds (when a launch looks often), the cluster is listed once per interval.
            var settled = allQueued + TimeSpan.FromSeconds(options.StartFastPollSeconds) + interval;
            if (settled > DateTime.UtcNow) await Task.Delay(settled - DateTime.UtcNow);
            var before = backend.ListingsOf(DemoSlurm);
            var window = Stopwatch.StartNew();
            await Task.Delay(interval * 10); // a counting window, not a wait: listings are counted over ten intervals
            var listings = backend.ListingsOf(DemoSlurm) - before;
            var intervals = window.Elapsed / interval;
            Assert.True(listings <= Math.Ceiling(intervals) + 1, $"{listings} listings in {intervals:F1} intervals with {Queued} jobs queued");
            Assert.True(listings >= 3, $"only {listings} listings in {intervals:F1} intervals: the cluster is not followed");

            // And they are followed: one cancelled behind the platform's back is seen within an interval or so.
            var cancelled = waiting[Queued / 2];
            Assert.True(File.Exists(SlurmCluster.EnvFileOf(cancelled)));
            await SlurmCluster.CancelAsync(await SlurmCluster.JobOfTaskAsync(cancelled));
            var exited = await TaskApi.WaitForStatusAsync(client, cancelled, "exited", seconds: 20);
            Assert.Contains("CANCELLED", (string?)exited["error"]);
            // Its script never ran to delete its env file (the interface secret): the platform did, as it saw the end.
            Assert.False(File.Exists(SlurmCluster.EnvFileOf(cancelled)));
        }
        finally
        {
            // Queued jobs first, so none of them starts when the blocker goes.
            await Task.WhenAll(waiting.Select(id => client.PostAsync($"/api/v1/tasks/{id}/stop", null)));
            foreach (var id in waiting) await StopAndDeleteIfPresentAsync(client, id);
            await StopAndDeleteIfPresentAsync(client, blocker);
            await RosettaAppFactory.RemoveContainersAsync(app.InstanceId);
        }
    }

    private static async Task<List<JsonObject>> TasksAsync(HttpClient client, IReadOnlyCollection<string> ids) =>
        (await client.GetFromJsonAsync<List<JsonObject>>("/api/v1/tasks"))!.Where(t => ids.Contains((string)t["id"]!)).ToList();

    [Fact]
    public async Task ARestartedPlatformReadoptsARunningJobAndRebuildsItsTunnel()
    {
        using var keys = new TempDirectory();
        var settings = await SlurmPlatformFixture.SettingsAsync(keys.Info);
        var first = new RosettaAppFactory(settings: settings);
        string id;
        string jobId;
        {
            using var client = await first.NewUserClientAsync("slurm-restart");
            id = (string)(await TaskApi.StartAsync(client, new { software = "hello", computing = DemoSlurm }))["id"]!;
            await TaskApi.WaitForStatusAsync(client, id, "running", seconds: 60);
            jobId = await SlurmCluster.JobOfTaskAsync(id);
        }
        await first.DisposeAsync(); // the job and its container outlive the platform

        await using var second = new RosettaAppFactory(first.DataDirectory, settings);
        using var again = second.Client(await second.TokenAsync("slurm-restart", "password-slurm-restart"));
        try
        {
            await TaskApi.WaitForStatusAsync(again, id, "running", seconds: 10);
            Assert.Equal("RUNNING", await SlurmCluster.JobStateAsync(jobId));
            var deadline = DateTime.UtcNow.AddSeconds(20);
            HttpResponseMessage page;
            while ((page = await again.GetAsync($"/t/{id}/")).StatusCode != HttpStatusCode.OK && DateTime.UtcNow < deadline) await Task.Delay(200);
            Assert.Contains("Hello from Rosetta", await page.Content.ReadAsStringAsync());
        }
        finally
        {
            await TaskApi.StopAndDeleteAsync(again, id);
        }
        Assert.Null(await DockerEngine.FindTaskContainerAsync(id));
    }

    [Fact]
    public async Task ARestartedPlatformDeletesTheEnvFilesOfItsEndedTasksAndNoOneElses()
    {
        // Left by an earlier run of the platform: the env file (interface secret) of a submission cut off before
        // sbatch answered, whose task failed, which that process meant to delete and never did. Beside it, env files
        // of tasks this platform does not know (another instance's, or a cluster sharing the home), and one of a job
        // another instance has waiting in the queue: theirs to read.
        var orphan = Rosetta.Core.Tasks.TaskIds.New();
        var unknown = Rosetta.Core.Tasks.TaskIds.New();
        var queued = Rosetta.Core.Tasks.TaskIds.New();
        string? heldJob = null;
        using var keys = new TempDirectory();
        try
        {
            foreach (var taskId in new[] { orphan, unknown, queued })
                await AsDemoUserAsync($"umask 077 && mkdir -p ~/.rosetta/slurm && echo JUPYTER_TOKEN=old-secret > ~/.rosetta/slurm/{taskId}.env && touch -d '20 minutes ago' ~/.rosetta/slurm/{taskId}.env");
            heldJob = (await AsDemoUserAsync($"sbatch --parsable --hold --job-name rosetta-{queued} --output /dev/null --comment 'rosetta.instance=another-platform rosetta.task={queued}' --wrap true")).Trim();

            await using var app = new RosettaAppFactory(settings: await SlurmPlatformFixture.SettingsAsync(keys.Info));
            using var client = await app.NewUserClientAsync();
            await using (var db = await app.Services.GetRequiredService<IDbContextFactory<Rosetta.Core.Persistence.RosettaDbContext>>().CreateDbContextAsync())
            {
                // The task as that run left it: failed before its job was submitted.
                db.Tasks.Add(new Rosetta.Core.Domain.TaskRecord
                {
                    Id = orphan, OwnerId = (await db.Users.FirstAsync(u => u.UserName == "admin")).Id, Name = "cut off", SoftwareId = "hello",
                    ComputingId = DemoSlurm, ImageReference = "rosetta/hello:latest", Status = Rosetta.Core.Domain.TaskState.Failed,
                    Error = "The submission on 127.0.0.1 ended before sbatch answered.",
                });
                await db.SaveChangesAsync();
            }
            var id = (string)(await TaskApi.StartAsync(client, new { software = "hello", computing = DemoSlurm }))["id"]!; // the cluster is listed from now on
            try
            {
                var deadline = DateTime.UtcNow.AddSeconds(30);
                while (File.Exists(SlurmCluster.EnvFileOf(orphan)) && DateTime.UtcNow < deadline) await Task.Delay(200);
                Assert.False(File.Exists(SlurmCluster.EnvFileOf(orphan)), "the leftover env file of the platform's own failed task is still there");
                Assert.True(File.Exists(SlurmCluster.EnvFileOf(unknown)), "the env file of a task this platform does not know was deleted");
                Assert.True(File.Exists(SlurmCluster.EnvFileOf(queued)), "the env file of another instance's queued job was deleted");
                // Nor the env file of the task started meanwhile, whose job waits for the node or has read it.
                deadline = DateTime.UtcNow.AddSeconds(30);
                JsonObject task;
                while ((string?)(task = await TaskApi.GetAsync(client, id))["status"] is not ("queued" or "running") && DateTime.UtcNow < deadline) await Task.Delay(100);
                Assert.True(File.Exists(SlurmCluster.EnvFileOf(id)) || await SlurmCluster.JobStateAsync(await SlurmCluster.JobOfTaskAsync(id)) != "PENDING",
                    $"the env file of the task just submitted is gone: {task}");
            }
            finally
            {
                await StopAndDeleteIfPresentAsync(client, id);
                await RosettaAppFactory.RemoveContainersAsync(app.InstanceId);
            }
        }
        finally
        {
            if (heldJob is not null) await SlurmCluster.CancelAsync(heldJob);
            foreach (var taskId in new[] { orphan, unknown, queued }) File.Delete(SlurmCluster.EnvFileOf(taskId));
        }
    }

    [Theory]
    [InlineData("999999")] // a job no listing of this process has shown (forgotten by Slurm while the platform was down)
    [InlineData(null)] // no job: the handle is the task's container name
    public async Task RemovingATaskDeletesItsEnvFileWhateverTheListingsShowed(string? jobId)
    {
        // The interface secret of a job that never ran its script: once the task is deleted, nothing names it any more.
        var taskId = Rosetta.Core.Tasks.TaskIds.New();
        try
        {
            await AsDemoUserAsync($"umask 077 && mkdir -p ~/.rosetta/slurm && echo JUPYTER_TOKEN=secret > ~/.rosetta/slurm/{taskId}.env");
            Assert.True(File.Exists(SlurmCluster.EnvFileOf(taskId)));
            await using var db = await App.Services.GetRequiredService<IDbContextFactory<Rosetta.Core.Persistence.RosettaDbContext>>().CreateDbContextAsync();
            var computing = await db.Computing.AsNoTracking().SingleAsync(c => c.Id == DemoSlurm);
            var backend = App.Services.GetServices<ITaskBackend>().OfType<SlurmBackend>().Single();

            await backend.RemoveAsync(computing, taskId, jobId ?? Rosetta.Core.Backends.ContainerSpecFactory.ContainerName(taskId), CancellationToken.None);

            Assert.False(File.Exists(SlurmCluster.EnvFileOf(taskId)), "the removed task's env file is still there");
        }
        finally
        {
            File.Delete(SlurmCluster.EnvFileOf(taskId));
        }
    }

    /// <summary>Runs a shell command as the demo login (whose jobs and files the platform's are), its output.</summary>
    private static async Task<string> AsDemoUserAsync(string command)
    {
        var start = new ProcessStartInfo("runuser", ["-u", DemoSshHost.User, "--", "bash", "-c", command])
            { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/tmp" };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{command}: {await error}");
        return await output;
    }

    private static async Task StopAndDeleteIfPresentAsync(HttpClient client, string id)
    {
        if ((await client.GetAsync($"/api/v1/tasks/{id}")).StatusCode == HttpStatusCode.OK) await TaskApi.StopAndDeleteAsync(client, id);
    }

    private sealed class TempDirectory : IDisposable
    {
        public DirectoryInfo Info { get; } = Directory.CreateTempSubdirectory("rosetta-slurm-restart");
        public void Dispose() => Info.Delete(recursive: true);
    }
}
