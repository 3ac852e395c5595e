namespace Rosetta.Core.Backends;

/// <summary>Engine events inferred from two listings, for backends that poll instead of following an event stream.</summary>
public static class ContainerChanges
{
    public static IEnumerable<ContainerEvent> Between(IReadOnlyList<ObservedContainer> before, IReadOnlyList<ObservedContainer> after)
    {
        var now = after.ToDictionary(c => c.BackendId, StringComparer.Ordinal);
        var then = before.ToDictionary(c => c.BackendId, StringComparer.Ordinal);
        foreach (var old in before)
        {
            if (!now.TryGetValue(old.BackendId, out var current))
            {
                if (old.State == ContainerRunState.Running) yield return new ContainerEvent(old.TaskId, old.BackendId, ContainerEventKind.Died, null);
                yield return new ContainerEvent(old.TaskId, old.BackendId, ContainerEventKind.Destroyed, null);
            }
            else if (old.State != ContainerRunState.Exited && current.State == ContainerRunState.Exited)
            {
                if (current.Error?.Contains("memory", StringComparison.OrdinalIgnoreCase) == true)
                    yield return new ContainerEvent(current.TaskId, current.BackendId, ContainerEventKind.OutOfMemory, null);
                yield return new ContainerEvent(current.TaskId, current.BackendId, ContainerEventKind.Died, current.ExitCode, Detail: current.Detail);
            }
            else if (old.State != ContainerRunState.Running && current.State == ContainerRunState.Running)
            {
                yield return new ContainerEvent(current.TaskId, current.BackendId, ContainerEventKind.Started, null, current.Endpoint);
            }
            else if (current.State == ContainerRunState.Queued && (old.State != ContainerRunState.Queued || old.Detail != current.Detail))
            {
                yield return new ContainerEvent(current.TaskId, current.BackendId, ContainerEventKind.Queued, null, Detail: current.Detail);
            }
        }
        foreach (var added in after.Where(c => !then.ContainsKey(c.BackendId)))
        {
            if (added.State == ContainerRunState.Running) yield return new ContainerEvent(added.TaskId, added.BackendId, ContainerEventKind.Started, null, added.Endpoint);
            else if (added.State == ContainerRunState.Exited) yield return new ContainerEvent(added.TaskId, added.BackendId, ContainerEventKind.Died, added.ExitCode, Detail: added.Detail);
            else if (added.State == ContainerRunState.Queued) yield return new ContainerEvent(added.TaskId, added.BackendId, ContainerEventKind.Queued, null, Detail: added.Detail);
        }
    }
}
