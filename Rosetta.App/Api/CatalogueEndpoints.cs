using System.Security.Claims;
using Rosetta.App.Auth;
using Rosetta.Core.Backends;
using Rosetta.Core.Catalogue;
using Rosetta.Core.Monitoring;

namespace Rosetta.App.Api;

public static class CatalogueEndpoints
{
    /// <summary>A software draft plus whether an admin adds it for everyone.</summary>
    public sealed record SoftwareBody(
        string? Id, string? Name, string? Description, string? Image, string? Tag, string? Digest,
        int? InterfacePort, string? InterfaceProtocol, Dictionary<string, string>? Env,
        string? PortEnv, string? SecretEnv, string? ProxyAuthorizationScheme, string? BasePathEnv, bool? PlatformWide,
        string? ViewOnlySecretEnv = null)
    {
        public SoftwareDraft ToDraft() => new(Id, Name, Description, Image, Tag, Digest, InterfacePort, InterfaceProtocol, Env,
            PortEnv, SecretEnv, ProxyAuthorizationScheme, BasePathEnv, ViewOnlySecretEnv);
    }

    public static void MapCatalogueEndpoints(this RouteGroupBuilder api)
    {
        var software = api.MapGroup("/software").WithTags("Software");
        software.MapGet("/", async (ClaimsPrincipal user, SoftwareService service, CancellationToken ct) =>
                (await service.ListAsync(user.ToCaller(), ct)).Select(SoftwareDto.From))
            .WithSummary("The software catalogue: platform-wide entries and the caller's own.");
        software.MapGet("/{id}", async (string id, ClaimsPrincipal user, SoftwareService service, CancellationToken ct) =>
                await service.FindAsync(user.ToCaller(), id, ct) is { } s ? Results.Ok(SoftwareDto.From(s))
                    : Results.Problem(statusCode: 404, title: "Not found.", detail: $"No software '{TaskEndpoints.Shorten(id)}' in your catalogue."))
            .Produces<SoftwareDto>().ProducesProblem(404);
        software.MapPost("/", async (SoftwareBody body, ClaimsPrincipal user, SoftwareService service, CancellationToken ct) =>
            {
                var created = await service.AddAsync(user.ToCaller(), body.ToDraft(), body.PlatformWide == true, ct);
                return Results.Created($"/api/v1/software/{created.Id}", SoftwareDto.From(created));
            })
            .WithSummary("Add a container image to the caller's catalogue.")
            .Produces<SoftwareDto>(201).ProducesValidationProblem().ProducesProblem(409);
        software.MapPut("/{id}", async (string id, SoftwareBody body, ClaimsPrincipal user, SoftwareService service, CancellationToken ct) =>
            {
                var caller = user.ToCaller();
                if (await service.UpdateAsync(caller, id, body.ToDraft(), ct) is { } updated) return Results.Ok(SoftwareDto.From(updated));
                return NotYours(await service.FindAsync(caller, id, ct) is not null, OnlyAdminsSoftware,
                    $"No software '{TaskEndpoints.Shorten(id)}' in your catalogue.");
            })
            .WithSummary("Replace an entry of the caller's catalogue (admins: also platform-wide ones); tasks started afterwards use it.")
            .Produces<SoftwareDto>().ProducesValidationProblem().ProducesProblem(403).ProducesProblem(404);
        software.MapDelete("/{id}", async (string id, ClaimsPrincipal user, SoftwareService service, CancellationToken ct) =>
            {
                var caller = user.ToCaller();
                return await service.DeleteAsync(caller, id, ct) ? Results.NoContent()
                    : NotYours(await service.FindAsync(caller, id, ct) is not null, OnlyAdminsSoftware,
                        $"No software '{TaskEndpoints.Shorten(id)}' in your catalogue.");
            })
            .WithSummary("Remove an entry of the caller's catalogue (admins: also platform-wide ones); 409 while tasks of it still run.")
            .Produces(204).ProducesProblem(403).ProducesProblem(404).ProducesProblem(409);


        var computing = api.MapGroup("/computing").WithTags("Computing");
        computing.MapGet("/", async (ClaimsPrincipal user, ComputingService service, TaskMonitor monitor, CancellationToken ct) =>
                (await service.ListAsync(user.ToCaller(), ct)).Select(c => ComputingDto.From(c, monitor)))
            .WithSummary("Computing resources the caller can use, with their reachability.");
        computing.MapGet("/{id}", async (string id, ClaimsPrincipal user, ComputingService service, TaskMonitor monitor, CancellationToken ct) =>
                await service.FindAsync(user.ToCaller(), id, ct) is { } c ? Results.Ok(ComputingDto.From(c, monitor))
                    : Results.Problem(statusCode: 404, title: "Not found.", detail: $"No computing resource '{TaskEndpoints.Shorten(id)}'."))
            .Produces<ComputingDto>().ProducesProblem(404);
        computing.MapPost("/", async (ComputingDraft body, ClaimsPrincipal user, ComputingService service, TaskMonitor monitor, CancellationToken ct) =>
            {
                var created = await service.AddAsync(user.ToCaller(), body, ct);
                return Results.Created($"/api/v1/computing/{created.Id}", ComputingDto.From(created, monitor));
            })
            .WithSummary("Add an SSH host or Slurm cluster, owned by the caller who logs in with their own key.")
            .Produces<ComputingDto>(201).ProducesValidationProblem().ProducesProblem(409);
        computing.MapDelete("/{id}", async (string id, ClaimsPrincipal user, ComputingService service, CancellationToken ct) =>
            {
                var caller = user.ToCaller();
                if (await service.DeleteAsync(caller, id, ct)) return Results.NoContent();
                return NotYours(await service.FindAsync(caller, id, ct) is not null, "Only admins remove platform-wide computing resources.",
                    $"No computing resource '{TaskEndpoints.Shorten(id)}'.");
            })
            .WithSummary("Remove a resource of the caller's (admins: also platform-wide ones); 409 while it has tasks or storages, and for the local engine.")
            .Produces(204).ProducesProblem(403).ProducesProblem(404).ProducesProblem(409);
        computing.MapPost("/{id}/test", async (string id, ClaimsPrincipal user, ComputingService service, TaskMonitor monitor, CancellationToken ct) =>
            {
                if (await service.FindAsync(user.ToCaller(), id, ct) is not { } c)
                    return Results.Problem(statusCode: 404, title: "Not found.", detail: $"No computing resource '{TaskEndpoints.Shorten(id)}'.");
                // A test logs in as the resource's login (and pins its host key the first time): a user's own, with their key.
                if (!user.ToCaller().CanActThrough(c))
                    return Results.Problem(statusCode: 403, title: "Only the owner may do this.",
                        detail: $"'{c.Name}' is another user's own resource, reached with their SSH key: only they test it. Its state shows how the platform reaches it.");
                try
                {
                    return Results.Ok(new ConnectionTestDto(true, await monitor.TestConnectionAsync(c, ct)));
                }
                catch (BackendUnavailableException e)
                {
                    return Results.Ok(new ConnectionTestDto(false, e.Message));
                }
            })
            .WithSummary("Log into the resource and ask its container engine for its version and size; says precisely what failed.")
            .Produces<ConnectionTestDto>().ProducesProblem(404);
        computing.MapPut("/{id}/host-key", async (string id, HostKeyBody body, ClaimsPrincipal user, ComputingService service, CancellationToken ct) =>
                await service.TrustHostKeyAsync(user.ToCaller(), id, body.Fingerprint, ct) ? Results.NoContent()
                    : Results.Problem(statusCode: 404, title: "Not found.", detail: $"No computing resource '{TaskEndpoints.Shorten(id)}'."))
            .WithSummary("Trust a new host key for an SSH or Slurm resource whose host was reinstalled (its key changed, so every connection is refused): " +
                "`{\"fingerprint\": \"SHA256:…\"}` as the host's owner confirmed it. The owner's resources (admins: platform-wide ones); the next connection checks it.")
            .Produces(204).ProducesValidationProblem().ProducesProblem(403).ProducesProblem(404);
    }

    /// <summary>The host key fingerprint a resource's owner confirmed (<c>ssh-keygen -lf</c> on the host).</summary>
    public sealed record HostKeyBody(string? Fingerprint);

    private const string OnlyAdminsSoftware = "Only admins change or remove platform-wide software; add your own entry instead.";

    /// <summary>A change the caller may not make: 403 when they see the object (a platform-wide one), else 404 (existence is not revealed).</summary>
    private static IResult NotYours(bool visible, string onlyAdmins, string notFound) => visible
        ? Results.Problem(statusCode: 403, title: "Forbidden.", detail: onlyAdmins)
        : Results.Problem(statusCode: 404, title: "Not found.", detail: notFound);
}

/// <summary>The outcome of a connection test: what answered, or what failed and how to fix it.</summary>
public sealed record ConnectionTestDto(bool Ok, string Message);
