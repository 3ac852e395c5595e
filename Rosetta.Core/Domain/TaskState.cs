namespace Rosetta.Core.Domain;

/// <summary>
/// The lifecycle of a task, as fixed by the API contract. Serialized in lower case
/// (<c>created</c>, <c>queued</c>, ...).
/// </summary>
public enum TaskState
{
    /// <summary>Accepted and persisted; nothing started on the computing resource yet.</summary>
    Created,
    /// <summary>Waiting in a batch queue (Slurm).</summary>
    Queued,
    /// <summary>Image being pulled, container starting, or interface not answering yet.</summary>
    Starting,
    /// <summary>The interface answers.</summary>
    Running,
    /// <summary>A stop was requested and is in progress.</summary>
    Stopping,
    /// <summary>Stopped by a person.</summary>
    Stopped,
    /// <summary>Ended by itself; the exit code is set.</summary>
    Exited,
    /// <summary>Could not start or was lost; the error says why.</summary>
    Failed,
}

public static class TaskStateExtensions
{
    /// <summary>The states a task never leaves on its own, as a list a database query can use too.</summary>
    public static readonly IReadOnlyList<TaskState> FinalStates = [TaskState.Stopped, TaskState.Exited, TaskState.Failed];

    /// <summary>True once the task will never run again on its own.</summary>
    public static bool IsFinal(this TaskState state) => FinalStates.Contains(state);

    /// <summary>True while the task holds (or may soon hold) resources on its computing resource.</summary>
    public static bool IsActive(this TaskState state) => !state.IsFinal();

    public static string ToWire(this TaskState state) => state.ToString().ToLowerInvariant();
}
