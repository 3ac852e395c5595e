using Microsoft.Extensions.DependencyInjection;
using Rosetta.Core.Backends;
using Rosetta.Core.Catalogue;
using Rosetta.Core.Domain;
using Rosetta.Core.Storages;
using Rosetta.Core.Tasks;
using Rosetta.Tests.Components;

namespace Rosetta.Tests.Unit;

/// <summary>
/// A bound home storage needs the login's home, which the resource's SFTP server tells: a host that cannot
/// fails the launch before the backend is asked, naming the storage, not with a bare connection error.
/// </summary>
public sealed class HomeBindTests
{
    private static readonly Caller Alice = new(DashboardTestContext.UserId, IsAdmin: false);

    [Fact]
    public async Task ABoundHomeOnAHostThatDoesNotAnswerFailsTheLaunchNamingTheStorage()
    {
        var launches = 0;
        var ssh = new DashboardTestContext.FakeBackend(ComputingKind.Ssh)
        {
            Launching = (_, _) => { Interlocked.Increment(ref launches); return Task.FromResult<LaunchResult>(null!); },
        };
        using var ctx = new DashboardTestContext(moreBackends: [ssh]);
        // Port 1 on loopback: nothing listens there, so the SFTP connection is refused at once.
        var host = await ctx.Services.GetRequiredService<ComputingService>().AddAsync(Alice,
            new ComputingDraft(null, "Lab host", "ssh", "127.0.0.1", 1, "alice", null, null, null), default);
        var storages = ctx.Services.GetRequiredService<StorageService>();
        var home = Assert.Single(await storages.ListAsync(Alice, default), s => s.ComputingId == host.Id);
        await storages.UpdateAsync(Alice, home.Id, new StorageDraft(null, null, null, null, null, null, null, null, null, Bound: true), default);

        var task = await ctx.Services.GetRequiredService<TaskService>().CreateAsync(Alice, new NewTask(Software: "hello", Computing: host.Id), default);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (ctx.Monitor.Get(task.Id)?.Status != TaskState.Failed && DateTime.UtcNow < deadline) await Task.Delay(50);
        var failed = ctx.Monitor.Get(task.Id)!;
        Assert.Equal(TaskState.Failed, failed.Status);
        Assert.StartsWith("The storage 'Home on Lab host' is in the login's home ($HOME), which 127.0.0.1's SFTP server did not tell: ", failed.Error);
        Assert.Equal(0, launches);
    }
}
