using Rosetta.Core.Domain;

namespace Rosetta.App.Components.Model;

/// <summary>Which actions make sense for a task in its current state (one rule for every page).</summary>
public static class TaskActions
{
    public static bool CanConnect(TaskRecord t) => t.Status == TaskState.Running;
    /// <summary>A stopping task too: a stop that failed (it says so on the task) is retried by stopping again.</summary>
    public static bool CanStop(TaskRecord t) => t.Status.IsActive();

    public static string StopLabel(TaskRecord t) => t.Status == TaskState.Stopping ? "Stop again" : "Stop";
    public static bool CanDelete(TaskRecord t) => t.Status.IsFinal();

    /// <summary>
    /// A task whose resource cannot be reached (a host gone for good) is deleted without it, also while it is still
    /// stopping there: its container goes if the resource ever answers again.
    /// </summary>
    public static bool CanDeleteAnyway(TaskRecord t, bool resourceUnreachable) =>
        resourceUnreachable && (t.Status == TaskState.Stopping || t.Status.IsFinal());

    public static string DeleteAnywayQuestion(TaskRecord t, string computingName) =>
        $"'{computingName}' cannot be reached. Delete '{t.Name}' without it? Its logs go now; its container, if it still runs there, " +
        "is removed when the resource answers again (unless the resource is removed from the platform first). Files in its storages stay. This cannot be undone.";
    public static bool HasLogs(TaskRecord t) => t.BackendId is not null;

    /// <summary>
    /// What stopping ends, asked before it happens: a task cannot be started again, and unsaved work
    /// in its interface (a notebook's kernel, a desktop's open windows) is gone.
    /// </summary>
    public static string StopQuestion(TaskRecord t) => t.Status == TaskState.Stopping
        ? $"Try again to stop '{t.Name}'? {t.StatusDetail}"
        : $"Stop '{t.Name}'? Its programs end and its interface closes: save open work first, in its storages (~/personal and the like) if it is to outlive the task. A stopped task cannot be started again; start a new one.";

    /// <summary>What deleting takes with it: everything outside the storages bound into the task.</summary>
    public static string DeleteQuestion(TaskRecord t) =>
        $"Delete '{t.Name}' and its logs? Files it saved outside its storages (its home folder included) go with it; files in the storages stay. This cannot be undone.";

    /// <summary>Where the owner connects over HTTP: the proxied path.</summary>
    public static string ConnectTarget(TaskRecord t) => $"/t/{t.Id}/";

    /// <summary>
    /// The port forwarded to the task's non-HTTP interface while it is served: a task that ended keeps its
    /// last port on record (a restart gives a running task the same one), but nothing listens there now.
    /// </summary>
    public static int? ServedPort(TaskRecord t) => t.Status is TaskState.Running or TaskState.Starting ? t.ForwardedPort : null;

    /// <summary>The command that reaches an SSH task through its forwarded port; null until it has one, and once it ended.</summary>
    public static string? SshCommand(TaskRecord t, string publicHost) => ServedPort(t) is { } port
        ? $"ssh -p {port} {SshUser(t)}@{publicHost}"
        : null;

    /// <summary>The account inside an SSH task: the task's SSH_USER, else the image's default.</summary>
    public static string SshUser(TaskRecord t) =>
        t.Options.Env?.TryGetValue("SSH_USER", out var user) == true && user.Length > 0 ? user : "scientist";

    /// <summary>"3 min", "2 h 5 min", "4 d" — the age of a task, as a list shows it.</summary>
    public static string Age(DateTime since, DateTime now)
    {
        var span = now - since;
        if (span < TimeSpan.FromMinutes(1)) return $"{Math.Max(0, (int)span.TotalSeconds)} s";
        if (span < TimeSpan.FromHours(1)) return $"{(int)span.TotalMinutes} min";
        if (span < TimeSpan.FromDays(1)) return $"{(int)span.TotalHours} h {span.Minutes} min";
        return $"{(int)span.TotalDays} d";
    }
}
