using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Rosetta.Core.Backends;
using Rosetta.Core.Catalogue;
using Rosetta.Core.Domain;
using Rosetta.Core.Persistence;
using Rosetta.Core.Storages;
using Rosetta.Core.Tasks;
using Rosetta.Core.Validation;
using Rosetta.Tests.Components;

namespace Rosetta.Tests.Unit;

/// <summary>
/// Requests that check the database and then write to it, arriving at the same moment: the check and
/// the write are one step, so the answers are a success and clear conflicts, never a constraint error
/// (a 500) or a task left on a resource that no longer exists.
/// </summary>
public sealed class CheckThenWriteTests
{
    private static readonly Caller Alice = new(DashboardTestContext.UserId, IsAdmin: false);

    private static ComputingDraft SshHost(string? id, string name) => new(id, name, "ssh", "127.0.0.1", 22, "alice", null, null, null);

    /// <summary>
    /// The lab host, without the home storage it comes with: a task's binds would look up $HOME over SFTP
    /// at 127.0.0.1:22, where nothing answers (the fake backend stands in for the host), and fail the launch.
    /// </summary>
    private static async Task<ComputingResource> AddLabHostAsync(DashboardTestContext ctx)
    {
        var host = await ctx.Services.GetRequiredService<ComputingService>().AddAsync(Alice, SshHost(null, "lab host"), default);
        var storages = ctx.Services.GetRequiredService<StorageService>();
        foreach (var storage in await storages.ListAsync(Alice, default))
            if (storage.ComputingId == host.Id) Assert.True(await storages.DeleteAsync(Alice, storage.Id, default));
        return host;
    }

    /// <summary>
    /// An SSH backend whose capacity check (a round trip to the host: the window in which a resource or
    /// software can be removed) reports <c>measuring</c> and answers once <c>measured</c> is set.
    /// </summary>
    private static (DashboardTestContext.FakeBackend Backend, TaskCompletionSource Measuring, TaskCompletionSource Measured) HeldCapacityCheck()
    {
        var measuring = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var measured = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var backend = new DashboardTestContext.FakeBackend(ComputingKind.Ssh)
        {
            Measuring = async ct =>
            {
                measuring.TrySetResult();
                await measured.Task.WaitAsync(ct);
                return new ComputingCapacity(2, 4L << 30);
            },
        };
        return (backend, measuring, measured);
    }

    [Fact]
    public async Task ATaskWhoseResourceIsRemovedWhileTheTaskIsCreatedIsRefusedAndNothingIsLaunched()
    {
        var (ssh, measuring, measured) = HeldCapacityCheck();
        var launches = 0;
        ssh.Launching = (_, _) => { Interlocked.Increment(ref launches); return Task.FromResult<LaunchResult>(null!); };
        using var ctx = new DashboardTestContext(moreBackends: [ssh]);
        var computing = ctx.Services.GetRequiredService<ComputingService>();
        var host = await AddLabHostAsync(ctx);

        var creating = ctx.Services.GetRequiredService<TaskService>().CreateAsync(Alice, new NewTask(Software: "hello", Computing: host.Id), default);
        await measuring.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(await computing.DeleteAsync(Alice, host.Id, default)); // no task on it yet
        measured.SetResult();

        var refused = await Assert.ThrowsAsync<ValidationException>(() => creating);
        Assert.Contains("was removed while the task was being created", Assert.Single(refused.Errors.ToDictionary()["computing"]));
        Assert.DoesNotContain(ctx.Monitor.Feed.Items.Values, t => t.ComputingId == host.Id);
        await using var db = await ctx.Services.GetRequiredService<IDbContextFactory<RosettaDbContext>>().CreateDbContextAsync();
        Assert.False(await db.Tasks.AnyAsync(t => t.ComputingId == host.Id));
        Assert.Equal(0, launches);
    }

    [Fact]
    public async Task ATaskWhoseSoftwareIsRemovedWhileTheTaskIsCreatedIsRefused()
    {
        var (ssh, measuring, measured) = HeldCapacityCheck();
        using var ctx = new DashboardTestContext(moreBackends: [ssh]);
        var host = await AddLabHostAsync(ctx);
        var catalogue = ctx.Services.GetRequiredService<SoftwareService>();
        var mine = await catalogue.AddAsync(Alice,
            new SoftwareDraft("my-app", "My app", null, "example.org/app", "1.0", null, 8080, "http", null, null, null, null, null), platformWide: false, default);

        var creating = ctx.Services.GetRequiredService<TaskService>().CreateAsync(Alice, new NewTask(Software: mine.Id, Computing: host.Id), default);
        await measuring.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(await catalogue.DeleteAsync(Alice, mine.Id, default)); // no task of it yet
        measured.SetResult();

        var refused = await Assert.ThrowsAsync<ValidationException>(() => creating);
        Assert.Contains("was removed from the catalogue while the task was being created", Assert.Single(refused.Errors.ToDictionary()["software"]));
        Assert.DoesNotContain(ctx.Monitor.Feed.Items.Values, t => t.SoftwareId == mine.Id);
    }

