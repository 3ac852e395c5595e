using System.Security.Claims;
using Rosetta.App.Auth;
using Rosetta.Core.Sharing;

namespace Rosetta.App.Api;

public static class ShareEndpoints
{
    /// <summary><c>expiresInMinutes</c> is read as a long: a whole number too large for an int is out of range, not of the wrong type.</summary>
    public sealed record NewShare(string? Name, long? ExpiresInMinutes, bool? ViewOnly);
    public sealed record ShareDto(string Id, string Name, DateTime CreatedAt, DateTime ExpiresAt, DateTime? RevokedAt, bool Active, bool ViewOnly, int OpenConnections);
    public sealed record ShareIssued(string Id, string Name, DateTime ExpiresAt, bool ViewOnly, string Url);

    /// <summary>Where a share link's secret is exchanged for a cookie scoped to the task's path.</summary>
    public const string OpenPath = "/s";

    public static void MapShareEndpoints(this RouteGroupBuilder api)
    {
        var shares = api.MapGroup("/tasks/{id}/shares").WithTags("Share links");

        shares.MapPost("/", async (string id, NewShare body, ClaimsPrincipal user, ShareLinkService service, HttpRequest request, Hosting.PublicBaseUrl publicBase, CancellationToken ct) =>
            {
                var minutes = body.ExpiresInMinutes ?? 24 * 60;
                // Past the longest lifetime it is refused as such (TimeSpan itself would overflow first for the largest).
                var lifetime = minutes > ShareLinkService.MaxLifetime.TotalMinutes ? ShareLinkService.MaxLifetime + TimeSpan.FromMinutes(1)
                    : minutes <= 0 ? TimeSpan.Zero : TimeSpan.FromMinutes(minutes);
                var issued = await service.CreateAsync(user.ToCaller(), id, body.Name, lifetime, body.ViewOnly ?? false, ct);
                if (issued is null) return TaskEndpoints.NotFound(id);
                return Results.Created($"/api/v1/tasks/{id}/shares/{issued.Link.Id}",
                    new ShareIssued(issued.Link.Id, issued.Link.Name, issued.Link.ExpiresAt, issued.Link.ViewOnly, $"{publicBase.Of(request)}{OpenPath}/{issued.Secret}"));
            })
            .WithSummary("Create a share link to the task's web interface (owner only: 403 for an admin; 409 for an SSH task; default 24 h, at most 30 days; `viewOnly` for desktop tasks: the holder sees the desktop but cannot control it). The URL is shown once.")
            .Produces<ShareIssued>(201).ProducesValidationProblem().ProducesProblem(403).ProducesProblem(404).ProducesProblem(409);

        shares.MapGet("/", async (string id, ClaimsPrincipal user, ShareLinkService service, ShareLinkConnections connections, CancellationToken ct) =>
                await service.ListAsync(user.ToCaller(), id, ct) is { } links
                    ? Results.Ok(links.Select(l => Dto(l, connections)))
                    : TaskEndpoints.NotFound(id))
            .WithSummary("The task's share links (never their secrets), each with how many WebSockets are open through it now; for its owner and admins.");

        // Where a new link's Location points.
        shares.MapGet("/{shareId}", async (string id, string shareId, ClaimsPrincipal user, ShareLinkService service, ShareLinkConnections connections, CancellationToken ct) =>
                await service.ListAsync(user.ToCaller(), id, ct) is not { } links ? TaskEndpoints.NotFound(id)
                : links.FirstOrDefault(l => l.Id == shareId) is { } link ? Results.Ok(Dto(link, connections))
                : Results.Problem(statusCode: 404, title: "Not found.", detail: "The task has no such share link."))
            .WithSummary("One of the task's share links (never its secret); for its owner and admins.").Produces<ShareDto>().ProducesProblem(404);

        shares.MapDelete("/{shareId}", async (string id, string shareId, ClaimsPrincipal user, ShareLinkService service, CancellationToken ct) =>
                await service.RevokeAsync(user.ToCaller(), id, shareId, ct) ? Results.NoContent()
                : await service.ListAsync(user.ToCaller(), id, ct) is null ? TaskEndpoints.NotFound(id)
                : Results.Problem(statusCode: 404, title: "Not found.", detail: $"The task has no share link '{TaskEndpoints.Shorten(shareId)}'; GET /api/v1/tasks/{id}/shares lists its links."))
            .WithSummary("Revoke a share link (its owner or an admin); it stops working at once, WebSockets included.");
    }

    private static ShareDto Dto(ShareLink l, ShareLinkConnections connections) =>
        new(l.Id, l.Name, l.CreatedAt, l.ExpiresAt, l.RevokedAt, l.RevokedAt is null && l.ExpiresAt > DateTime.UtcNow, l.ViewOnly, connections.OpenThrough(l));
}
