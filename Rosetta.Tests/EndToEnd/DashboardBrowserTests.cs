using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Rosetta.App.Auth;
using Rosetta.Core.Domain;
using Rosetta.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Rosetta.Tests.EndToEnd;

/// <summary>
/// A person's path through the dashboard, in a real Chromium against the real app and engine:
/// log in, start hello with the wizard, watch it turn running without a reload, read its logs,
/// connect, stop. Screenshots of the main pages go to docs/screenshots/.
/// </summary>
[Collection("platform")]
public sealed class DashboardBrowserTests(PlatformFixture platform) : IAsyncLifetime
{
    private readonly BrowserFixture _browser = new();
    private RosettaAppFactory App => platform.App;

    public Task InitializeAsync() => _browser.InitializeAsync();
    public Task DisposeAsync() => _browser.DisposeAsync();

    [Fact]
    public async Task AUserStartsHelloWithTheWizardSeesItRunLiveReadsItsLogsConnectsAndStopsIt()
    {
        var username = "e2e" + Guid.NewGuid().ToString("N")[..6];
        using (var admin = App.Client(await App.AdminTokenAsync()))
            (await admin.PostAsJsonAsync("/api/v1/users", new { username, password = "password-e2e" })).EnsureSuccessStatusCode();

        await using var context = await _browser.Browser.NewContextAsync(new() { BaseURL = App.BaseAddress.ToString(), ViewportSize = new() { Width = 1366, Height = 900 } });
        var page = await context.NewPageAsync();

        await page.GotoAsync("/");
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/login"));
        await page.ScreenshotAsync(new() { Path = BrowserFixture.ScreenshotPath("login.png") });
        await page.FillAsync("#username", username);
        await page.FillAsync("#password", "password-e2e");
        await page.ClickAsync("button[type=submit]");
        await Expect(page.Locator("[data-test=new-task]")).ToBeVisibleAsync();
        await WaitForCircuitAsync(page);

        // The wizard: software → computing → options → confirm. Clicks wait for the circuit.
        await page.ClickAsync("[data-test=new-task]");
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/tasks/new$"));
        await Expect(page.Locator("[data-test=software-hello]")).ToBeVisibleAsync();
        await WaitForCircuitAsync(page);
        await page.ClickAsync("[data-test=software-hello]");
        await Expect(page.Locator("[data-test=computing-local]")).ToBeVisibleAsync();
        await page.ScreenshotAsync(new() { Path = BrowserFixture.ScreenshotPath("new-task.png") });
        await page.ClickAsync("[data-test=computing-local]");
        await page.Locator("input[data-test=name], [data-test=name] input").FillAsync("e2e hello");
        var memory = page.Locator("input[data-test=memory], [data-test=memory] input");
        await memory.FillAsync("lots");
        await Expect(page.GetByText("is not a memory size")).ToBeVisibleAsync();
        await memory.FillAsync("128M");
        await Expect(page.GetByText("is not a memory size")).ToHaveCountAsync(0);
        // A number field says what is wrong with each wrong value typed right after another (each message
        // differs from the one before, so the wait sees the new one, not the old one still on screen).
        var cpus = page.Locator("input[data-test=cpus], [data-test=cpus] input");
        foreach (var (typed, message) in new[] { ("64", "asks for 64 cores"), ("-1", "must be at least"), ("99", "asks for 99 cores"), ("98", "asks for 98 cores"), ("-5", "must be at least") })
        {
            await cpus.FillAsync(typed);
            await Expect(page.GetByText(message)).ToBeVisibleAsync();
        }
        // The message stays when the value changes to another with the same message, and when the field loses
        // the focus (MudBlazor's fields drop their page's error when they validate themselves). Typing into
        // Memory moves the focus; its message comes after the page has handled CPUs' change and blur.
        await cpus.FillAsync("-6");
        await memory.FillAsync("much");
        await Expect(page.GetByText("is not a memory size")).ToBeVisibleAsync();
        await Expect(page.GetByText("must be at least")).ToBeVisibleAsync();
        await memory.FillAsync("128M");
        await Expect(page.GetByText("is not a memory size")).ToHaveCountAsync(0);
        await Expect(page.GetByText("must be at least")).ToBeVisibleAsync();
        await cpus.FillAsync("1");
        await Expect(page.GetByText("cores but")).ToHaveCountAsync(0);
        await Expect(page.GetByText("must be at least")).ToHaveCountAsync(0);
        await page.ClickAsync("[data-test=next]");
        await Expect(page.Locator("[data-test=summary]")).ToContainTextAsync("e2e hello");
        await page.DblClickAsync("[data-test=start]"); // a double click starts one task

        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/tasks/[0-9a-f]{16}$"));
        var taskId = page.Url[^16..];
        await Expect(page.Locator("[data-test=task-title] ~ .status-chip, .status-chip").First).ToHaveAttributeAsync("data-status", "running");
        await Expect(page.Locator("[data-test=log-view]")).ToContainTextAsync("hello: listening on port 8080");
        await Expect(page.Locator("[data-test=digest]")).ToContainTextAsync("sha256:");
        await page.ScreenshotAsync(new() { Path = BrowserFixture.ScreenshotPath("task-detail.png") });

        // Connect: the interface through the proxy, with the browser's own session.
        var popup = await page.RunAndWaitForPopupAsync(() => page.ClickAsync("[data-test=connect]"));
        await Expect(popup.Locator("body")).ToContainTextAsync("Hello from Rosetta");
        await popup.CloseAsync();

        // The tasks page lists it live, with the others of this user.
        await page.ClickAsync("a[href='']");
        await Expect(page.Locator("[data-test=tasks] .status-chip[data-status=running]")).ToHaveCountAsync(1);
        await page.ScreenshotAsync(new() { Path = BrowserFixture.ScreenshotPath("tasks.png") });

        using var api = App.Client(await App.TokenAsync(username, "password-e2e"));
        var tasks = await api.GetFromJsonAsync<JsonArray>("/api/v1/tasks");
        Assert.Single(tasks!);

        // Stop from the list; the chip turns stopped without a reload.
        await page.Locator("[data-test=tasks] [data-test=stop]").First.ClickAsync();
        await Expect(page.GetByRole(AriaRole.Dialog)).ToContainTextAsync("save open work first");
        // Escape closes the question, as Cancel does (once the dialog has the focus, as it takes it when it opens).
        await Expect(page.GetByRole(AriaRole.Dialog).Locator(":focus")).ToHaveCountAsync(1);
        await page.Keyboard.PressAsync("Escape");
        await Expect(page.GetByRole(AriaRole.Dialog)).ToHaveCountAsync(0);
        await Expect(page.Locator("[data-test=tasks] .status-chip").First).ToHaveAttributeAsync("data-status", "running");
        await page.Locator("[data-test=tasks] [data-test=stop]").First.ClickAsync();
        await Expect(page.GetByRole(AriaRole.Dialog)).ToContainTextAsync("save open work first");
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Stop" }).ClickAsync();
        await Expect(page.Locator("[data-test=tasks] .status-chip").First).ToHaveAttributeAsync("data-status", "stopped");

        // A task deleted elsewhere (another tab, the API) disappears here.
        Assert.Equal(System.Net.HttpStatusCode.NoContent, (await api.DeleteAsync($"/api/v1/tasks/{taskId}")).StatusCode);
        await Expect(page.Locator("[data-test=tasks] [data-test=task-name]")).ToHaveCountAsync(0);

        // The other pages, for the README.
        foreach (var (path, file, marker) in new[] { ("software", "software.png", "[data-test=card-hello]"), ("computing", "computing.png", "[data-test=computing]"), ("account", "account.png", "[data-test=tokens]") })
        {
            await page.GotoAsync(path);
            await Expect(page.Locator(marker)).ToBeVisibleAsync();
            await page.ScreenshotAsync(new() { Path = BrowserFixture.ScreenshotPath(file) });
        }

        // Copying the public key (the account page is the last one open) in a browser that refuses the
        // clipboard API, as Chromium does with "Write permission denied" (a page served over plain HTTP
        // beyond localhost has none at all): the page falls back to the copy command, and the circuit,
        // which an unhandled refusal used to end, answers with its snackbar.
        await page.EvaluateAsync("""
            () => {
                navigator.clipboard.writeText = () => Promise.reject(new DOMException('Write permission denied.', 'NotAllowedError'));
                document.addEventListener('copy', e => window.copiedText = e.target.value);
            }
            """);
        await page.Locator("[data-test=copy-key]").ClickAsync();
        // The page's icon is there (a missing one is a failed request on every page).
        var icon = await page.EvaluateAsync<string>("() => document.querySelector('link[rel=icon]').href");
        Assert.Equal(200, (await page.APIRequest.GetAsync(icon)).Status);
        await Expect(page.Locator(".mud-snackbar")).ToContainTextAsync("Copied");
        Assert.Equal(await page.Locator("[data-test=public-key]").InnerTextAsync(), await page.EvaluateAsync<string>("() => window.copiedText"));
        await Expect(page.Locator("#blazor-error-ui")).ToBeHiddenAsync();

        // Log out with the button (its form carries the antiforgery token the endpoint checks).
        await page.GetByRole(AriaRole.Button, new() { Name = "Log out" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/login"));
        await page.GotoAsync("/account");
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/login"));
    }

    /// <summary>A new user (password <c>password-e2e</c>), signed in on a browser context of their own.</summary>
    private async Task<(string Username, IBrowserContext Context, IPage Page)> NewUserSignedInAsync()
    {
        var username = "e2e" + Guid.NewGuid().ToString("N")[..6];
        using (var admin = App.Client(await App.AdminTokenAsync()))
            (await admin.PostAsJsonAsync("/api/v1/users", new { username, password = "password-e2e" })).EnsureSuccessStatusCode();
        var context = await _browser.Browser.NewContextAsync(new() { BaseURL = App.BaseAddress.ToString() });
        var page = await context.NewPageAsync();
        await LogInAsync(page, username, "password-e2e");
        return (username, context, page);
    }

    [Fact]
    public async Task LoggingOutInOneTabSignsOutTheSessionsOtherOpenTabs()
    {
        var (username, context, page) = await NewUserSignedInAsync();
        await using var _ = context;
        var other = await context.NewPageAsync();
        await other.GotoAsync("/account");
        await WaitForCircuitAsync(other);
        await Expect(other.GetByRole(AriaRole.Button, new() { Name = "Log out" })).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Log out" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/login"));
        // No reload: the other tab's live circuit ends with the session (it would otherwise act for the user until closed).
        await Expect(other).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/login"));
    }