    /// <summary>A request let in before its account was disabled (to be deleted) must not leave a task behind it.</summary>
    [Fact]
    public async Task ATaskWhoseOwnerIsDisabledWhileTheTaskIsCreatedIsRefused()
    {
        var (ssh, measuring, measured) = HeldCapacityCheck();
        var launches = 0;
        ssh.Launching = (_, _) => { Interlocked.Increment(ref launches); return Task.FromResult<LaunchResult>(null!); };
        using var ctx = new DashboardTestContext(moreBackends: [ssh]);
        var host = await AddLabHostAsync(ctx);

        var creating = ctx.Services.GetRequiredService<TaskService>().CreateAsync(Alice, new NewTask(Software: "hello", Computing: host.Id), default);
        await measuring.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await using (var db = await ctx.Services.GetRequiredService<IDbContextFactory<RosettaDbContext>>().CreateDbContextAsync())
            await db.Users.Where(u => u.Id == Alice.UserId).ExecuteUpdateAsync(u => u.SetProperty(x => x.IsDisabled, true));
        measured.SetResult();

        var refused = await Assert.ThrowsAsync<ConflictException>(() => creating);
        Assert.Contains("account was disabled", refused.Message);
        Assert.Empty(ctx.Monitor.Feed.Items.Values);
        Assert.Equal(0, launches);
    }

    /// <summary>Two starts at once with room for one more: one task, one refusal, never both.</summary>
    [Fact]
    public async Task TasksStartedAtOnceStayWithinTheLimitPerUser()
    {
        var meet = new InsertsMeet();
        // Launches that never finish: the tasks stay starting, so they count until the test ends one.
        var ssh = new DashboardTestContext.FakeBackend(ComputingKind.Ssh) { Launching = (_, ct) => Task.Delay(Timeout.Infinite, ct).ContinueWith(_ => (LaunchResult)null!, TaskScheduler.Default) };
        using var ctx = new DashboardTestContext(moreBackends: [ssh], databaseInterceptor: meet, tasks: new() { MaxActivePerUser = 2 });
        var host = await AddLabHostAsync(ctx);
        var tasks = ctx.Services.GetRequiredService<TaskService>();
        NewTask Request() => new(Software: "hello", Computing: host.Id);
        var first = await tasks.CreateAsync(Alice, Request(), default);
        await AssertOneWinsAsync(meet, _ => tasks.CreateAsync(Alice, Request(), default));
        Assert.Equal(2, ctx.Monitor.ActiveTasksOf(Alice.UserId));
        var refused = await Assert.ThrowsAsync<ConflictException>(() => tasks.CreateAsync(Alice, Request(), default));
        Assert.StartsWith("You have 2 tasks that have not ended; one user may have at most 2", refused.Message);
        Assert.Equal(refused.Message, ctx.Monitor.TaskLimitReached(Alice.UserId));

        // An ended task makes room; another user has room of their own.
        await ctx.SetStatusAsync(first.Id, TaskState.Stopped);
        Assert.Null(ctx.Monitor.TaskLimitReached(Alice.UserId));
        await tasks.CreateAsync(Alice, Request(), default);
        await ctx.AddTaskAsync("bob's", TaskState.Running, ownerId: "user-2");
        Assert.Equal(4, ctx.Monitor.Feed.Items.Count);
        Assert.Equal(2, ctx.Monitor.ActiveTasksOf(Alice.UserId));
    }

    [Fact]
    public async Task ARemovalThatComesWhileATaskIsBeingAddedWaitsForItAndIsRefused()
    {
        var meet = new InsertsMeet();
        using var ctx = new DashboardTestContext(moreBackends: [new DashboardTestContext.FakeBackend(ComputingKind.Ssh)], databaseInterceptor: meet);
        var computing = ctx.Services.GetRequiredService<ComputingService>();
        var host = await AddLabHostAsync(ctx);
        meet.Arm();

        var creating = ctx.Services.GetRequiredService<TaskService>().CreateAsync(Alice, new NewTask(Software: "hello", Computing: host.Id), default);
        await meet.FirstArrived.WaitAsync(TimeSpan.FromSeconds(30)); // the task has checked its resource and is inserting
        var refused = await Assert.ThrowsAsync<ConflictException>(() => computing.DeleteAsync(Alice, host.Id, default));
        Assert.Contains("has 1 task", refused.Message);
        Assert.Equal(host.Id, (await creating).ComputingId);
        Assert.NotNull(await computing.FindAsync(Alice, host.Id, default));
    }

