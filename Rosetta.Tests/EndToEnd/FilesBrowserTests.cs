using System.Text;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Microsoft.Playwright;
using Rosetta.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Rosetta.Tests.EndToEnd;

/// <summary>
/// The file manager in a real Chromium against the real app: files dropped onto the listing are
/// sent by the browser to the storage API and come back byte for byte as a download; previews show a text file's
/// text and load an image through the authorised preview endpoint.
/// </summary>
[Collection("platform")]
public sealed class FilesBrowserTests(PlatformFixture platform) : IAsyncLifetime
{
    private readonly BrowserFixture _browser = new();
    private RosettaAppFactory App => platform.App;

    public Task InitializeAsync() => _browser.InitializeAsync();
    public Task DisposeAsync() => _browser.DisposeAsync();

    private async Task<(IBrowserContext Context, IPage Page, string User)> OpenFilesAsync()
    {
        var username = "files" + Guid.NewGuid().ToString("N")[..6];
        using (var admin = App.Client(await App.AdminTokenAsync()))
            (await admin.PostAsJsonAsync("/api/v1/users", new { username, password = "password-files" })).EnsureSuccessStatusCode();
        var context = await _browser.Browser.NewContextAsync(new() { BaseURL = App.BaseAddress.ToString(), ViewportSize = new() { Width = 1366, Height = 900 }, AcceptDownloads = true });
        var page = await context.NewPageAsync();
        await DashboardBrowserTests.LogInAsync(page, username, "password-files");
        await page.GotoAsync("/files");
        await Expect(page.Locator("[data-test=entries]")).ToBeVisibleAsync();
        await DashboardBrowserTests.WaitForCircuitAsync(page);
        return (context, page, username);
    }

    private static ILocator Row(IPage page, string name) =>
        page.Locator("[data-test=entries] tr", new() { Has = page.Locator("[data-test=entry-name]", new() { HasText = name }) });

    [Fact]
    public async Task AFolderHasItsOwnAddress_AReloadKeepsIt_AndBackReturns()
    {
        var (context, page, user) = await OpenFilesAsync();
        await using var _ = context;
        // A whole page load (the reload, and Back to the document before it) is what a network change aborts: see
        // DashboardBrowserTests.ExpectAfterAnyNetworkChangeAsync. A failure says what the browser saw.
        var browserLog = new BrowserLog();
        browserLog.Watch(page, "user");
        using (var client = App.Client(await App.TokenAsync(user, "password-files")))
            await StorageApi.UploadAsync(client, "personal", "run1/result.txt", "42"u8.ToArray());
        await page.Locator("[data-test=refresh]").ClickAsync();
        await page.Locator("[data-test=entry-name]", new() { HasText = "run1" }).ClickAsync();
        await Expect(page.Locator("[data-test=entry-name]")).ToHaveTextAsync(["result.txt"]);
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/files\\?storage=personal&path=run1$"));

        await page.ReloadAsync();
        await DashboardBrowserTests.ExpectAfterAnyNetworkChangeAsync(page, "user", browserLog,
            () => Expect(page.Locator("[data-test=entry-name]")).ToHaveTextAsync(["result.txt"]));
        await DashboardBrowserTests.WaitForCircuitAsync(page);

        var beforeBack = browserLog.Count;
        await page.GoBackAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/files$"));
        try
        {
            await DashboardBrowserTests.ExpectAfterAnyNetworkChangeAsync(page, "user", browserLog,
                () => Expect(page.Locator("[data-test=entry-name]")).ToHaveTextAsync(["run1"]));
        }
        catch (Xunit.Sdk.XunitException) when (!browserLog.SawSince(beforeBack, "websocket open", "user"))
        {
            // Seen once in CI under load: the document Back loads (the one before the reload) never started Blazor at all,
            // not even its circuit's WebSocket, so nothing of the page ran. Loaded once more, the page must show the folder.
            browserLog.Add("[user] (reloading: the page Back loaded never started its circuit)");
            await page.ReloadAsync();
            await DashboardBrowserTests.ExpectAfterAnyNetworkChangeAsync(page, "user", browserLog,
                () => Expect(page.Locator("[data-test=entry-name]")).ToHaveTextAsync(["run1"]));
        }
    }

