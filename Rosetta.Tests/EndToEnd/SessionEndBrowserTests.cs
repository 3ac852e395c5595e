using Microsoft.Extensions.DependencyInjection;
using Rosetta.App.Auth;
using Rosetta.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;
using static Rosetta.Tests.EndToEnd.DashboardBrowserTests;

namespace Rosetta.Tests.EndToEnd;

/// <summary>
/// An open dashboard tab outlives the cookie check that opened it: it must still end with its
/// session. (Disabling the account ends it at once: see <see cref="DashboardBrowserTests"/>.)
/// </summary>
public sealed class SessionEndBrowserTests : IAsyncLifetime
{
    private readonly BrowserFixture _browser = new();

    public Task InitializeAsync() => _browser.InitializeAsync();
    public Task DisposeAsync() => _browser.DisposeAsync();

    [Fact]
    public async Task AnOpenDashboardFallsBackToTheLoginPageWhenItsPasswordIsChangedElsewhere()
    {
        await using var app = new RosettaAppFactory(settings: new Dictionary<string, string?> { ["Rosetta:Auth:SessionRecheckSeconds"] = "1" });
        var username = "e2e" + Guid.NewGuid().ToString("N")[..6];
        using (await app.NewUserClientAsync(username)) { }
        await using var context = await _browser.Browser.NewContextAsync(new() { BaseURL = app.BaseAddress.ToString() });
        var page = await context.NewPageAsync();
        await LogInAsync(page, username, "password-" + username);

        // The same person, on another computer, changes the password (say, because this session was stolen).
        var administration = app.Services.GetRequiredService<UserAdministration>();
        var userId = (await administration.ListAsync()).Single(u => u.Username == username).Id;
        await administration.ChangePasswordAsync(userId, "password-" + username, "a-brand-new-password");

        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/login"), new() { Timeout = 15_000 });
        await LogInAsync(page, username, "a-brand-new-password");
    }
}
