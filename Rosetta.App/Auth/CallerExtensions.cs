using System.Security.Claims;
using Rosetta.Core.Domain;

namespace Rosetta.App.Auth;

public static class CallerExtensions
{
    /// <summary>The Core view of an authenticated user.</summary>
    public static Caller ToCaller(this ClaimsPrincipal user) => new(
        user.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new InvalidOperationException("The request is not authenticated."),
        user.IsInRole(Roles.Admin));

    public static string? UserId(this ClaimsPrincipal user) => user.FindFirstValue(ClaimTypes.NameIdentifier);

    /// <summary>The id of the dashboard session (<see cref="SignInSessionStore"/>) that authenticated the user; null for an API token.</summary>
    public static string? SessionId(this ClaimsPrincipal user) => user.FindFirstValue(SignInSessionStore.SessionIdClaim);

    /// <summary>The id of the API token that authenticated the user; null for a dashboard session.</summary>
    public static string? ApiTokenId(this ClaimsPrincipal user) => user.FindFirstValue(ApiTokenAuthenticationHandler.TokenIdClaim);
}
