using System.Security.Claims;
using Microsoft.AspNetCore.Identity;
using Rosetta.App.Auth;
using Rosetta.Core.Domain;
using Rosetta.Core.Security;

namespace Rosetta.App.Api;

public static class AccountApiEndpoints
{
    public sealed record TokenRequest(string? Username, string? Password, string? Name);
    public sealed record TokenIssued(string Id, string Name, string Token);
    public sealed record TokenInfo(string Id, string Name, string Prefix, DateTime CreatedAt, DateTime? LastUsedAt);
    public sealed record NewUser(string? Username, string? Password, bool? Admin);
    public sealed record NewPassword(string? Password);

    public static void MapTokenEndpoints(this RouteGroupBuilder api)
    {
        var tokens = api.MapGroup("/tokens").WithTags("Tokens");

        tokens.MapPost("/", async (TokenRequest body, UserManager<RosettaUser> users, ApiTokenService service, DecoyPasswordCheck decoy, CancellationToken ct) =>
            {
                if (string.IsNullOrEmpty(body.Username) || body.Password is null)
                {
                    var missing = new Rosetta.Core.Validation.ValidationErrors();
                    if (string.IsNullOrEmpty(body.Username)) missing.Add("username", "is required.");
                    if (body.Password is null) missing.Add("password", "is required.");
                    throw new Rosetta.Core.Validation.ValidationException(missing);
                }
                var user = await users.FindByNameAsync(body.Username);
                if (user is null || user.IsDisabled || await users.IsLockedOutAsync(user))
                {
                    decoy.Spend(body.Password);
                    return WrongCredentials();
                }
                if (!await users.CheckPasswordAsync(user, body.Password))
                {
                    await users.AccessFailedAsync(user);
                    return WrongCredentials();
                }
                await users.ResetAccessFailedCountAsync(user);
                var issued = await service.IssueAsync(user.Id, body.Name, ct);
                return Results.Created($"/api/v1/tokens/{issued.Token.Id}", new TokenIssued(issued.Token.Id, issued.Token.Name, issued.Secret));
            })
            .AllowAnonymous()
            .WithSummary("Exchange a username and password for an API token (shown only in this answer).")
            .Produces<TokenIssued>(201).ProducesValidationProblem().ProducesProblem(401);

        tokens.MapGet("/", async (ClaimsPrincipal user, ApiTokenService service, CancellationToken ct) =>
                (await service.ListAsync(user.ToCaller().UserId, ct)).Select(t => new TokenInfo(t.Id, t.Name, t.Prefix, t.CreatedAt, t.LastUsedAt)))
            .WithSummary("The caller's active tokens (never the secrets).");

        // Where a new token's Location points.
        tokens.MapGet("/{id}", async (string id, ClaimsPrincipal user, ApiTokenService service, CancellationToken ct) =>
                (await service.ListAsync(user.ToCaller().UserId, ct)).FirstOrDefault(t => t.Id == id) is { } t
                    ? Results.Ok(new TokenInfo(t.Id, t.Name, t.Prefix, t.CreatedAt, t.LastUsedAt))
                    : Results.Problem(statusCode: 404, title: "Not found.", detail: "You have no such token."))
            .WithSummary("One of the caller's active tokens (never the secret).").Produces<TokenInfo>().ProducesProblem(404);

        tokens.MapDelete("/{id}", async (string id, ClaimsPrincipal user, ApiTokenService service, CancellationToken ct) =>
                await service.RevokeAsync(user.ToCaller().UserId, id, ct) ? Results.NoContent()
                    : Results.Problem(statusCode: 404, title: "Not found.", detail: "You have no such token."))
            .WithSummary("Revoke one of the caller's tokens.");
    }

    public static void MapAccountKeyEndpoints(this RouteGroupBuilder api)
    {
        var account = api.MapGroup("/account").WithTags("Account");
        account.MapGet("/public-key", async (ClaimsPrincipal user, UserKeyService keys, CancellationToken ct) =>
                Results.Text(await keys.PublicKeyAsync(user.ToCaller().UserId, user.Identity?.Name ?? "user", ct) + "\n", "text/plain"))
            .WithSummary("The caller's SSH public key (one OpenSSH line) for ~/.ssh/authorized_keys on their hosts.")
            .Produces<string>(200, "text/plain");
        account.MapPost("/public-key/rotate", async (ClaimsPrincipal user, UserKeyService keys, CancellationToken ct) =>
                Results.Text(await keys.RotateAsync(user.ToCaller().UserId, user.Identity?.Name ?? "user", ct) + "\n", "text/plain"))
            .WithSummary("Replace the caller's key pair; hosts must then be given the new public key.")
            .Produces<string>(200, "text/plain");
    }

    public static void MapUserEndpoints(this RouteGroupBuilder api)
    {
        var users = api.MapGroup("/users").WithTags("Users").RequireAuthorization(p => p.RequireRole(Roles.Admin));

        users.MapPost("/", async (NewUser body, UserAdministration administration) =>
            {
                var user = await administration.CreateAsync(body.Username, body.Password, body.Admin == true);
                return Results.Created($"/api/v1/users/{user.Id}", user);
            })
            .WithSummary("Create a user (admins only).").Produces<UserSummary>(201).ProducesValidationProblem().ProducesProblem(409);

        users.MapGet("/", (UserAdministration administration) => administration.ListAsync())
            .WithSummary("All users (admins only).");

        // Where a new user's Location points.
        users.MapGet("/{id}", async (string id, UserAdministration administration) =>
                (await administration.ListAsync()).FirstOrDefault(u => u.Id == id) is { } found
                    ? Results.Ok(found) : Results.Problem(statusCode: 404, title: "Not found.", detail: "No such user."))
            .WithSummary("One user (admins only).").Produces<UserSummary>().ProducesProblem(404);

        users.MapPost("/{id}/password", async (string id, NewPassword body, ClaimsPrincipal caller, UserAdministration administration) =>
            {
                await administration.ResetPasswordAsync(caller.ToCaller(), id, body.Password);
                return Results.NoContent();
            })
            .WithSummary("Give a user who lost their password a new one (admins only): their browser sessions end (API tokens stay) and a lockout is lifted.")
            .Produces(204).ProducesValidationProblem().ProducesProblem(404).ProducesProblem(409);

        users.MapDelete("/{id}", (string id, ClaimsPrincipal caller, UserAdministration administration) =>
                administration.DeleteAsync(caller.ToCaller(), id))
            .WithSummary("Delete a user whose tasks have all ended (admins only), with their tasks, own software, computing resources, storages and API tokens; their folders on the platform host are renamed, not deleted.")
            .Produces<DeletedUser>(200).ProducesProblem(404).ProducesProblem(409).ProducesProblem(503);
    }

    private static IResult WrongCredentials() =>
        Results.Problem(statusCode: 401, title: "Wrong credentials.", detail: "The username or password is wrong, or the account is disabled or locked.");
}
