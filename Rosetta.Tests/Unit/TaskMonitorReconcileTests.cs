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

    /// <summary>The monitor's own watcher is parked on its first listing, so only the test's reconciliation answers.</summary>
    private async Task<DashboardTestContext.FakeBackend> QuietBackendAsync()
    {
        await Backend.WatcherListed.WaitAsync(TimeSpan.FromSeconds(30));
        return Backend;
    }

    [Fact]
    public async Task AForgottenComputingResourceIsNoLongerFollowed()
    {
        var backend = await QuietBackendAsync();
        Assert.False(backend.WatcherEnded.IsCompleted);
        _ctx.Monitor.Forget(_local.Id);
        await backend.WatcherEnded.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task ATaskThatStartsWhileTheEngineIsBeingListedIsNotFailedForMissingFromTheList()
    {
        var vanished = await _ctx.AddTaskAsync("vanished", TaskState.Running);
        var listed = new TaskCompletionSource<IReadOnlyList<ObservedContainer>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var asked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        (await QuietBackendAsync()).Listing = _ => { asked.TrySetResult(); return listed.Task; };
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
        (await QuietBackendAsync()).Listing = _ => Task.FromResult<IReadOnlyList<ObservedContainer>>(
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

    [Fact]
    public async Task TheEnginesOutOfMemoryEventIsTheReasonTheTaskGivesNotTheExitCodeOfTheDieThatFollows()
    {
        var task = await _ctx.AddTaskAsync("hungry", TaskState.Running);
        await _ctx.Monitor.HandleEventAsync(_local, new ContainerEvent(task.Id, task.BackendId!, ContainerEventKind.OutOfMemory, null));
        await _ctx.Monitor.HandleEventAsync(_local, new ContainerEvent(task.Id, task.BackendId!, ContainerEventKind.Died, 137));

        var ended = _ctx.Monitor.Get(task.Id)!;
        Assert.Equal(TaskState.Exited, ended.Status);
        Assert.Equal(137, ended.ExitCode);
        Assert.Contains("ran out of memory", ended.Error);
    }

    [Fact]
    public async Task AContainerThatEndedWithNoExitCodeKnownSaysSoNotAnEmptyCode()
    {
        // A remote host's container removed by hand between two polls: the end is seen, its code never was.
        var task = await _ctx.AddTaskAsync("removed", TaskState.Running);
        await _ctx.Monitor.HandleEventAsync(_local, new ContainerEvent(task.Id, task.BackendId!, ContainerEventKind.Died, null));

        var ended = _ctx.Monitor.Get(task.Id)!;
        Assert.Equal(TaskState.Exited, ended.Status);
        Assert.Null(ended.ExitCode);
        Assert.StartsWith("The container ended; its exit code is unknown.", ended.Error);
        Assert.DoesNotContain("code .", ended.Error);
    }

    [Fact]
    public async Task AStopDuringTheLaunchEndsStoppedWhateverTheCancelledStepThrew()
    {
        // An engine cut off mid-pull may answer "unavailable" rather than "cancelled".
        Backend.Launching = async (_, ct) =>
        {
            try { await Task.Delay(Timeout.Infinite, ct); }
            catch (OperationCanceledException) { throw new BackendUnavailableException("The engine's connection was closed."); }
            throw new InvalidOperationException("unreachable");
        };
        var task = await _ctx.AddTaskAsync("pulling", TaskState.Created);
        _ctx.Monitor.BeginLaunch(task, _local, new Software { Id = "hello", Name = "hello", Image = "rosetta/hello:latest" }, null);
        await WaitForAsync(task.Id, TaskState.Starting);

        await _ctx.Monitor.StopAsync(task.Id, CancellationToken.None);

        var stopped = _ctx.Monitor.Get(task.Id)!;
        Assert.Equal(TaskState.Stopped, stopped.Status);
        Assert.Null(stopped.Error);
    }

    /// <summary>
    /// A host gone for good: the stop never finishes, and neither the task nor (because of it) the resource could be
    /// removed. The owner deletes it without the resource; its container goes once the resource answers again.
    /// </summary>
    [Fact]
    public async Task ATaskStoppingOnAResourceThatCannotBeReachedIsDeletedWithoutItAndItsContainerGoesWhenItAnswers()
    {
        var quiet = await QuietBackendAsync();
        var task = await _ctx.AddTaskAsync("on a gone host", TaskState.Running);
        var gone = new BackendUnavailableException("127.0.0.1:2299 refused the connection.");
        Backend.StopFailure = gone;
        await _ctx.Monitor.StopAsync(task.Id, CancellationToken.None);
        Assert.Equal(TaskState.Stopping, _ctx.Monitor.Get(task.Id)!.Status);
        var tasks = _ctx.Services.GetRequiredService<Rosetta.Core.Tasks.TaskService>();
        var owner = new Caller(DashboardTestContext.UserId, IsAdmin: false);

        var refused = await Assert.ThrowsAsync<ConflictException>(() => tasks.DeleteAsync(owner, task.Id, CancellationToken.None));
        Assert.Contains("If it never will (a host gone for good), delete the task without it", refused.Message);
        var removals = new List<string>();
        Backend.Removing = backendId => { lock (removals) removals.Add(backendId); return Task.FromException(gone); };
        Assert.True(await tasks.DeleteAsync(owner, task.Id, CancellationToken.None, evenUnreachable: true));
        Assert.Null(_ctx.Monitor.Get(task.Id));

        // The resource answers again, and still runs the container of the task that is no more, beside one of this
        // platform that its database does not know (restored from a backup): that one is not the platform's to remove.
        Backend.Removing = backendId => { lock (removals) removals.Add(backendId); return Task.CompletedTask; };
        quiet.Listing = _ => Task.FromResult<IReadOnlyList<ObservedContainer>>(
        [
            new ObservedContainer(task.Id, task.BackendId!, ContainerRunState.Running, null, null, null, null),
            new ObservedContainer(Rosetta.Core.Tasks.TaskIds.New(), "container-unknown", ContainerRunState.Running, null, null, null, null),
        ]);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _ctx.Monitor.ReconcileAsync(_local, timeout.Token);
        async Task<int> RecordedAsync()
        {
            await using var db = await _ctx.Services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<Rosetta.Core.Persistence.RosettaDbContext>>().CreateDbContextAsync();
            return await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.CountAsync(db.ForgottenContainers);
        }
        while (await RecordedAsync() > 0 && !timeout.IsCancellationRequested) await Task.Delay(20);
        Assert.Equal(0, await RecordedAsync());
        lock (removals) Assert.Equal([task.BackendId!, task.BackendId!], removals); // tried at the delete, done now, and nothing else
    }

    [Fact]
    public async Task AFinishedTaskWhoseContainerCannotBeRemovedStaysAndSaysHowToDeleteItWithoutTheResource()
    {
        var task = await _ctx.AddTaskAsync("stopped on a gone host", TaskState.Stopped);
        Backend.Removing = _ => Task.FromException(new BackendUnavailableException("127.0.0.1:2299 refused the connection."));
        var tasks = _ctx.Services.GetRequiredService<Rosetta.Core.Tasks.TaskService>();
        var refused = await Assert.ThrowsAsync<BackendUnavailableException>(() => tasks.DeleteAsync(new Caller(DashboardTestContext.UserId, false), task.Id, CancellationToken.None));
        Assert.StartsWith("127.0.0.1:2299 refused the connection. The task's container could not be removed, so the task stays.", refused.Message);
        Assert.NotNull(_ctx.Monitor.Get(task.Id));
    }

    /// <summary>
    /// A stop that fails (the engine cannot be reached) leaves the task stopping for a reconciliation to finish. When it
    /// fails while the engine is being listed, that listing is the one: it used to skip the task as changed meanwhile,
    /// and the engine's events, which followed, never finish a stop (seen when a host key was trusted right then).
    /// </summary>
    [Fact]
    public async Task AStopThatFailsWhileTheEngineIsBeingListedIsFinishedByThatListing()
    {
        var task = await _ctx.AddTaskAsync("stopping", TaskState.Stopping);
        var listed = new TaskCompletionSource<IReadOnlyList<ObservedContainer>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var asked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        (await QuietBackendAsync()).Listing = _ => { asked.TrySetResult(); return listed.Task; };
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        var reconciling = _ctx.Monitor.ReconcileAsync(_local, timeout.Token);
        await asked.Task.WaitAsync(timeout.Token);
        await _ctx.Monitor.UpdateAsync(task.Id, t => { t.StatusDetail = "The host key of 127.0.0.1:2222 is not the one pinned."; return true; });
        listed.SetResult([new ObservedContainer(task.Id, task.BackendId!, ContainerRunState.Running, null, null, null, null)]);
        await reconciling;

        while (_ctx.Monitor.Get(task.Id)!.Status != TaskState.Stopped && !timeout.IsCancellationRequested) await Task.Delay(20);
        Assert.Equal(TaskState.Stopped, _ctx.Monitor.Get(task.Id)!.Status);
        Assert.Contains(task.BackendId!, Backend.Stopped);
    }

    [Fact]
    public async Task AStopTheEngineRefusesLeavesTheTaskStoppingWithTheReasonAndStoppingAgainRetries()
    {
        var task = await _ctx.AddTaskAsync("stubborn", TaskState.Running);
        Backend.StopFailure = new InvalidOperationException("permission denied.");
        await _ctx.Monitor.StopAsync(task.Id, CancellationToken.None);
        var stopping = _ctx.Monitor.Get(task.Id)!;
        Assert.Equal(TaskState.Stopping, stopping.Status);
        Assert.Contains("permission denied", stopping.StatusDetail);

        Backend.StopFailure = null;
        await _ctx.Monitor.StopAsync(task.Id, CancellationToken.None);
        Assert.Equal(TaskState.Stopped, _ctx.Monitor.Get(task.Id)!.Status);
    }

    [Fact]
    public async Task TheEnginesDestroyOfAContainerTheDeleteRemovesIsNotReportedAsARemovalFromOutside()
    {
        var task = await _ctx.AddTaskAsync("done", TaskState.Stopped);
        using var watching = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var subscription = _ctx.Monitor.Subscribe(null, watching.Token);
        // The engine reports the removal while the delete is still going on.
        Backend.Removing = id => _ctx.Monitor.HandleEventAsync(_local, new ContainerEvent(task.Id, id, ContainerEventKind.Destroyed, null));

        await _ctx.Monitor.RemoveAsync(_ctx.Monitor.Get(task.Id)!, CancellationToken.None);

        Assert.Null(_ctx.Monitor.Get(task.Id));
        var seen = new List<Rosetta.Core.Streaming.Change<TaskRecord>>();
        await foreach (var batch in subscription.Changes.WithCancellation(watching.Token))
        {
            seen.AddRange(batch);
            if (batch.Any(c => c.Kind == Rosetta.Core.Streaming.ChangeKind.Delete)) break;
        }
        Assert.DoesNotContain(seen, c => c.Kind != Rosetta.Core.Streaming.ChangeKind.Delete && c.Item.Error?.Contains("outside the platform") == true);
    }

    private async Task WaitForAsync(string taskId, TaskState state)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (_ctx.Monitor.Get(taskId)!.Status != state) await Task.Delay(10, timeout.Token);
    }

    public void Dispose() => _ctx.Dispose();
}