    [Fact]
    public async Task FilesDroppedOnTheListingAreUploadedThroughTheApiAndDownloadBackByteForByte()
    {
        var (context, page, _) = await OpenFilesAsync();
        await using var _ = context;
        var spectrum = RandomNumberGenerator.GetBytes(3 << 20);
        var notes = "first light\n"u8.ToArray();

        // A drag entering the listing lays the file input over it; the drop lands on the input.
        var input = page.Locator("[data-test=upload] input[type=file], input[type=file][data-test=upload]");
        await Expect(input).ToBeHiddenAsync();
        var files = await page.EvaluateHandleAsync("() => { const d = new DataTransfer(); d.items.add(new File(['x'], 'x.txt')); return d; }");
        await page.DispatchEventAsync("[data-test=drop-zone]", "dragenter", new { dataTransfer = files });
        await Expect(input).ToBeVisibleAsync();
        await Expect(page.Locator("[data-test=drop-hint]")).ToHaveTextAsync("Drop the files to upload them into this storage");
        var box = await input.BoundingBoxAsync();
        var listing = await page.Locator("[data-test=entries]").BoundingBoxAsync();
        Assert.True(box!.Width >= listing!.Width - 1 && box.Height >= listing.Height - 1, $"the drop target ({box.Width}×{box.Height}) does not cover the listing ({listing.Width}×{listing.Height})");
        // What the browser does with a drop on a file input: the drop event, then the files as the input's value.
        await input.DispatchEventAsync("drop", new { dataTransfer = files });
        await Expect(input).ToBeHiddenAsync();
        await Expect(page.Locator("[data-test=drop-hint]")).ToHaveCountAsync(0);
        await input.SetInputFilesAsync(new[]
        {
            new FilePayload { Name = "spectrum.bin", MimeType = "application/octet-stream", Buffer = spectrum },
            new FilePayload { Name = "notes.txt", MimeType = "text/plain", Buffer = notes },
        });

        await Expect(page.Locator("[data-test=upload-item][data-state=done]")).ToHaveCountAsync(2);
        await Expect(page.Locator("[data-test=entry-name]")).ToHaveTextAsync(["notes.txt", "spectrum.bin"]);
        await Expect(Row(page, "spectrum.bin")).ToContainTextAsync("3 MiB");
        await page.ScreenshotAsync(new() { Path = BrowserFixture.ScreenshotPath("files.png") });

        var download = await page.RunAndWaitForDownloadAsync(() => Row(page, "spectrum.bin").Locator("[data-test=download]").ClickAsync());
        Assert.Equal("spectrum.bin", download.SuggestedFilename);
        Assert.Equal(spectrum, await File.ReadAllBytesAsync((await download.PathAsync())!));
        download = await page.RunAndWaitForDownloadAsync(() => Row(page, "notes.txt").Locator("[data-test=download]").ClickAsync());
        Assert.Equal(notes, await File.ReadAllBytesAsync((await download.PathAsync())!));
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/files$")); // a download is no navigation

        // A name as long as a name may be wraps in its own cell: every row's actions stay on screen.
        var longName = new string('L', 240) + ".txt";
        await input.SetInputFilesAsync(new FilePayload { Name = longName, MimeType = "text/plain", Buffer = notes });
        await Expect(page.Locator("[data-test=upload-item][data-state=done]")).ToHaveCountAsync(1);
        await Expect(page.Locator("[data-test=entry-name]")).ToHaveCountAsync(3);
        foreach (var delete in await page.Locator("[data-test=entries] [data-test=delete]").AllAsync())
        {
            var button = await delete.BoundingBoxAsync();
            Assert.True(button!.X + button.Width <= 1366, $"a row's delete button sits at x={button.X}, beyond the 1366 px window");
        }
    }

