namespace Rosetta.App.Hubs;

/// <summary>
/// Per user, the task changes still to send to their hub connections: the latest per task, sent one at a time, each
/// waited for at most <paramref name="sendTimeout"/>. A client that stops reading (a frozen tab, a dead link, on
/// purpose) then delays only its own user's updates, never another user's, and what waits for it is bounded by that
/// user's tasks however long it stays stuck (SignalR drops it at its client timeout).
/// </summary>
public sealed class HubOutboxes(TimeSpan sendTimeout, ILogger logger)
{
    private sealed class Outbox
    {
        public readonly OrderedDictionary<string, Func<Task>> Pending = new(StringComparer.Ordinal);
        public bool Draining;
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Outbox> _outboxes = new(StringComparer.Ordinal);

    /// <summary>Queues <paramref name="send"/> for <paramref name="user"/>, in place of what still waits for the same <paramref name="key"/>.</summary>
    public void Post(string user, string key, Func<Task> send)
    {
        var outbox = _outboxes.GetOrAdd(user, _ => new Outbox());
        lock (outbox)
        {
            outbox.Pending[key] = send;
            if (outbox.Draining) return;
            outbox.Draining = true;
        }
        _ = Task.Run(() => DrainAsync(user, outbox));
    }

    private async Task DrainAsync(string user, Outbox outbox)
    {
        while (true)
        {
            string key;
            Func<Task> send;
            lock (outbox)
            {
                if (outbox.Pending.Count == 0)
                {
                    outbox.Draining = false;
                    return;
                }
                (key, send) = outbox.Pending.GetAt(0);
                outbox.Pending.RemoveAt(0);
            }
            try
            {
                await send().WaitAsync(sendTimeout);
            }
            catch (TimeoutException)
            {
                logger.LogWarning("A hub client of user {UserId} is not reading; task {TaskId}'s change goes on without waiting", user, key);
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Could not notify hub clients of task {TaskId}", key);
            }
        }
    }
}
