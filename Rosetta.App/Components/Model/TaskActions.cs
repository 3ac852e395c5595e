using Rosetta.Core.Domain;

namespace Rosetta.App.Components.Model;

/// <summary>Which actions make sense for a task in its current state (one rule for every page).</summary>
public static class TaskActions
{
    public static bool CanConnect(TaskRecord t) => t.Status == TaskState.Running;
    public static bool CanStop(TaskRecord t) => t.Status is TaskState.Created or TaskState.Queued or TaskState.Starting or TaskState.Running;
    public static bool CanDelete(TaskRecord t) => t.Status.IsFinal();
    public static bool HasLogs(TaskRecord t) => t.BackendId is not null;

    /// <summary>Where the owner connects: the proxied URL for HTTP, host:port for SSH.</summary>
    public static string? ConnectTarget(TaskRecord t) => t.InterfaceProtocol switch
    {
        InterfaceProtocol.Http => $"/t/{t.Id}/",
        _ => t.InterfaceHost is null ? null : $"{t.InterfaceHost}:{t.InterfacePort}",
    };

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
