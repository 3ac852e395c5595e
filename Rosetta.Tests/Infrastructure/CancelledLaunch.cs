using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rosetta.Core.Backends;
using Rosetta.Core.Domain;
using Rosetta.Core.Persistence;
using Rosetta.Core.Tasks;

namespace Rosetta.Tests.Infrastructure;

/// <summary>
/// Calls a backend's launch directly and cancels it the moment the backend announces a step (its
/// progress message), so the step starts with the caller's cancellation already requested: the way
/// a stop pressed at that instant reaches a launch.
/// </summary>
public sealed class CancelledLaunch : IBatchLaunchProgress
{
    private readonly CancellationTokenSource _caller = new();
    private readonly string _cancelAtStep;
    private ITaskBackend _backend = null!;
    private ComputingResource _computing = null!;

    private CancelledLaunch(string cancelAtStep) => _cancelAtStep = cancelAtStep;

    public string TaskId { get; } = TaskIds.New();
    public bool CancelledAtStep => _caller.IsCancellationRequested;
    /// <summary>The job id the backend recorded through <see cref="SubmittedAsync"/> (batch backends).</summary>
    public string? Submitted { get; private set; }
    public Exception? Thrown { get; private set; }

    /// <summary>
    /// Launches <c>hello</c> on <paramref name="computingId"/>, cancelled at <paramref name="cancelAtStep"/>; checks that
    /// the launch reached the step and ended cancelled, runs <paramref name="check"/> on what it left, then ends that. Returns the task's id.
    /// </summary>
    public static async Task<string> CheckAsync(RosettaAppFactory app, string computingId, string cancelAtStep, Func<CancelledLaunch, Task> check)
    {
        var launch = await RunAsync(app, computingId, cancelAtStep);
        try
        {
            Assert.True(launch.CancelledAtStep, $"the launch never reached the step: {launch.Thrown}");
            Assert.IsAssignableFrom<OperationCanceledException>(launch.Thrown);
            await check(launch);
        }
        finally
        {
            await launch.EndAsync();
        }
        return launch.TaskId;
    }

    private static async Task<CancelledLaunch> RunAsync(RosettaAppFactory app, string computingId, string cancelAtStep)
    {
        var launch = new CancelledLaunch(cancelAtStep);
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<RosettaDbContext>>().CreateDbContextAsync();
        var computing = await db.Computing.AsNoTracking().SingleAsync(c => c.Id == computingId);
        var software = await db.Software.AsNoTracking().SingleAsync(s => s.Id == "hello");
        var task = new TaskRecord { Id = launch.TaskId, OwnerId = "point-of-no-return-test", SoftwareId = software.Id, ComputingId = computing.Id, Name = "cancelled launch" };
        var spec = ContainerSpecFactory.Create(task, software, app.InstanceId, secret: null);
        var backend = launch._backend = app.Services.GetServices<ITaskBackend>().Single(b => b.Kind == computing.Kind);
        launch._computing = computing;
        try
        {
            await backend.LaunchAsync(new LaunchRequest(task.Id, task.OwnerId, computing, spec), launch, launch._caller.Token);
        }
        catch (Exception e)
        {
            launch.Thrown = e;
        }
        finally
        {
            launch._caller.Dispose();
        }
        return launch;
    }

    /// <summary>Stops and removes what the launch left, the way the platform's stop and delete do (the job's env file included).</summary>
    private async Task EndAsync()
    {
        var left = (await _backend.ListAsync(_computing, CancellationToken.None)).Where(c => c.TaskId == TaskId).Select(c => c.BackendId);
        foreach (var backendId in left.Append(Submitted).OfType<string>().Distinct())
        {
            await _backend.StopAsync(_computing, backendId, CancellationToken.None);
            await _backend.RemoveAsync(_computing, TaskId, backendId, CancellationToken.None);
        }
    }

    public void Report(string value)
    {
        if (value.StartsWith(_cancelAtStep, StringComparison.Ordinal)) _caller.Cancel();
    }

    public Task SubmittedAsync(string backendId, CancellationToken ct)
    {
        Submitted = backendId;
        return Task.CompletedTask;
    }

    public void Queued(string reason) { }

    public void Starting(string detail) { }
}
