using System.Security.Claims;

namespace Rosetta.App.Auth;

/// <summary>
/// The session a page's interactive root was rendered for. Blazor's component descriptors (in the page,
/// data-protected, valid for minutes) do not name a user, and a circuit takes its user from the cookie
/// its connection carries; so a descriptor from one session could start a circuit under another's cookie.
/// In path mode a task's page has its visitor's cookie, and its author can fetch descriptors from their own
/// session. The root (<c>Routes</c>) is given the session it was rendered for, inside its descriptor, and
/// refuses to run for any other.
/// </summary>
public static class CircuitOwner
{
    public static string Of(ClaimsPrincipal user, IServiceProvider services) =>
        user.UserId() is { } id ? $"{id}\n{AuthenticationSetup.SecurityStampOf(user, services)}" : "";
}
