using System.Security.Claims;
using System.Text;
using Rosetta.App.Auth;
using Rosetta.Core.Domain;
using Rosetta.Core.Tasks;

namespace Rosetta.App.Api;

public static class TaskEndpoints
{
    public static void MapTaskEndpoints(this RouteGroupBuilder api)
    {
        var tasks = api.MapGroup("/tasks").WithTags("Tasks");

        tasks.MapGet("/", (string? status, bool? all, ClaimsPrincipal user, TaskService service, TaskDtoMapper mapper, HttpRequest request) =>
            {
                var caller = user.ToCaller();
                if (all == true && !caller.IsAdmin)
                    return Results.Problem(statusCode: 403, title: "Only admins list every user's tasks.", detail: "Leave out ?all=true to list your own.");
                // A status filter that names no status would silently list everything.
                var wanted = status?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) ?? [];
                var known = Enum.GetValues<TaskState>().Select(s => s.ToWire()).ToList();
                if (wanted.FirstOrDefault(s => !known.Contains(s)) is { } unknown)
                    return Results.ValidationProblem(new Dictionary<string, string[]> { ["status"] = [$"'{unknown}' is no task status; use one or more of {string.Join(", ", known)}, separated by commas."] });
                // The caller's own, as the contract says and the task hub sends, also for an admin unless asked for all.
                return Results.Ok(service.List(caller)
                    .Where(t => (all == true || t.OwnerId == caller.UserId) && (wanted.Length == 0 || wanted.Contains(t.Status.ToWire())))
                    .Select(t => mapper.Map(t, request)));
            })
            .WithSummary("The caller's tasks, newest first; ?status=running,queued keeps those; ?all=true gives an admin every user's.")
            .ProducesValidationProblem().ProducesProblem(403);

        tasks.MapPost("/", async (NewTask body, ClaimsPrincipal user, TaskService service, TaskDtoMapper mapper, HttpRequest request, CancellationToken ct) =>
            {
                var task = await service.CreateAsync(user.ToCaller(), body, ct);
                return Results.Created($"/api/v1/tasks/{task.Id}", mapper.Map(task, request));
            })
            .WithSummary("Start a task: software and computing ids, optional name and options.")
            .Produces<TaskDto>(StatusCodes.Status201Created).ProducesValidationProblem().ProducesProblem(503);

        tasks.MapGet("/{id}", (string id, ClaimsPrincipal user, TaskService service, TaskDtoMapper mapper, HttpRequest request) =>
                service.Find(user.ToCaller(), id) is { } task ? Results.Ok(mapper.Map(task, request)) : NotFound(id))
            .WithSummary("One task.").Produces<TaskDto>().ProducesProblem(404);

        tasks.MapPost("/{id}/stop", (string id, ClaimsPrincipal user, TaskService service) =>
                service.RequestStop(user.ToCaller(), id) ? Results.Accepted($"/api/v1/tasks/{id}") : NotFound(id))
            .WithSummary("Ask the task to stop; it reaches 'stopped' shortly.").Produces(202).ProducesProblem(404);

        tasks.MapDelete("/{id}", async (string id, bool? evenUnreachable, ClaimsPrincipal user, TaskService service, CancellationToken ct) =>
                await service.DeleteAsync(user.ToCaller(), id, ct, evenUnreachable == true) ? Results.NoContent() : NotFound(id))
            .WithSummary("Delete a task that no longer runs (409 while it runs or stops; 503 while its resource cannot be reached). " +
                "With evenUnreachable=true, also a task stopping on a resource that cannot be reached, or whose container cannot be removed: " +
                "its container is removed if the resource answers again.")
            .Produces(204).ProducesProblem(404).ProducesProblem(409).ProducesProblem(503);

        tasks.MapGet("/{id}/secret", (string id, ClaimsPrincipal user, TaskService service) =>
            {
                var caller = user.ToCaller();
                if (service.Find(caller, id) is null) return NotFound(id);
                return service.InterfaceSecret(caller, id) is { } secret
                    ? Results.Ok(new { secret })
                    : Results.Problem(statusCode: 404, title: "Not found.", detail: "This task has no password to show: its interface needs none, or the proxy logs in for you.");
            })
            .WithSummary("The owner's interface password of an SSH task (the proxy supplies HTTP interfaces' own secrets itself); 403 for an admin asking for another user's.")
            .ProducesProblem(403).ProducesProblem(404);

        tasks.MapGet("/{id}/logs", async (string id, int? tail, bool? follow, ClaimsPrincipal user, TaskService service, HttpContext ctx) =>
            {
                if (service.Find(user.ToCaller(), id) is not { } task) return NotFound(id);
                if (tail is < 0) return Results.Problem(statusCode: 400, title: "The request is invalid.", detail: "tail must be zero or a positive number of lines.");
                ctx.Response.ContentType = "text/plain; charset=utf-8";
                if (ctx.IsHead())
                {
                    // The backend is asked as for GET (so an unreachable one is a 503 here too), for no lines:
                    // a followed log would never end, and a long one is not read to be thrown away.
                    await foreach (var _ in service.ReadLogsAsync(task, 0, false, ctx.RequestAborted)) { }
                    return Results.Empty;
                }
                // A followed log never ends by itself: it ends with the token, session or account that opened it.
                using var ended = CredentialEnds.AbortWith(ctx, user);
                // Lines are written as they come: a follower sees output live, a large log never sits in memory.
                // Flushed only by what is read: an unreachable backend fails before anything is sent, so the
                // answer is still a 503 (a writer disposed on the way out would send an empty 200 first).
                var writer = new StreamWriter(ctx.Response.Body, new UTF8Encoding(false), bufferSize: 16 * 1024, leaveOpen: true);
                await foreach (var line in service.ReadLogsAsync(task, tail, follow == true, ctx.RequestAborted))
                {
                    await writer.WriteAsync(line.Text);
                    await writer.WriteAsync('\n');
                    if (follow == true) await writer.FlushAsync(ctx.RequestAborted);
                }
                await writer.FlushAsync(ctx.RequestAborted);
                return Results.Empty;
            })
            .WithSummary("The task's output (stdout and stderr) as text; ?tail=N for the last N lines, ?follow=true to stream.")
            .Produces<string>(200, "text/plain").ProducesProblem(404);
    }

    internal static IResult NotFound(string id) =>
        Results.Problem(statusCode: 404, title: "Not found.", detail: $"You have no task '{Shorten(id)}'.");

    internal static string Shorten(string text) =>
        new(text.Take(40).Select(c => char.IsControl(c) ? '?' : c).ToArray());
}
