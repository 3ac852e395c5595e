using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Rosetta.App.Auth;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Unit;

/// <summary>The token that lets the dashboard's session cookie into the API: whose it is, and for how long.</summary>
public sealed class DashboardRequestTokenTests : IDisposable
{
    private readonly MovableClock _clock = new();
    private readonly ServiceProvider _services;
    private readonly DashboardRequestTokens _tokens;

    public DashboardRequestTokenTests()
    {
        _services = new ServiceCollection().AddOptions().Configure<IdentityOptions>(_ => { }).BuildServiceProvider();
        _tokens = new DashboardRequestTokens(new EphemeralDataProtectionProvider(), _services, _clock);
    }

    public void Dispose() => _services.Dispose();

    private static ClaimsPrincipal Session(string userId, string stamp) => new(new ClaimsIdentity(
        [new Claim(ClaimTypes.NameIdentifier, userId), new Claim(new IdentityOptions().ClaimsIdentity.SecurityStampClaimType, stamp)], "Identity.Application"));

    private bool Allows(ClaimsPrincipal session, string token) => _tokens.Allows(new DefaultHttpContext
    {
        User = session, RequestServices = _services,
        Request = { QueryString = QueryString.Create(DashboardRequestTokens.QueryName, token) },
    });

    [Fact]
    public void ATokenOpensOnlyTheSessionItWasIssuedFor_AndOnlyForADay()
    {
        var alice = Session("alice-id", "stamp-1");
        var token = _tokens.Issue(alice);
        Assert.True(Allows(alice, token));
        Assert.False(Allows(Session("bob-id", "stamp-1"), token));
        Assert.False(Allows(Session("alice-id", "stamp-2"), token)); // her password changed: her sessions ended
        Assert.False(Allows(alice, token[..^4] + "AAAA"));

        _clock.Offset = DashboardRequestTokens.Lifetime - TimeSpan.FromMinutes(1);
        Assert.True(Allows(alice, token));
        _clock.Offset = DashboardRequestTokens.Lifetime + TimeSpan.FromMinutes(1);
        Assert.False(Allows(alice, token));
        // Nor one dated well ahead of this clock.
        _clock.Offset = TimeSpan.FromHours(1);
        var ahead = _tokens.Issue(alice);
        _clock.Offset = TimeSpan.Zero;
        Assert.False(Allows(alice, ahead));
    }

    [Fact]
    public void TheDashboardsLinksCarryATokenIssuedWithinTheHour_SoAPageOpenForDaysStillGivesWorkingLinks()
    {
        var alice = Session("alice-id", "stamp-1");
        var links = new DashboardApiLinks(new SignedIn(alice), _tokens, _clock);

        string TokenOf(string link) => Uri.UnescapeDataString(link[(link.IndexOf(DashboardRequestTokens.QueryName + "=", StringComparison.Ordinal) + DashboardRequestTokens.QueryName.Length + 1)..]);
        var first = TokenOf(links.For("/api/v1/storages/personal/download?path=a.txt"));
        Assert.Equal(first, TokenOf(links.For("/api/v1/tasks/1/logs")));

        for (var hours = 2; hours <= 72; hours += 2)
        {
            _clock.Offset = TimeSpan.FromHours(hours);
            Assert.True(Allows(alice, TokenOf(links.For("/api/v1/tasks/1/logs"))), $"the link made after {hours} h is refused");
        }
        Assert.False(Allows(alice, first));
    }

    private sealed class SignedIn(ClaimsPrincipal user) : AuthenticationStateProvider
    {
        public override Task<AuthenticationState> GetAuthenticationStateAsync() => Task.FromResult(new AuthenticationState(user));
    }
}
