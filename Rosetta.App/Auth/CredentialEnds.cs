using System.Security.Claims;
using Rosetta.Core.Accounts;
using Rosetta.Core.Security;

namespace Rosetta.App.Auth;

/// <summary>
/// Credentials are checked when a request or connection starts. What it keeps open after (a followed log, a hub
/// connection, a task interface's WebSocket) ends with what let it in: the user's account (<see cref="AccountEnds"/>),
/// their dashboard session (<see cref="SessionEnds"/>), or the API token (<see cref="ApiTokenService.EndOf"/>),
/// whichever ends first.
/// </summary>
public static class CredentialEnds
{
    /// <summary>Ends the request when the credentials of <paramref name="user"/> end.</summary>
    /// <returns>The registrations: disposed when the request is done.</returns>
    public static IDisposable AbortWith(HttpContext ctx, ClaimsPrincipal user) =>
        Register(ctx.RequestServices, user.UserId(), user.SessionId(), user.ApiTokenId(), ctx.Abort);

    /// <summary>Ends a hub connection when the credentials of <paramref name="user"/> end.</summary>
    public static IDisposable Register(IServiceProvider services, ClaimsPrincipal user, Action end) =>
        Register(services, user.UserId(), user.SessionId(), user.ApiTokenId(), end);

    /// <param name="userId">The account whose end ends it (for a task interface, its owner's, whoever opened it).</param>
    /// <param name="sessionId">The dashboard session that let it in, if one did.</param>
    /// <param name="tokenId">The API token that let it in, if one did.</param>
    /// <param name="end">What ends the request or connection (e.g. its Abort).</param>
    /// <returns>The registrations: disposed when the request or connection is done.</returns>
    public static IDisposable Register(IServiceProvider services, string? userId, string? sessionId, string? tokenId, Action end)
    {
        var ends = new List<CancellationToken>();
        if (userId is not null) ends.Add(services.GetRequiredService<AccountEnds>().EndOf(userId));
        if (sessionId is not null) ends.Add(services.GetRequiredService<SessionEnds>().EndOf(sessionId));
        if (tokenId is not null) ends.Add(services.GetRequiredService<ApiTokenService>().EndOf(tokenId));
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