    /// <summary>
    /// In path mode a task's page shares the dashboard's origin, and its script can plant a session cookie
    /// of its own for a longer path. Pages there were served signed out, and stayed so after signing in
    /// again, until the browser's cookies were cleared.
    /// </summary>
    [Fact]
    public async Task ASessionCookiePlantedByATasksPageIsClearedSoSigningInAgainWorks()
    {
        var (username, context, page) = await NewUserSignedInAsync();
        await using var _ = context;
        // What a task page's script could do (same origin): the real cookie is HttpOnly, so it cannot replace it.
        await page.EvaluateAsync("() => { document.cookie = 'rosetta.auth=planted; path=/tasks'; }");
        Assert.Equal(2, (await context.CookiesAsync()).Count(c => c.Name == "rosetta.auth"));

        await page.GotoAsync("/tasks/new");
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/login"));
        Assert.Single(await context.CookiesAsync(), c => c.Name == "rosetta.auth"); // the planted one is gone
        await LogInAsync(page, username, "password-e2e");
        await page.GotoAsync("/tasks/new");
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/tasks/new"));
        await Expect(page.Locator("[data-test=software-hello]")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task AnOpenDashboardOfAnAccountThatIsDisabledFallsBackToTheLoginPage()
    {
        var (username, context, page) = await NewUserSignedInAsync();
        await using var _ = context;

        var administration = App.Services.GetRequiredService<UserAdministration>();
        var userId = (await administration.ListAsync()).Single(u => u.Username == username).Id;
        await administration.SetDisabledAsync(new Caller("the admin", IsAdmin: true), userId, disabled: true);
        // No reload: the live circuit itself lets go of the account.
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/login"));
        await page.FillAsync("#username", username);
        await page.FillAsync("#password", "password-e2e");
        await page.ClickAsync("button[type=submit]");
        await Expect(page.Locator(".auth-error")).ToContainTextAsync("Wrong username or password");
    }

    [Fact]
    public async Task ATasksLongStatusDetailLeavesItsRowsActionsOnScreen()
    {
        using var api = App.Client(await App.AdminTokenAsync());
        var id = (string)(await TaskApi.StartAsync(api, new { name = "remote work", software = "hello", computing = "local" }))["id"]!;
        try
        {
            await TaskApi.WaitForStatusAsync(api, id, "running");
            // As long as a host-key refusal, which the monitor puts there for a task on a reinstalled host.
            var detail = string.Concat(Enumerable.Repeat("The host key of 127.0.0.1:2322 is not the one pinned: the platform pinned SHA256:Zt2H… ", 5));
            await App.Services.GetRequiredService<Rosetta.Core.Monitoring.TaskMonitor>().UpdateAsync(id, t => { t.StatusDetail = detail; return true; });
            await using var context = await _browser.Browser.NewContextAsync(new() { BaseURL = App.BaseAddress.ToString(), ViewportSize = new() { Width = 1400, Height = 900 } });
            var page = await context.NewPageAsync();
            await LogInAsync(page, "admin", RosettaAppFactory.AdminPassword);
            var row = page.Locator("tr.task-row").Filter(new() { Has = page.Locator($"a[href='tasks/{id}']") });
            await Expect(row.Locator("[data-test=row-detail]")).ToHaveAttributeAsync("title", detail); // all of it on hover
            var delete = await row.Locator("[data-test=delete]").BoundingBoxAsync();
            Assert.True(delete!.X + delete.Width <= 1400, $"Delete ends at {delete.X + delete.Width} px, beyond the 1400 px window");
            var shown = await row.Locator("[data-test=row-detail]").BoundingBoxAsync();
            Assert.True(shown!.Width <= 360 && shown.Height < 70, $"the detail takes {shown.Width}×{shown.Height} px"); // three short lines
        }
        finally
        {
            await TaskApi.StopAndDeleteAsync(api, id);
        }
    }

    [Fact]
    public async Task TheTasksPageWorksOnAPhoneSizedScreen()
    {
        await using var context = await _browser.Browser.NewContextAsync(new() { BaseURL = App.BaseAddress.ToString(), ViewportSize = new() { Width = 390, Height = 844 }, IsMobile = true });
        var page = await context.NewPageAsync();
        await LogInAsync(page, "admin", RosettaAppFactory.AdminPassword);
        // Nothing overflows the screen horizontally.
        var overflow = await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth > window.innerWidth + 1");
        Assert.False(overflow, "the tasks page is wider than a phone screen");
        await page.ScreenshotAsync(new() { Path = BrowserFixture.ScreenshotPath("tasks-phone.png") });
        await page.GotoAsync("/admin");
        await Expect(page.Locator("[data-test=users]")).ToBeVisibleAsync();
        await page.ScreenshotAsync(new() { Path = BrowserFixture.ScreenshotPath("admin-phone.png") });
    }

    [Fact]
    public async Task ADesktopOpensInNoVncThroughTheProxyWithoutAPasswordPrompt()
    {
        using var api = App.Client(await App.AdminTokenAsync());
        var id = (string)(await TaskApi.StartAsync(api, new { name = "desktop", software = "desktop", computing = "local" }))["id"]!;
        try
        {
            await TaskApi.WaitForStatusAsync(api, id, "running", seconds: 90);
            await using var context = await _browser.Browser.NewContextAsync(new() { BaseURL = App.BaseAddress.ToString(), ViewportSize = new() { Width = 1280, Height = 800 } });
            var page = await context.NewPageAsync();
            var browserLog = new BrowserLog();
            browserLog.Watch(page, "owner");
            await LogInAsync(page, "admin", RosettaAppFactory.AdminPassword);

            // Embedded in the dashboard, with its chrome around it.
            await page.GotoAsync($"/tasks/{id}/desktop");
            var desktop = page.FrameLocator("[data-test=desktop-frame]");
            // noVNC marks the document once the RFB session is up; no credentials dialog on the way.
            await ExpectConnectedAsync(page, "owner", desktop.Locator("html"), browserLog);
            await Expect(desktop.Locator("#noVNC_credentials_dlg.noVNC_open")).ToHaveCountAsync(0);
            await Expect(page.Locator("[data-test=fullscreen]")).ToBeVisibleAsync();
            await Expect(desktop.Locator("#noVNC_container canvas")).ToBeVisibleAsync();
            await page.ScreenshotAsync(new() { Path = BrowserFixture.ScreenshotPath("desktop.png") });

            // In its own tab as well.
            await page.GotoAsync($"/t/{id}/");
            await ExpectConnectedAsync(page, "owner", page.Locator("html"), browserLog);

            // The owner makes a view-only link on the task's page.
            await page.GotoAsync($"/tasks/{id}");
            await WaitForCircuitAsync(page);
            await page.Locator("[data-test=share-view-only] input, input[data-test=share-view-only]").CheckAsync();
            await page.Locator("[data-test=share-name] input, input[data-test=share-name]").FillAsync("seminar audience");
            await page.ClickAsync("[data-test=share-create]");
            await Expect(page.Locator("[data-test=share-view-only-chip]")).ToBeVisibleAsync();
            var link = (await page.Locator("[data-test=share-url] code").TextContentAsync())!.Trim();
            await Expect(page.Locator("[data-test=share-connections]")).ToHaveCountAsync(0);

            // A view-only guest (no account, a smaller window) gets noVNC told to be view-only.
            await using var guestContext = await _browser.Browser.NewContextAsync(new() { BaseURL = App.BaseAddress.ToString(), ViewportSize = new() { Width = 900, Height = 600 } });
            var guest = await guestContext.NewPageAsync();
            browserLog.Watch(guest, "guest");
            var tampered = false;
            guest.WebSocket += (_, ws) =>
            {
                if (tampered) ws.Close += (_, _) => browserLog.Add($"tampered guest's websocket closed {ws.Url}");
            };
            await guest.GotoAsync(link);
            await ExpectConnectedAsync(guest, "guest", guest.Locator("html"), browserLog);
            Assert.Contains("view_only=1", guest.Url);
            // The owner's page, open all along, shows someone is watching.
            await Expect(page.Locator("[data-test=share-connections]")).ToHaveTextAsync("1 connection open");
            await page.ScreenshotAsync(new() { Path = BrowserFixture.ScreenshotPath("share-view-only.png") });
            // A guest who takes view_only out of the address gets a noVNC that sends everything (keys,
            // clicks, a remote resize to its window): the relay drops what real noVNC sends of those and the
            // session holds (that they do not reach the desktop is ViewOnlyShareTests' part, with a barrier).
            tampered = true;
            await guest.GotoAsync($"/t/{id}/vnc.html?autoconnect=1&resize=remote&path=t/{id}/websockify");
            await ExpectConnectedAsync(guest, "guest", guest.Locator("html"), browserLog);
            var canvas = guest.Locator("#noVNC_container canvas");
            await canvas.ClickAsync();
            await guest.Keyboard.TypeAsync("echo view-only");
            await guest.Keyboard.PressAsync("Enter");
            await guest.SetViewportSizeAsync(1400, 900);
            // The guest's socket outlived all that: the owner's next resize still reaches its picture (whose
            // canvas, in a window larger than the desktop, is as wide as the desktop).
            await page.GotoAsync($"/t/{id}/");
            await ExpectConnectedAsync(page, "owner", page.Locator("html"), browserLog);
            await page.SetViewportSizeAsync(1000, 700); // noVNC asks for its whole window
            var size = (Width: 0, Height: 0);
            for (var deadline = DateTime.UtcNow.AddSeconds(30); size != (1000, 700) && DateTime.UtcNow < deadline; await Task.Delay(200))
                size = await VncThroughProxy.HandshakeAsync(App, await App.AdminTokenAsync(), id);
            Assert.Equal((1000, 700), size);
            await Expect(canvas).ToHaveAttributeAsync("width", "1000");
            Assert.False(browserLog.Saw("tampered guest's websocket closed"), "the view-only guest's WebSocket was closed");

            // The owner revokes the link: the guest's desktop, left open, does not reconnect in vain but says why.
            await page.GotoAsync($"/tasks/{id}");
            await WaitForCircuitAsync(page);
            await page.ClickAsync("[data-test=share-revoke]");
            await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Revoke" }).ClickAsync();
            await Expect(page.Locator("[data-test=share-revoke]")).ToHaveCountAsync(0);
            await Expect(guest.Locator("[data-test=login-notice]")).ToHaveTextAsync(Rosetta.App.Auth.LoginNotices.ShareLinkEndedText);
            Assert.True(browserLog.Saw("tampered guest's websocket closed"), "the revoked guest's WebSocket stayed open");
        }
        finally
        {
            await TaskApi.StopAndDeleteAsync(api, id);
        }
    }

    /// <summary>
    /// The notebook UI through the proxy in a real browser, with only the dashboard's session: the kernel
    /// starts, a cell runs over the kernel's WebSocket, a plot and a widget are drawn, and the page never
    /// holds Jupyter's token.
    /// </summary>
    [Fact]
    public async Task ANotebookRunsACellInTheBrowserThroughTheProxyWithoutItsToken()
    {
        using var api = App.Client(await App.AdminTokenAsync());
        var id = (string)(await TaskApi.StartAsync(api, new { name = "notebook", software = "jupyter", computing = "local" }))["id"]!;
        try
        {
            await TaskApi.WaitForStatusAsync(api, id, "running", seconds: 90);
            var created = await api.PostAsJsonAsync($"/t/{id}/api/contents", new { type = "notebook" });
            created.EnsureSuccessStatusCode();
            var notebook = (string)(await created.Content.ReadFromJsonAsync<JsonObject>())!["path"]!;

            await using var context = await _browser.Browser.NewContextAsync(new() { BaseURL = App.BaseAddress.ToString(), ViewportSize = new() { Width = 1280, Height = 800 } });
            var page = await context.NewPageAsync();
            var browserLog = new BrowserLog();
            browserLog.Watch(page, "owner");
            await LogInAsync(page, "admin", RosettaAppFactory.AdminPassword);
            await page.GotoAsync($"/t/{id}/notebooks/{Uri.EscapeDataString(notebook)}");
            await ExpectAfterAnyNetworkChangeAsync(page, "owner", browserLog,
                () => Expect(page.Locator("#kernel_indicator_icon.kernel_idle_icon")).ToBeVisibleAsync(new() { Timeout = 60_000 }));
            await page.Locator(".cell .CodeMirror").First.ClickAsync();
            await page.Keyboard.TypeAsync("print(6 * 7)");
            await page.Keyboard.PressAsync("Shift+Enter");
            await Expect(page.Locator(".output_subarea").First).ToContainTextAsync("42", new() { Timeout = 30_000 });

            // A plot and a widget in the next cell: the widgets' notebook extension draws the slider in the page.
            await page.Keyboard.TypeAsync("%matplotlib inline");
            await page.Keyboard.PressAsync("Enter");
            await page.Keyboard.TypeAsync("import ipywidgets as w, matplotlib.pyplot as plt; plt.plot([1, 4, 9]); plt.show(); display(w.IntSlider(value=7))");
            await page.Keyboard.PressAsync("Shift+Enter");
            await Expect(page.Locator(".output_png img")).ToBeVisibleAsync(new() { Timeout = 30_000 });
            await Expect(page.Locator(".widget-hslider")).ToBeVisibleAsync(new() { Timeout = 30_000 });
            await Expect(page.Locator(".widget-hslider .widget-readout")).ToContainTextAsync("7");

            var monitor = App.Services.GetRequiredService<Rosetta.Core.Monitoring.TaskMonitor>();
            Assert.DoesNotContain(monitor.SecretOf(monitor.Get(id)!)!, await page.ContentAsync());

            // A share-link guest works in the notebook until the owner revokes the link: then the page, left
            // open, does not reconnect to its kernel in vain but says why.
            var shared = await api.PostAsJsonAsync($"/api/v1/tasks/{id}/shares", new { name = "colleague" });
            shared.EnsureSuccessStatusCode();
            var link = (await shared.Content.ReadFromJsonAsync<JsonObject>())!;
            await using var guestContext = await _browser.Browser.NewContextAsync(new() { BaseURL = App.BaseAddress.ToString() });
            var guest = await guestContext.NewPageAsync();
            browserLog.Watch(guest, "guest");
            await guest.GotoAsync((string)link["url"]!);
            await guest.GotoAsync($"/t/{id}/notebooks/{Uri.EscapeDataString(notebook)}");
            await ExpectAfterAnyNetworkChangeAsync(guest, "guest", browserLog,
                () => Expect(guest.Locator("#kernel_indicator_icon.kernel_idle_icon")).ToBeVisibleAsync(new() { Timeout = 60_000 }));
            (await api.DeleteAsync($"/api/v1/tasks/{id}/shares/{link["id"]}")).EnsureSuccessStatusCode();
            await Expect(guest.Locator("[data-test=login-notice]")).ToHaveTextAsync(Rosetta.App.Auth.LoginNotices.ShareLinkEndedText);
        }
        finally
        {
            await TaskApi.StopAndDeleteAsync(api, id);
        }
    }

    /// <summary>
    /// Waits for noVNC to mark its document connected; if it does not, the failure says what noVNC
    /// showed and what the browser saw on the way (console, failed requests, WebSockets). Chromium aborts the loads in flight when the host's network interfaces
    /// change (ERR_NETWORK_CHANGED), and Docker adds one for every container the tests running alongside
    /// start: after such an abort the page is loaded once more (a user's browser is not on the engine's host).
    /// </summary>
    private static async Task ExpectConnectedAsync(IPage page, string who, ILocator html, BrowserLog browserLog)
    {
        var connected = new System.Text.RegularExpressions.Regex(@"\bnoVNC_connected\b");
        try
        {
            await ExpectAfterAnyNetworkChangeAsync(page, who, browserLog, () => Expect(html).ToHaveClassAsync(connected, new() { Timeout = 30_000 }), explained: false);
        }
        catch (PlaywrightException e)
        {
            var status = await html.Locator("#noVNC_status").TextContentAsync(new() { Timeout = 2_000 }).ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : "(no status)");
            throw new Xunit.Sdk.XunitException($"noVNC did not connect on the {who}'s page. Its status line: '{status}'. The browser saw:\n{browserLog}\n{e.Message}");
        }
    }

    /// <summary>
    /// An expectation about a page that loads an interface, tried once more after a reload when the page's loads were
    /// aborted by a network change (see <see cref="ExpectConnectedAsync"/>); when it still fails, the failure says what
    /// the browser saw (unless <paramref name="explained"/> is false: the caller says more itself).
    /// </summary>
    internal static async Task ExpectAfterAnyNetworkChangeAsync(IPage page, string who, BrowserLog browserLog, Func<Task> expectation, bool explained = true)
    {
        try
        {
            try
            {
                await expectation();
            }
            catch (PlaywrightException) when (browserLog.Saw("ERR_NETWORK_CHANGED", who))
            {
                browserLog.Add($"[{who}] (reloading after ERR_NETWORK_CHANGED)");
                await page.ReloadAsync();
                await expectation();
            }
        }
        catch (PlaywrightException e) when (explained)
        {
            throw new Xunit.Sdk.XunitException($"On the {who}'s page: {e.Message}\nThe browser saw:\n{browserLog}");
        }
    }

    internal static async Task LogInAsync(IPage page, string username, string password)
    {
        await page.GotoAsync("/login");
        await page.FillAsync("#username", username);
        await page.FillAsync("#password", password);
        await page.ClickAsync("button[type=submit]");
        await Expect(page.Locator("[data-test=new-task]")).ToBeVisibleAsync();
        await WaitForCircuitAsync(page);
    }

    /// <summary>
    /// Waits until the page is live on its circuit: a click on the prerendered page would be lost, and
    /// the interactive render replaces the prerendered elements under the mouse.
    /// </summary>
    internal static Task WaitForCircuitAsync(IPage page) =>
        Expect(page.Locator("[data-test=circuit][data-interactive=true]")).ToHaveCountAsync(1);
}
