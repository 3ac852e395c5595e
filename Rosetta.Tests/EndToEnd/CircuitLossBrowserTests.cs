using Microsoft.AspNetCore.Components.Server;
using Microsoft.AspNetCore.Components.Server.Circuits;
using Microsoft.Extensions.DependencyInjection;
using Rosetta.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;
using static Rosetta.Tests.EndToEnd.DashboardBrowserTests;

namespace Rosetta.Tests.EndToEnd;

/// <summary>
/// The dashboard when the server no longer has the page's circuit, each with its own platform behind
/// a <see cref="TcpRelay"/>: after a platform restart the banner says the session ended and offers
/// Reload; after an outage longer than the server keeps a disconnected circuit, the page resumes on
/// a new circuit (.NET 10) and shows the current state.
/// </summary>
public sealed class CircuitLossBrowserTests : IAsyncLifetime
{
    private readonly BrowserFixture _browser = new();

    public Task InitializeAsync() => _browser.InitializeAsync();
    public Task DisposeAsync() => _browser.DisposeAsync();

    [Fact]
    public async Task AfterAPlatformRestartTheBannerSaysTheSessionEndedAndReloadBringsThePageBack()
    {
        await DockerEngine.EnsureAvailableAsync();
        var first = new RosettaAppFactory();
        var instance = first.InstanceId;
        var firstDisposed = false;
        try
        {
            await using var relay = new TcpRelay(first.BaseAddress);
            await using var context = await _browser.Browser.NewContextAsync(new() { BaseURL = relay.Address.ToString() });
            var page = await context.NewPageAsync();
            await LogInAsync(page, "admin", RosettaAppFactory.AdminPassword);
            var banner = page.Locator("[data-test=reconnect-banner]");

            relay.Cut();
            await Expect(banner.Locator(".reconnect-trying")).ToBeVisibleAsync();

            // The platform restarts (same database and keys, so the login cookie stays valid); its circuits are gone.
            await first.DisposeAsync();
            firstDisposed = true;
            await using var second = new RosettaAppFactory(first.DataDirectory);
            relay.Target = second.BaseAddress;
            relay.Restore();

            await Expect(banner.Locator(".reconnect-rejected")).ToBeVisibleAsync(new() { Timeout = ReconnectBrowserTests.Reconnected.Timeout });
            await Expect(banner.Locator(".reconnect-trying")).ToBeHiddenAsync();
            await banner.Locator(".reconnect-rejected a").ClickAsync();
            await Expect(page.Locator("[data-test=new-task]")).ToBeVisibleAsync();
            await WaitForCircuitAsync(page);
            await Expect(banner).ToBeHiddenAsync();
        }
        finally
        {
            if (!firstDisposed) await first.DisposeAsync();
            await RosettaAppFactory.RemoveContainersAsync(instance);
        }
    }

    [Fact]
    public async Task AfterTheServerDroppedTheDisconnectedCircuitThePageResumesOnANewOneWithTheCurrentTasks()
    {
        await DockerEngine.EnsureAvailableAsync();
        var circuits = new CircuitCounter();
        await using var app = new RosettaAppFactory(services: s =>
        {
            // The default keeps a disconnected circuit 3 minutes; 1 s models a longer outage quickly.
            s.Configure<CircuitOptions>(o => o.DisconnectedCircuitRetentionPeriod = TimeSpan.FromSeconds(1));
            s.AddSingleton<CircuitHandler>(circuits);
        });
        try
        {
            await using var relay = new TcpRelay(app.BaseAddress);
            await using var context = await _browser.Browser.NewContextAsync(new() { BaseURL = relay.Address.ToString() });
            var page = await context.NewPageAsync();
            await LogInAsync(page, "admin", RosettaAppFactory.AdminPassword);
            var banner = page.Locator("[data-test=reconnect-banner]");
            var rows = page.Locator("[data-test=tasks] [data-test=task-name]");
            await Expect(rows).ToHaveCountAsync(0);
            await page.EvaluateAsync("() => window.rosettaTestMark = 'same page'");
            Assert.Equal(1, circuits.Opened);

            relay.Cut();
            await Expect(banner).ToBeVisibleAsync();
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (circuits.Closed == 0 && DateTime.UtcNow < deadline) await Task.Delay(100);
            Assert.True(circuits.Closed == 1, "the server did not drop the disconnected circuit");

            using var api = app.Client(await app.AdminTokenAsync());
            var id = (string)(await TaskApi.StartAsync(api, new { name = "started-meanwhile", software = "hello", computing = "local" }))["id"]!;
            relay.Restore();

            await Expect(banner).ToBeHiddenAsync(ReconnectBrowserTests.Reconnected);
            await Expect(rows).ToHaveTextAsync(["started-meanwhile"]);
            await WaitForCircuitAsync(page);
            Assert.Equal("same page", await page.EvaluateAsync<string>("() => window.rosettaTestMark"));
            Assert.Equal(2, circuits.Opened);
            await TaskApi.StopAndDeleteAsync(api, id);
        }
        finally
        {
            await RosettaAppFactory.RemoveContainersAsync(app.InstanceId);
        }
    }

    /// <summary>Counts the server's circuits, to know when it has dropped one and that a new one replaced it.</summary>
    private sealed class CircuitCounter : CircuitHandler
    {
        private int _opened, _closed;
        public int Opened => Volatile.Read(ref _opened);
        public int Closed => Volatile.Read(ref _closed);

        public override Task OnCircuitOpenedAsync(Circuit circuit, CancellationToken ct)
        {
            Interlocked.Increment(ref _opened);
            return Task.CompletedTask;
        }

        public override Task OnCircuitClosedAsync(Circuit circuit, CancellationToken ct)
        {
            Interlocked.Increment(ref _closed);
            return Task.CompletedTask;
        }
    }
}
