using System.Net;
using System.Net.Http.Json;
using Rosetta.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;
using static Rosetta.Tests.EndToEnd.DashboardBrowserTests;

namespace Rosetta.Tests.EndToEnd;

/// <summary>
/// Half of a UTF-16 surrogate pair (what a bad copy and paste can leave in a field) is refused by the
/// API and the page code (<c>TextRules.IsWellFormed</c>, unit- and sweep-tested). This shows what a
/// real browser does with it on a dashboard form: the framework's JSON reader drops that one event
/// before any page code runs, and the circuit, the page and the account stay as they were.
/// </summary>
public sealed class BrokenTextBrowserTests : IAsyncLifetime
{
    private readonly BrowserFixture _browser = new();

    public Task InitializeAsync() => _browser.InitializeAsync();
    public Task DisposeAsync() => _browser.DisposeAsync();

    [Fact]
    public async Task AHalfCharacterTypedIntoAFormChangesNothingAndThePageStaysLive()
    {
        await using var app = new RosettaAppFactory();
        var username = "e2e" + Guid.NewGuid().ToString("N")[..6];
        var password = "password-" + username;
        using (await app.NewUserClientAsync(username)) { }
        await using var context = await _browser.Browser.NewContextAsync(new() { BaseURL = app.BaseAddress.ToString() });
        var page = await context.NewPageAsync();
        await LogInAsync(page, username, password);
        await page.GotoAsync("/account");
        await WaitForCircuitAsync(page);

        var current = page.Locator("input[data-test=pw-current], [data-test=pw-current] input");
        var next = page.Locator("input[data-test=pw-next], [data-test=pw-next] input");
        await current.FillAsync(password);
        // Set in the page itself: Playwright's own typing and arguments pass through its JSON, which
        // turns the half character into U+FFFD (a whole, valid character).
        await next.EvaluateAsync("input => { input.value = 'broken-\\uD800-password'; input.dispatchEvent(new Event('input', { bubbles: true })); input.dispatchEvent(new Event('change', { bubbles: true })); }");
        await page.ClickAsync("[data-test=pw-save]");

        // The broken value never reached the page, so it counts as not given; nothing crashed.
        await Expect(page.Locator("text=is required.")).ToBeVisibleAsync();
        await Expect(page.Locator("#blazor-error-ui")).ToBeHiddenAsync();
        Assert.Equal(HttpStatusCode.Created, await LogInThroughTheApiAsync(app, username, password));

        // The same circuit goes on serving the page: a well-formed password is taken, and (as every session of the
        // account ends with a new password, this one too) the tab falls back to the login page.
        await next.FillAsync("a-well-formed-password");
        await page.ClickAsync("[data-test=pw-save]");
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/login"));
        Assert.Equal(HttpStatusCode.Created, await LogInThroughTheApiAsync(app, username, "a-well-formed-password"));
    }

    private static async Task<HttpStatusCode> LogInThroughTheApiAsync(RosettaAppFactory app, string username, string password)
    {
        using var client = app.Client();
        using var response = await client.PostAsJsonAsync("/api/v1/tokens", new { username, password });
        return response.StatusCode;
    }
}