    [Fact]
    public async Task APreviewShowsATextFilesTextAndLoadsAnImageThroughTheAuthorisedEndpoint()
    {
        var (context, page, user) = await OpenFilesAsync();
        await using var _ = context;
        using (var api = App.Client(await App.TokenAsync(user, "password-files")))
        {
            await StorageApi.UploadAsync(api, "personal", "run.log", "<b>step 1</b> done\nstep 2 done\n"u8.ToArray());
            await StorageApi.UploadAsync(api, "personal", "dot.png",
                Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="));
        }
        // The files arrived behind the page's back: open the storage again to list them.
        await page.Locator("[data-test=storage][data-storage=personal]").ClickAsync();
        await Expect(page.Locator("[data-test=entry-name]")).ToHaveTextAsync(["dot.png", "run.log"]);

        await Row(page, "run.log").Locator("[data-test=preview]").ClickAsync();
        await Expect(page.Locator("[data-test=preview-text]")).ToHaveTextAsync("<b>step 1</b> done\nstep 2 done\n");
        await Expect(page.Locator("[data-test=preview-dialog] b")).ToHaveCountAsync(0);
        await page.Locator("[data-test=preview-close]").ClickAsync();
        await Expect(page.Locator("[data-test=preview-dialog]")).ToHaveCountAsync(0);

        await Row(page, "dot.png").Locator("[data-test=preview]").ClickAsync();
        // Decoded by the browser: the request went through with the session cookie and came back as a PNG.
        await page.WaitForFunctionAsync("() => { const i = document.querySelector('img[data-test=preview-image]'); return i && i.complete && i.naturalWidth === 1; }");
    }
    [Fact]
    public async Task OnAPhoneTheListingIsCardsWithItsSortButtonsAboveThem()
    {
        var (context, page, user) = await OpenFilesAsync();
        await using var _ = context;
        using (var client = App.Client(await App.TokenAsync(user, "password-files")))
        {
            await StorageApi.UploadAsync(client, "personal", "a-small.txt", "1"u8.ToArray());
            await StorageApi.UploadAsync(client, "personal", "b-large.bin", new byte[5000]);
        }
        await page.Locator("[data-test=refresh]").ClickAsync();
        await Expect(page.Locator("[data-test=entry-name]")).ToHaveTextAsync(["a-small.txt", "b-large.bin"]);
        await Expect(page.Locator("[data-test=phone-sort]")).ToBeHiddenAsync(); // the table's own header sorts here

        await page.SetViewportSizeAsync(390, 844);
        await Expect(page.Locator("[data-test=phone-sort]")).ToBeVisibleAsync();
        await page.Locator("[data-test=phone-sort-by][data-sort=Size]").ClickAsync();
        await Expect(page.Locator("[data-test=entry-name]")).ToHaveTextAsync(["b-large.bin", "a-small.txt"]); // largest first
        await Expect(page.Locator("[data-test=phone-sort-by][data-sort=Size]")).ToHaveAttributeAsync("data-direction", "descending");
        await page.ScreenshotAsync(new() { Path = BrowserFixture.ScreenshotPath("files-phone.png") });
    }

    [Fact]
    public async Task ATextFileEditedInItsPreviewIsSavedWithItsLineEnds()
    {
        var (context, page, user) = await OpenFilesAsync();
        await using var _ = context;
        using var api = App.Client(await App.TokenAsync(user, "password-files"));
        // Near the editor's 64 KiB: the whole text goes to the server in one message when it changes.
        var lines = string.Concat(Enumerable.Range(0, 2000).Select(i => $"param{i:D4} = {i * 7 % 1000,-10}\r\n"));
        await StorageApi.UploadAsync(api, "personal", "job.cfg", Encoding.UTF8.GetBytes("a = 1\r\nb = 2\r\n" + lines));
        await page.Locator("[data-test=storage][data-storage=personal]").ClickAsync();
        await Expect(page.Locator("[data-test=entry-name]")).ToHaveTextAsync(["job.cfg"]);

        await Row(page, "job.cfg").Locator("[data-test=preview]").ClickAsync();
        await page.Locator("[data-test=preview-edit]").ClickAsync();
        var editor = page.Locator("textarea[data-test=edit-text]");
        await Expect(editor).ToHaveValueAsync("a = 1\nb = 2\n" + lines.Replace("\r\n", "\n")); // a text area shows (and gives back) \n line ends
        // Keys, as a person edits (Playwright's fill of the whole text is 4,000 line insertions: 10 s of Chromium alone).
        await editor.FocusAsync();
        await page.Keyboard.PressAsync("Control+Home");
        await page.Keyboard.PressAsync("ArrowDown");
        await page.Keyboard.PressAsync("End");
        await page.Keyboard.PressAsync("Backspace");
        await page.Keyboard.TypeAsync("3");
        await page.Keyboard.PressAsync("Enter");
        await page.Keyboard.TypeAsync("c = 4");
        await Expect(editor).ToHaveValueAsync("a = 1\nb = 3\nc = 4\n" + lines.Replace("\r\n", "\n"));
        await page.Locator("[data-test=edit-save]").ClickAsync(); // the text area's change (its whole text) arrives first
        await Expect(page.Locator("[data-test=preview-dialog]")).ToHaveCountAsync(0);
        await Expect(page.GetByText("Saved job.cfg")).ToBeVisibleAsync();
        Assert.Equal("a = 1\r\nb = 3\r\nc = 4\r\n" + lines, await api.GetStringAsync("/api/v1/storages/personal/download?path=job.cfg"));
    }
}
