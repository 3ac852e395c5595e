using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Rosetta.App.Api;
using Rosetta.App.Hubs;
using Rosetta.Core.Domain;
using Rosetta.Tests.Components;

namespace Rosetta.Tests.Unit;

/// <summary>
/// One hub relays every user's changes. A client that stops reading (a frozen tab, a dead link) makes
/// SignalR's send wait; the publisher must not wait with it, or nobody else would hear of anything.
/// </summary>
public sealed class TaskHubPublisherTests
{
    [Fact]
    public async Task AHubClientThatStopsReadingDoesNotHoldUpOtherUsersUpdates()
    {
        await using var ctx = new DashboardTestContext();
        var mapper = new TaskDtoMapper(new Rosetta.App.Hosting.PublicBaseUrl(new ConfigurationBuilder().Build()), ctx.Services.GetRequiredService<Rosetta.Core.Tunnels.InterfaceForwarding>());
        var hub = new HubWithAStalledUser("stalled");
        var publisher = new TaskHubPublisher(ctx.Monitor, hub, mapper, NullLogger<TaskHubPublisher>.Instance);
        await publisher.StartAsync(CancellationToken.None);
        try
        {
            // The publisher subscribes on its own thread, maybe after a change: changed until one is heard.
            var first = await ctx.AddTaskAsync("a first task", TaskState.Running, ownerId: "other");
            for (var attempt = 1; !await hub.HeardAsync("a first task", TimeSpan.FromMilliseconds(500)); attempt++)
            {
                Assert.True(attempt < 60, "the publisher never relayed a change");
                await ctx.SetStatusAsync(first.Id, TaskState.Running, error: $"change {attempt}");
            }

            await ctx.AddTaskAsync("the frozen tab's task", TaskState.Running, ownerId: "stalled");
            await hub.StalledSendBegan.WaitAsync(TimeSpan.FromSeconds(30));
            await ctx.AddTaskAsync("someone else's task", TaskState.Running, ownerId: "other");
            await hub.DeliveredToOtherAsync("someone else's task");
        }
        finally
        {
            // Bounded: a publisher stuck on the stalled send would otherwise hold the test run up too.
            using var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await publisher.StopAsync(stopping.Token);
        }
    }

    /// <summary>Sends to <c>stalledUser</c> never complete, as over a connection nobody reads; other users' are recorded.</summary>
    private sealed class HubWithAStalledUser(string stalledUser) : IHubContext<TaskHub, ITaskHubClient>, IHubClients<ITaskHubClient>
    {
        private readonly TaskCompletionSource _stalledSendBegan = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public Task StalledSendBegan => _stalledSendBegan.Task;
        private readonly System.Threading.Channels.Channel<TaskDto> _deliveredToOthers = System.Threading.Channels.Channel.CreateUnbounded<TaskDto>();

        /// <summary>Waits until a change of the task named <paramref name="name"/> reached a user other than the stalled one.</summary>
        public async Task DeliveredToOtherAsync(string name) => Assert.True(await HeardAsync(name, TimeSpan.FromSeconds(30)), $"'{name}' was never relayed");

        public async Task<bool> HeardAsync(string name, TimeSpan within)
        {
            using var timeout = new CancellationTokenSource(within);
            try
            {
                while ((await _deliveredToOthers.Reader.ReadAsync(timeout.Token)).Name != name) { }
                return true;
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }

        public IHubClients<ITaskHubClient> Clients => this;
        public IGroupManager Groups => throw new NotSupportedException();

        public ITaskHubClient User(string userId) => userId == stalledUser ? new Stalled(_stalledSendBegan) : new Recording(_deliveredToOthers.Writer);

        public ITaskHubClient All => throw new NotSupportedException();
        public ITaskHubClient AllExcept(IReadOnlyList<string> excludedConnectionIds) => throw new NotSupportedException();
        public ITaskHubClient Client(string connectionId) => throw new NotSupportedException();
        ITaskHubClient IHubClients<ITaskHubClient>.Clients(IReadOnlyList<string> connectionIds) => throw new NotSupportedException();
        public ITaskHubClient Group(string groupName) => throw new NotSupportedException();
        public ITaskHubClient GroupExcept(string groupName, IReadOnlyList<string> excludedConnectionIds) => throw new NotSupportedException();
        ITaskHubClient IHubClients<ITaskHubClient>.Groups(IReadOnlyList<string> groupNames) => throw new NotSupportedException();
        public ITaskHubClient Users(IReadOnlyList<string> userIds) => throw new NotSupportedException();

        private sealed class Stalled(TaskCompletionSource began) : ITaskHubClient
        {
            public Task TaskChanged(TaskDto task)
            {
                began.TrySetResult();
                return new TaskCompletionSource().Task; // never completes
            }

            public Task TaskDeleted(string taskId) => new TaskCompletionSource().Task;
        }

        private sealed class Recording(System.Threading.Channels.ChannelWriter<TaskDto> delivered) : ITaskHubClient
        {
            public Task TaskChanged(TaskDto task)
            {
                delivered.TryWrite(task);
                return Task.CompletedTask;
            }

            public Task TaskDeleted(string taskId) => Task.CompletedTask;
        }
    }
}
