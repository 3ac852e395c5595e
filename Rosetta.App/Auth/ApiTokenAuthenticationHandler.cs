using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Rosetta.Core.Domain;
using Rosetta.Core.Security;

namespace Rosetta.App.Auth;

/// <summary>
/// Authenticates <c>Authorization: Bearer rst_…</c> with a personal API token. Tokens are accepted
/// only in that header, never in a query string, so they stay out of URLs and access logs.
/// </summary>
public sealed class ApiTokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiTokenService tokens,
    UserManager<RosettaUser> users,
    IUserClaimsPrincipalFactory<RosettaUser> principals,
    PrincipalCache cache) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiToken";

    /// <summary>The claim naming the token that authenticated the request (<see cref="ApiTokenService.EndOf"/>).</summary>
    public const string TokenIdClaim = "rosetta:api-token";

    public static bool HasBearer(HttpRequest request) =>
        request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase);

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!HasBearer(Request)) return AuthenticateResult.NoResult();
        var secret = Request.Headers.Authorization.ToString()["Bearer ".Length..].Trim();
        var token = await tokens.ValidateAsync(secret, Context.RequestAborted);
        if (token is null) return AuthenticateResult.Fail("The API token is unknown or revoked.");
        var principal = await ActivePrincipalAsync(token.UserId, cache, users, principals);
        if (principal is null) return AuthenticateResult.Fail("The token's user is disabled.");
        // The cached user's identities, shared, plus one that names this token (the cached ones are never changed).
        var withToken = new ClaimsPrincipal(principal.Identities);
        withToken.AddIdentity(new ClaimsIdentity([new Claim(TokenIdClaim, token.TokenId)]));
        return AuthenticateResult.Success(new AuthenticationTicket(withToken, SchemeName));
    }

    /// <summary>
    /// The claims of an enabled user, through the short-lived <see cref="PrincipalCache"/>; null for a
    /// disabled or deleted one. Also how task hosts re-check a session's user on every request.
    /// </summary>
    public static Task<ClaimsPrincipal?> ActivePrincipalAsync(string userId, PrincipalCache cache,
        UserManager<RosettaUser> users, IUserClaimsPrincipalFactory<RosettaUser> principals) =>
        cache.GetOrCreateAsync(userId, async () =>
        {
            var user = await users.FindByIdAsync(userId);
            if (user is null || user.IsDisabled) return null;
            var created = await principals.CreateAsync(user);
            return new ClaimsPrincipal(created.Identities.Select(i => new ClaimsIdentity(i.Claims, SchemeName, i.NameClaimType, i.RoleClaimType)));
        });

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        return Task.CompletedTask;
    }
}
