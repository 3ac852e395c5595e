using Microsoft.Extensions.DependencyInjection;
using Rosetta.Core.Backends;
using Rosetta.Core.Domain;
using Rosetta.Tests.Components;

namespace Rosetta.Tests.Unit;

/// <summary>Reconciliation against an engine's listing, with a backend whose listing the test answers.</summary>
public sealed class TaskMonitorReconcileTests : IDisposable
{
    private readonly DashboardTestContext _ctx = new();
    private readonly ComputingResource _local = new() { Id = "local", Name = "local", Kind = ComputingKind.Local };

    private DashboardTestContext.FakeBackend Backend => (DashboardTestContext.FakeBackend)_ctx.Services.GetRequiredService<ITaskBackend>();

    [Fact]
    public async Task ATaskThatStartsWhileTheEngineIsBeingListedIsNotFailedForMissingFromTheList()
    {
        var vanished = await _ctx.AddTaskAsync("vanished", TaskState.Running);
        var listed = new TaskCompletionSource<IReadOnlyList<ObservedContainer>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var asked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Backend.Listing = _ => { asked.TrySetResult(); return listed.Task; };
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        var reconciling = _ctx.Monitor.ReconcileAsync(_local, timeout.Token);
        await asked.Task.WaitAsync(timeout.Token);
        // While the engine works on its answer, a task is created and its container starts.
        var latecomer = await _ctx.AddTaskAsync("latecomer", TaskState.Running);
        listed.SetResult([]);
        await reconciling;

        Assert.Equal(TaskState.Running, _ctx.Monitor.Get(latecomer.Id)!.Status);
        // A task that was there before the listing and is missing from it is still judged.
        var judged = _ctx.Monitor.Get(vanished.Id)!;
        Assert.Equal(TaskState.Failed, judged.Status);
        Assert.Contains("disappeared", judged.Error);
    }

    [Fact]
    public async Task AContainerStillRunningForAnEndedTaskIsStopped()
    {
        // E.g. a launch whose connection dropped after the engine had started the container.
        var failed = await _ctx.AddTaskAsync("failed", TaskState.Failed);
        var stopped = await _ctx.AddTaskAsync("stopped", TaskState.Stopped);
        Backend.Listing = _ => Task.FromResult<IReadOnlyList<ObservedContainer>>(
        [
            new(failed.Id, failed.BackendId!, ContainerRunState.Running, null, new TaskEndpoint("127.0.0.1", 1), null, null),
            new(stopped.Id, stopped.BackendId!, ContainerRunState.Exited, 0, null, null, null),
        ]);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        await _ctx.Monitor.ReconcileAsync(_local, timeout.Token);

        while (Backend.Stopped.IsEmpty) await Task.Delay(20, timeout.Token); // stopped in the background
        Assert.Equal([failed.BackendId!], Backend.Stopped);
        Assert.Equal(TaskState.Failed, _ctx.Monitor.Get(failed.Id)!.Status);
    }

    public void Dispose() => _ctx.Dispose();
}
