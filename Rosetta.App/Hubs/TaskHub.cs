using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using Rosetta.App.Api;
using Rosetta.App.Auth;
using Rosetta.Core.Tasks;

namespace Rosetta.App.Hubs;

/// <summary>What the hub sends to clients.</summary>
public interface ITaskHubClient
{
    /// <summary>A task of the caller was created or changed.</summary>
    Task TaskChanged(TaskDto task);
    /// <summary>A task of the caller was deleted.</summary>
    Task TaskDeleted(string taskId);
}

/// <summary>
/// <c>/hubs/tasks</c>: live task state for external clients, authenticated like the API (cookie or
/// <c>Authorization: Bearer</c> header). Each connection receives changes to its user's tasks only.
/// </summary>
[Authorize]
public sealed class TaskHub(TaskService tasks, TaskDtoMapper mapper, IServiceProvider services) : Hub<ITaskHubClient>
{
    /// <summary>
    /// The connection lasts as long as its account (disabling it closes the connection), and as long as the
    /// dashboard session or the API token that opened it (logging out, or revoking the token, closes it).
    /// </summary>
    public override Task OnConnectedAsync()
    {
        Context.Items[typeof(CredentialEnds)] = CredentialEnds.Register(services, Context.User!, Context.Abort);
        return Task.CompletedTask;
    }

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        if (Context.Items[typeof(CredentialEnds)] is IDisposable ends) ends.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>
    /// The caller's own tasks now (an admin's too: changes follow only for one's own tasks, as
    /// TaskChanged/TaskDeleted, so other users' tasks would go stale here).
    /// </summary>
    public IReadOnlyList<TaskDto> GetTasks()
    {
        var caller = Context.User!.ToCaller();
        return tasks.List(caller).Where(t => t.OwnerId == caller.UserId).Select(t => mapper.Map(t)).ToList();
    }
}
