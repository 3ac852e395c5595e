using System.Security.Claims;
using Rosetta.Core.Security;

namespace Rosetta.App.Auth;

/// <summary>
/// Credentials are checked when a request or connection starts. What it keeps open after (a followed log, a hub
/// connection) ends with what let it in: the user's account (<see cref="AccountEnds"/>), their dashboard session
/// (<see cref="SessionEnds"/>), or the API token (<see cref="ApiTokenService.EndOf"/>), whichever ends first.
/// </summary>
public static class CredentialEnds
{
    /// <returns>The registrations: disposed when the request is done.</returns>
    public static IDisposable AbortWith(HttpContext ctx, ClaimsPrincipal user)
    {
        var services = ctx.RequestServices;
        return Register(user, ctx.Abort, services.GetRequiredService<SessionEnds>(), services.GetRequiredService<AccountEnds>(),
            services.GetRequiredService<ApiTokenService>());
    }

    /// <param name="end">What ends the request or connection (e.g. its Abort).</param>
    /// <returns>The registrations: disposed when the request or connection is done.</returns>
    public static IDisposable Register(ClaimsPrincipal user, Action end, SessionEnds sessions, AccountEnds accounts, ApiTokenService tokens)
    {
        var ends = new List<CancellationToken> { sessions.EndOf(user) };
        if (user.UserId() is { } userId) ends.Add(accounts.EndOf(userId));
        if (user.ApiTokenId() is { } tokenId) ends.Add(tokens.EndOf(tokenId));
        return new Registrations(ends.Select(e => e.Register(end)).ToList());
    }

    private sealed class Registrations(List<CancellationTokenRegistration> registrations) : IDisposable
    {
        public void Dispose()
        {
            foreach (var registration in registrations) registration.Dispose();
        }
    }
}
