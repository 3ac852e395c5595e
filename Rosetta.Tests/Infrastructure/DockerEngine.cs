using Docker.DotNet;
using Docker.DotNet.Models;

namespace Rosetta.Tests.Infrastructure;

/// <summary>
/// The real Docker engine the integration tests use. There is no skip: `./rosetta.sh test` installs
/// and starts the engine, so an engine that does not answer is a broken installation and every test
/// that needs it fails with this message.
/// </summary>
public static class DockerEngine
{
    public const string Socket = "unix:///var/run/docker.sock";

    public static DockerClient Client() => new DockerClientBuilder().WithEndpoint(new Uri(Socket)).Build();

    private static readonly Lazy<Task> Available = new(async () =>
    {
        using var docker = Client();
        try
        {
            await docker.System.PingAsync();
        }
        catch (Exception e)
        {
            throw new InvalidOperationException(
                $"The Docker engine at {Socket} does not answer ({e.GetBaseException().Message}). Run ./rosetta.sh infra (or ./rosetta.sh test) first.", e);
        }
        foreach (var image in new[] { "rosetta/hello:latest", "rosetta/jupyter:latest" })
        {
            ImageInspectResponse inspected;
            try
            {
                inspected = await docker.Images.InspectImageAsync(image);
            }
            catch (DockerImageNotFoundException e)
            {
                throw new InvalidOperationException($"Image {image} is missing. Run ./rosetta.sh infra to build the bundled images.", e);
            }
            // Tests rely on hello's base-path and WebSocket-echo modes: an image built from older sources lacks them.
            if (image.StartsWith("rosetta/hello:") && !(inspected.Config?.Labels?.TryGetValue("rosetta.hello.features", out var features) == true && features.Contains("websocket-echo")))
                throw new InvalidOperationException($"Image {image} was built from older sources (no ROSETTA_BASE_PATH / HELLO_WEBSOCKET_ECHO). Run ./rosetta.sh infra to rebuild it.");
        }
    });

    /// <summary>Throws (fails the test) when the engine or the bundled images are missing.</summary>
    public static Task EnsureAvailableAsync() => Available.Value;

    /// <summary>The full inspection of a task's container (it must exist).</summary>
    public static async Task<ContainerInspectResponse> InspectTaskContainerAsync(string taskId)
    {
        var container = await FindTaskContainerAsync(taskId) ?? throw new InvalidOperationException($"Task {taskId} has no container.");
        using var docker = Client();
        return await docker.Containers.InspectContainerAsync(container.ID);
    }

    /// <summary>The container of a task, found by the contract's label.</summary>
    public static async Task<ContainerListResponse?> FindTaskContainerAsync(string taskId)
    {
        using var docker = Client();
        var containers = await docker.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["label"] = new Dictionary<string, bool> { [$"rosetta.task={taskId}"] = true },
            },
        });
        return containers.SingleOrDefault();
    }

    /// <summary>A file's text as a process inside the container reads it.</summary>
    public static async Task<string> ReadInContainerAsync(string containerId, string path)
    {
        using var docker = Client();
        var exec = await docker.Exec.CreateContainerExecAsync(containerId, new ContainerExecCreateParameters { Cmd = ["cat", path], AttachStdout = true, AttachStderr = true });
        using var stream = await docker.Exec.StartContainerExecAsync(exec.ID, new ContainerExecStartParameters(), default);
        return (await stream.ReadOutputToEndAsync(default)).stdout;
    }

    /// <summary>
    /// Runs a command inside a container as <paramref name="user"/> (e.g. <c>1000:1000</c>, the bundled
    /// images' user; empty: the image's own user) and returns its exit code and output: what a process of the task can do.
    /// </summary>
    public static async Task<(long ExitCode, string Output, string Error)> ExecAsync(string containerId, string user, params string[] command)
    {
        using var docker = Client();
        var exec = await docker.Exec.CreateContainerExecAsync(containerId, new ContainerExecCreateParameters { Cmd = command, User = user, AttachStdout = true, AttachStderr = true });
        using (var stream = await docker.Exec.StartContainerExecAsync(exec.ID, new ContainerExecStartParameters(), default))
        {
            var (output, error) = await stream.ReadOutputToEndAsync(default);
            var inspected = await docker.Exec.InspectContainerExecAsync(exec.ID);
            return (inspected.ExitCode ?? -1, output, error);
        }
    }
}
