using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;
using Rosetta.Core.Accounts;

namespace Rosetta.App.Auth;

/// <summary>
/// A dashboard circuit lives for hours after the cookie that opened it was checked. It ends with its
/// account, at once when the account is disabled (<see cref="AccountEnds"/>), and with its session:
/// at once when it logs out (in another tab: <see cref="SessionEnds"/>); a password change (a new security stamp) is noticed within <see cref="RevalidationInterval"/>
/// (<c>Rosetta:Auth:SessionRecheckSeconds</c>, 30 s: a database query per open tab each time).
/// The page then shows what an anonymous visitor gets: the way to the login page.
/// </summary>
public sealed class SessionBoundAuthenticationState : RevalidatingServerAuthenticationStateProvider
{
    private static readonly Task<AuthenticationState> Anonymous = Task.FromResult(new AuthenticationState(new ClaimsPrincipal(new ClaimsIdentity())));
    private readonly IServiceScopeFactory _scopes;
    private readonly AccountEnds _ends;
    private readonly SessionEnds _sessionEnds;
    private readonly SignInSessionStore _sessions;
    private readonly TimeSpan _recheck;
    private CancellationTokenRegistration _accountEnd, _sessionEnd;
    private volatile bool _disposed;

    public SessionBoundAuthenticationState(ILoggerFactory loggers, IServiceScopeFactory scopes, AccountEnds ends, SessionEnds sessionEnds,
        SignInSessionStore sessions, IConfiguration configuration)
        : base(loggers)
    {
        _scopes = scopes;
        _ends = ends;
        _sessionEnds = sessionEnds;
        _sessions = sessions;
        _recheck = TimeSpan.FromSeconds(Math.Max(1, configuration.GetValue("Rosetta:Auth:SessionRecheckSeconds", 30)));
        AuthenticationStateChanged += FollowAccount;
    }

    protected override TimeSpan RevalidationInterval => _recheck;

    protected override async Task<bool> ValidateAuthenticationStateAsync(AuthenticationState state, CancellationToken ct)
    {
        using var scope = _scopes.CreateScope();
        return await AuthenticationSetup.IsCurrentAsync(state.User, scope.ServiceProvider)
            && (state.User.SessionId() is not { } session || await _sessions.IsLiveAsync(session, state.User.UserId()!));
    }

    private async void FollowAccount(Task<AuthenticationState> changed)
    {
        _accountEnd.Dispose();
        _sessionEnd.Dispose();
        try
        {
            var user = (await changed).User;
            if (user.UserId() is { } userId)
                _accountEnd = _ends.EndOf(userId).Register(() => SetAuthenticationState(Anonymous));
            _sessionEnd = _sessionEnds.EndOf(user).Register(() => SetAuthenticationState(Anonymous));
            if (_disposed)
            {
                // The tab closed meanwhile: hold nothing on the account's or the session's token.
                _accountEnd.Dispose();
                _sessionEnd.Dispose();
            }
        }
        catch (Exception e) when (e is ObjectDisposedException or OperationCanceledException)
        {
            // The circuit ended meanwhile.
        }
    }

    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        AuthenticationStateChanged -= FollowAccount;
        _accountEnd.Dispose();
        _sessionEnd.Dispose();
        base.Dispose(disposing);
    }
}
