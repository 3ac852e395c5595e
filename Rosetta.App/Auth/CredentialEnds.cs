using System.Security.Claims;
using Rosetta.Core.Security;

namespace Rosetta.App.Auth;

/// <summary>
/// Credentials are checked when a request starts. What it keeps open after (a followed log) ends with what let it
/// in: the user's account (<see cref="AccountEnds"/>), their dashboard session (<see cref="SessionEnds"/>), or the API
/// token (<see cref="ApiTokenService.EndOf"/>), whichever ends first.
/// </summary>
public static class CredentialEnds
{
    /// <returns>The registrations: disposed when the request is done.</returns>
    public static IDisposable AbortWith(HttpContext ctx, ClaimsPrincipal user)
    {
        var services = ctx.RequestServices;
        var ends = new List<CancellationToken> { services.GetRequiredService<SessionEnds>().EndOf(user) };
        if (user.UserId() is { } userId) ends.Add(services.GetRequiredService<AccountEnds>().EndOf(userId));
        if (user.ApiTokenId() is { } tokenId) ends.Add(services.GetRequiredService<ApiTokenService>().EndOf(tokenId));
        return new Registrations(ends.Select(end => end.Register(ctx.Abort)).ToList());
    }

    private sealed class Registrations(List<CancellationTokenRegistration> registrations) : IDisposable
    {
        public void Dispose()
        {
            foreach (var registration in registrations) registration.Dispose();
        }
    }
}
