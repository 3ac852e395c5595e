using Microsoft.Playwright;
using Rosetta.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;
using static Rosetta.Tests.EndToEnd.DashboardBrowserTests;

namespace Rosetta.Tests.EndToEnd;

/// <summary>
/// The dashboard when its connection drops, in a real Chromium talking to the app through a
/// <see cref="TcpRelay"/>: the reconnect banner shows, and once the network is back the page shows
/// what changed meanwhile without a reload.
/// </summary>
[Collection("platform")]
public sealed class ReconnectBrowserTests(PlatformFixture platform) : IAsyncLifetime
{
    private readonly BrowserFixture _browser = new();
    private RosettaAppFactory App => platform.App;

    public Task InitializeAsync() => _browser.InitializeAsync();
    public Task DisposeAsync() => _browser.DisposeAsync();

    /// <summary>
    /// Blazor retries at once 10 times, then every 5 s, then every 30 s once the outage passes ~50 s
    /// (a slow, loaded run): the first attempt after the network is back can be up to 30 s away.
    /// </summary>
    internal static readonly LocatorAssertionsToBeHiddenOptions Reconnected = new() { Timeout = 60_000 };

    [Fact]
    public async Task WhileTheConnectionIsDownABannerShowsAndAfterwardsTheTasksPageShowsWhatChangedMeanwhile()
    {
        var username = "rc" + Guid.NewGuid().ToString("N")[..8];
        using var api = await App.NewUserClientAsync(username);
        var kept = (string)(await TaskApi.StartAsync(api, new { name = "reconnect-kept", software = "hello", computing = "local" }))["id"]!;
        var gone = (string)(await TaskApi.StartAsync(api, new { name = "reconnect-gone", software = "hello", computing = "local" }))["id"]!;
        try
        {
            await TaskApi.WaitForStatusAsync(api, kept, "running");
            await TaskApi.WaitForStatusAsync(api, gone, "running");
            (await api.PostAsync($"/api/v1/tasks/{gone}/stop", null)).EnsureSuccessStatusCode();
            await TaskApi.WaitForStatusAsync(api, gone, "stopped");

            await using var relay = new TcpRelay(App.BaseAddress);
            await using var context = await _browser.Browser.NewContextAsync(new() { BaseURL = relay.Address.ToString() });
            var page = await context.NewPageAsync();
            await LogInAsync(page, username, "password-" + username);
            // A second tab on the detail page of the task that will be deleted meanwhile.
            var detail = await context.NewPageAsync();
            await detail.GotoAsync($"/tasks/{gone}");
            await Expect(detail.Locator("[data-test=task-title]")).ToHaveTextAsync("reconnect-gone");
            await WaitForCircuitAsync(detail);
            var banner = page.Locator("[data-test=reconnect-banner]");
            var rows = page.Locator("[data-test=tasks] [data-test=task-name]");
            var keptChip = page.Locator("[data-test=tasks] tr", new() { HasText = "reconnect-kept" }).Locator(".status-chip");
            await Expect(rows).ToHaveCountAsync(2);
            await Expect(keptChip).ToHaveAttributeAsync("data-status", "running");
            await Expect(banner).ToBeHiddenAsync();
            // A reload would lose this; the page must come back on its own circuit.
            await page.EvaluateAsync("() => window.rosettaTestMark = 'same page'");

            relay.Cut();
            await Expect(banner).ToBeVisibleAsync();
            await Expect(banner).ToContainTextAsync("reconnecting");
            await Expect(detail.Locator("[data-test=reconnect-banner]")).ToBeVisibleAsync();

            // Changes made elsewhere while this page is cut off.
            (await api.PostAsync($"/api/v1/tasks/{kept}/stop", null)).EnsureSuccessStatusCode();
            await TaskApi.WaitForStatusAsync(api, kept, "stopped");
            Assert.Equal(System.Net.HttpStatusCode.NoContent, (await api.DeleteAsync($"/api/v1/tasks/{gone}")).StatusCode);
            // Still down: the banner stayed, and the page has not seen the changes.
            await Expect(banner).ToBeVisibleAsync();
            await Expect(rows).ToHaveCountAsync(2);

            relay.Restore();
            await Expect(banner).ToBeHiddenAsync(Reconnected);
            await Expect(rows).ToHaveCountAsync(1);
            await Expect(keptChip).ToHaveAttributeAsync("data-status", "stopped");
            Assert.Equal("same page", await page.EvaluateAsync<string>("() => window.rosettaTestMark"));
            await Expect(detail.Locator("[data-test=reconnect-banner]")).ToBeHiddenAsync(Reconnected);
            await Expect(detail.Locator("[data-test=task-missing]")).ToContainTextAsync("This task was deleted.");
        }
        finally
        {
            await TaskApi.StopAndDeleteAsync(api, kept);
            if ((await api.GetAsync($"/api/v1/tasks/{gone}")).IsSuccessStatusCode) await TaskApi.StopAndDeleteAsync(api, gone);
        }
    }
}
