using Microsoft.Extensions.Logging.Abstractions;
using Rosetta.App.Hubs;

namespace Rosetta.Tests.Unit;

/// <summary>What the task hub sends: one user's client that stops reading holds up no one else, and what waits for it stays bounded.</summary>
public sealed class HubOutboxesTests
{
    [Fact]
    public async Task AUserWhoseClientStopsReadingDelaysNoOtherUser()
    {
        var outboxes = new HubOutboxes(TimeSpan.FromSeconds(30), NullLogger.Instance);
        var stuck = new TaskCompletionSource();
        outboxes.Post("mallory", "t1", () => stuck.Task); // never read
        var delivered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        outboxes.Post("alice", "t2", () => { delivered.SetResult(); return Task.CompletedTask; });
        await delivered.Task.WaitAsync(TimeSpan.FromSeconds(5));
        stuck.SetResult();
    }

    [Fact]
    public async Task WhileAClientIsStuckOnlyTheLatestChangeOfEachTaskWaitsForIt()
    {
        var outboxes = new HubOutboxes(TimeSpan.FromSeconds(30), NullLogger.Instance);
        var gate = new TaskCompletionSource();
        var sent = new List<string>();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        outboxes.Post("bob", "t1", () => { lock (sent) sent.Add("t1 v1"); started.SetResult(); return gate.Task; });
        await started.Task.WaitAsync(TimeSpan.FromSeconds(5)); // the first send is under way, and stuck
        foreach (var version in Enumerable.Range(2, 1000))
            outboxes.Post("bob", "t1", () => { lock (sent) sent.Add($"t1 v{version}"); return Task.CompletedTask; });
        outboxes.Post("bob", "t2", () => { lock (sent) sent.Add("t2 deleted"); done.SetResult(); return Task.CompletedTask; });
        gate.SetResult();
        await done.Task.WaitAsync(TimeSpan.FromSeconds(5));
        lock (sent) Assert.Equal(["t1 v1", "t1 v1001", "t2 deleted"], sent);
    }
}