    [Fact]
    public async Task ComputingResourcesAddedAtOnceUnderOneIdGiveOneResourceAndConflicts()
    {
        var meet = new InsertsMeet();
        using var ctx = new DashboardTestContext(databaseInterceptor: meet);
        var computing = ctx.Services.GetRequiredService<ComputingService>();
        await AssertOneWinsAsync(meet, i => computing.AddAsync(Alice, SshHost("lab", $"lab {i}"), default));
    }

    [Fact]
    public async Task ComputingResourcesAddedAtOnceUnderOneNameGiveOneResourceAndConflicts()
    {
        var meet = new InsertsMeet();
        using var ctx = new DashboardTestContext(databaseInterceptor: meet);
        var computing = ctx.Services.GetRequiredService<ComputingService>();
        await AssertOneWinsAsync(meet, i => computing.AddAsync(Alice, SshHost($"lab-{i}", "lab"), default));
        Assert.Single(await computing.ListAsync(Alice, default), c => c.Name == "lab");
    }

    [Fact]
    public async Task SoftwareAddedAtOnceUnderOneIdGivesOneEntryAndConflicts()
    {
        var meet = new InsertsMeet();
        using var ctx = new DashboardTestContext(databaseInterceptor: meet);
        var software = ctx.Services.GetRequiredService<SoftwareService>();
        await AssertOneWinsAsync(meet, i => software.AddAsync(Alice,
            new SoftwareDraft("my-app", $"My app {i}", null, "example.org/app", "1.0", null, 8080, "http", null, null, null, null, null), platformWide: false, default));
    }

    [Fact]
    public async Task StoragesAddedAtOnceUnderOneIdGiveOneStorageAndConflicts()
    {
        var meet = new InsertsMeet();
        using var ctx = new DashboardTestContext(databaseInterceptor: meet);
        var host = await ctx.Services.GetRequiredService<ComputingService>().AddAsync(Alice, SshHost(null, "lab host"), default);
        var storages = ctx.Services.GetRequiredService<StorageService>();
        // Different bind paths, so only the id collides.
        await AssertOneWinsAsync(meet, i => storages.AddAsync(Alice,
            new StorageDraft("data", $"Data {i}", "sftp", host.Id, "/data/$SSH_USER", $"/storages/data{i}", null, null, null), default));
    }

    /// <summary>
    /// Runs two creations at once and makes them meet just before their inserts: where the checks and
    /// the insert are not one step, both have checked by then and both insert (one fails on the
    /// database's key, not with a conflict). Where they are one step the second waits for the first
    /// to commit, so the first goes on alone after <see cref="InsertsMeet"/>'s patience.
    /// Exactly one succeeds; the other is a <see cref="ConflictException"/>.
    /// </summary>
    private static async Task AssertOneWinsAsync(InsertsMeet meet, Func<int, Task> attempt)
    {
        meet.Arm();
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 2).Select(i => Task.Run(async () =>
        {
            try
            {
                await attempt(i);
                return "created";
            }
            catch (ConflictException)
            {
                return "conflict";
            }
        })));
        Assert.Equal(["conflict", "created"], outcomes.Order());
    }

    /// <summary>Once armed, holds the first INSERT until a second one arrives or the patience runs out.</summary>
    private sealed class InsertsMeet : DbCommandInterceptor
    {
        private static readonly TimeSpan Patience = TimeSpan.FromSeconds(1);
        private readonly TaskCompletionSource _first = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _second = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private volatile bool _armed;
        private int _arrived;

        /// <summary>From now on (the database is seeded and the test's own setup written).</summary>
        public void Arm() => _armed = true;

        /// <summary>Done when the first insert is being held.</summary>
        public Task FirstArrived => _first.Task;

        public override async ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData,
            InterceptionResult<DbDataReader> result, CancellationToken ct)
        {
            await MeetAsync(command, ct);
            return result;
        }

        public override async ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData,
            InterceptionResult<int> result, CancellationToken ct)
        {
            await MeetAsync(command, ct);
            return result;
        }

        private async Task MeetAsync(DbCommand command, CancellationToken ct)
        {
            if (!_armed || !command.CommandText.Contains("INSERT INTO", StringComparison.Ordinal)) return;
            var arrived = Interlocked.Increment(ref _arrived);
            if (arrived == 1) _first.TrySetResult();
            if (arrived == 2) _second.TrySetResult();
            await Task.WhenAny(_second.Task, Task.Delay(Patience, ct));
        }
    }
}
