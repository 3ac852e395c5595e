using Bunit;
using Bunit.TestDoubles;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MudBlazor;
using Rosetta.App.Components.Pages;
using Rosetta.Core.Domain;
using Rosetta.Core.Persistence;
using Rosetta.Core.Storages;

namespace Rosetta.Tests.Components;

/// <summary>The Files page over the real storage service and a real folder: browse, create, rename, delete with confirmation, upload, read-only.</summary>
public sealed class FilesPageTests
{
    /// <summary>Alice's personal folder with data/a.txt and notes.txt.</summary>
    internal static string PersonalFolder(DashboardTestContext ctx)
    {
        var folder = Path.Combine(ctx.Services.GetRequiredService<IOptions<StorageOptions>>().Value.Root, "users", "alice");
        Directory.CreateDirectory(Path.Combine(folder, "data"));
        File.WriteAllText(Path.Combine(folder, "data", "a.txt"), "a");
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "notes");
        return folder;
    }

    /// <summary>The preview button on the row of a file.</summary>
    private static AngleSharp.Dom.IElement PreviewButton(IRenderedComponent<Files> page, string name) =>
        page.FindAll("tr").Single(row => row.QuerySelector("[data-test=entry-name]")?.TextContent.Trim() == name).QuerySelector("[data-test=preview]")!;

    internal static List<string> Names(IRenderedComponent<Files> page) =>
        page.FindAll("[data-test=entry-name]").Select(e => e.TextContent.Trim()).ToList();

    [Fact]
    public async Task TheAddressNamesTheFolderShownAndOpensIt()
    {
        await using var ctx = new DashboardTestContext();
        PersonalFolder(ctx);
        var navigation = ctx.Services.GetRequiredService<BunitNavigationManager>();
        navigation.NavigateTo("/files?storage=personal&path=data");
        var page = ctx.Render<Files>();
        page.WaitForAssertion(() => Assert.Equal(["a.txt"], Names(page)));
        Assert.Equal(["Personal", "data"], page.FindAll("[data-test=crumb]").Select(c => c.TextContent.Trim()));

        // Moving writes the folder into the address (a new history entry, so Back returns).
        await page.InvokeAsync(() => page.FindAll("[data-test=crumb]")[0].Click());
        page.WaitForAssertion(() => Assert.Equal(["data", "notes.txt"], Names(page)));
        Assert.EndsWith("/files?storage=personal", navigation.Uri);
        await page.InvokeAsync(() => page.Find("[data-test=entry-name]").Click());
        page.WaitForAssertion(() => Assert.Equal(["a.txt"], Names(page)));
        Assert.EndsWith("/files?storage=personal&path=data", navigation.Uri);
        // Listing the same folder again is no move.
        var moves = navigation.History.Count;
        await page.InvokeAsync(() => page.Find("[data-test=refresh]").Click());
        Assert.Equal(moves, navigation.History.Count);

        // Back (the address changes under the page) shows the folder it names.
        await page.InvokeAsync(() => navigation.NavigateTo("/files?storage=personal"));
        page.WaitForAssertion(() => Assert.Equal(["data", "notes.txt"], Names(page)));
        await page.InvokeAsync(() => navigation.NavigateTo("/files?storage=personal&path=data"));
        page.WaitForAssertion(() => Assert.Equal(["a.txt"], Names(page)));
        await page.InvokeAsync(() => navigation.NavigateTo("/files"));
        page.WaitForAssertion(() => Assert.Equal(["data", "notes.txt"], Names(page)));
    }

    /// <summary>Holds the first storage lookup after <see cref="Arm"/> until <see cref="Release"/>.</summary>
    private sealed class HeldStorageLookup : Microsoft.EntityFrameworkCore.Diagnostics.DbCommandInterceptor
    {
        private readonly TaskCompletionSource _holding = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _armed;

        public Task Holding => _holding.Task;
        public void Arm() => Volatile.Write(ref _armed, 1);
        public void Release() => _released.TrySetResult();

        public override async ValueTask<Microsoft.EntityFrameworkCore.Diagnostics.InterceptionResult<System.Data.Common.DbDataReader>> ReaderExecutingAsync(
            System.Data.Common.DbCommand command, Microsoft.EntityFrameworkCore.Diagnostics.CommandEventData eventData,
            Microsoft.EntityFrameworkCore.Diagnostics.InterceptionResult<System.Data.Common.DbDataReader> result, CancellationToken ct)
        {
            if (command.CommandText.Contains("FROM \"Storages\"", StringComparison.Ordinal) && Interlocked.Exchange(ref _armed, 0) == 1)
            {
                _holding.TrySetResult();
                await _released.Task.WaitAsync(TimeSpan.FromSeconds(30), ct);
            }
            return result;
        }
    }

    [Fact]
    public async Task BackPressedTwiceShowsWhereTheSecondLands_EvenWhenTheFirstIsSlower()
    {
        var lookup = new HeldStorageLookup();
        await using var ctx = new DashboardTestContext(databaseInterceptor: lookup);
        PersonalFolder(ctx);
        var navigation = ctx.Services.GetRequiredService<BunitNavigationManager>();
        navigation.NavigateTo("/files?storage=personal");
        var page = ctx.Render<Files>();
        page.WaitForAssertion(() => Assert.Equal(["data", "notes.txt"], Names(page)));

        lookup.Arm();
        await page.InvokeAsync(() => navigation.NavigateTo("/files?storage=personal&path=data"));
        await lookup.Holding; // the first Back waits for its storage
        await page.InvokeAsync(() => navigation.NavigateTo("/files?storage=personal"));
        page.WaitForAssertion(() => Assert.Equal(["data", "notes.txt"], Names(page)));
        var renders = page.RenderCount;
        lookup.Release();
        page.WaitForState(() => page.RenderCount > renders); // the first Back's parameters have been handled
        Assert.Equal(["data", "notes.txt"], Names(page));
        Assert.EndsWith("/files?storage=personal", navigation.Uri);
    }

    [Fact]
    public async Task AfterAnAddressThatNamedNothingAnyMoveWritesTheAddress()
    {
        await using var ctx = new DashboardTestContext();
        PersonalFolder(ctx);
        var navigation = ctx.Services.GetRequiredService<BunitNavigationManager>();
        navigation.NavigateTo("/files?storage=personal&path=missing");
        var page = ctx.Render<Files>();
        page.WaitForAssertion(() => Assert.Equal(["data", "notes.txt"], Names(page)));
        await page.InvokeAsync(() => page.FindAll("[data-test=crumb]")[0].Click()); // the root, shown already
        Assert.EndsWith("/files?storage=personal", navigation.Uri);
    }

    [Theory]
    [InlineData("/files?storage=personal&path=missing", "'missing'")]
    [InlineData("/files?storage=personal&path=..%2Fbob", "'..'")]
    [InlineData("/files?storage=someone-elses", "The address names a storage you cannot browse; this is Personal.")]
    public async Task AnAddressNamingNothingToBrowseShowsARootAndSaysWhy(string address, string said)
    {
        await using var ctx = new DashboardTestContext();
        PersonalFolder(ctx);
        ctx.Services.GetRequiredService<NavigationManager>().NavigateTo(address);
        var page = ctx.Render<Files>();
        page.WaitForAssertion(() => Assert.Equal(["data", "notes.txt"], Names(page)));
        Assert.Contains(said, page.Find("[data-test=files-error]").TextContent);
    }

    /// <summary>
    /// A bare /files opens the user's personal storage, not the first by name: that may be an sftp storage
    /// (an SSH connection on every visit, an error while its host is down). Here the sftp storage's
    /// resource is gone, so opening it would fail.
    /// </summary>
    [Theory]
    [InlineData(true, "personal")]
    [InlineData(false, "shared")] // no personal storage: one on the platform host rather than the sftp one
    public async Task ABareAddressOpensThePersonalStorageElseOneOnThePlatformHost(bool personal, string opened)
    {
        await using var ctx = new DashboardTestContext();
        PersonalFolder(ctx);
        var archive = Path.Combine(Path.GetTempPath(), "rosetta-bunit-ro", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(archive);
        await using (var db = await ctx.Services.GetRequiredService<IDbContextFactory<RosettaDbContext>>().CreateDbContextAsync())
        {
            db.Storages.Add(new Storage { Id = "demo-home", Name = "Demo home", Kind = StorageKind.Sftp, ComputingId = "gone", BasePath = "/home/$SSH_USER", BindPath = "/storages/demo", OwnerId = DashboardTestContext.UserId });
            if (personal) db.Storages.Add(new Storage { Id = "archive", Name = "Archive", ComputingId = "local", BasePath = archive, BindPath = "/storages/archive" });
            else db.Storages.Remove(await db.Storages.SingleAsync(x => x.Id == "personal"));
            await db.SaveChangesAsync();
        }
        var navigation = ctx.Services.GetRequiredService<NavigationManager>();
        navigation.NavigateTo("/files");
        var page = ctx.Render<Files>();
        page.WaitForAssertion(() => Assert.Equal(opened, page.FindAll("[data-test=storage]").Single(c => c.ClassList.Contains("mud-chip-color-primary")).GetAttribute("data-storage")));
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-test=entries]")));
        Assert.Empty(page.FindAll("[data-test=files-error]"));
        if (personal) Assert.Equal(["data", "notes.txt"], Names(page));
        // The address asks for a storage: that one, whatever its kind.
        await page.InvokeAsync(() => navigation.NavigateTo("/files?storage=demo-home"));
        page.WaitForAssertion(() => Assert.Contains("no longer exists", page.Find("[data-test=files-error]").TextContent));
        Directory.Delete(archive, recursive: true);
    }

    [Fact]
    public async Task AColumnTitleSortsByIt_AndAgainTheOtherWayRound()
    {
        await using var ctx = new DashboardTestContext();
        var folder = PersonalFolder(ctx); // data/, notes.txt (5 bytes)
        File.WriteAllBytes(Path.Combine(folder, "big.bin"), new byte[100]);
        File.WriteAllBytes(Path.Combine(folder, "empty.txt"), []);
        File.SetLastWriteTimeUtc(Path.Combine(folder, "big.bin"), DateTime.UtcNow.AddDays(-2));
        File.SetLastWriteTimeUtc(Path.Combine(folder, "empty.txt"), DateTime.UtcNow.AddDays(-1));
        File.SetLastWriteTimeUtc(Path.Combine(folder, "notes.txt"), DateTime.UtcNow.AddDays(-3));
        var page = ctx.Render<Files>();
        page.WaitForAssertion(() => Assert.Equal(["data", "big.bin", "empty.txt", "notes.txt"], Names(page)));

        async Task SortBy(string column, string direction, string[] expected)
        {
            await page.InvokeAsync(() => page.Find($"[data-test=sort][data-sort={column}]").Click());
            page.WaitForAssertion(() => Assert.Equal(expected, Names(page)));
            Assert.Equal(direction, page.Find($"[data-test=sort][data-sort={column}]").GetAttribute("data-direction"));
        }

        // Folders stay first. Sizes and dates start largest and newest; names start A to Z.
        await SortBy("Size", "descending", ["data", "big.bin", "notes.txt", "empty.txt"]);
        await SortBy("Size", "ascending", ["data", "empty.txt", "notes.txt", "big.bin"]);
        await SortBy("Modified", "descending", ["data", "empty.txt", "big.bin", "notes.txt"]);
        Assert.Equal("none", page.Find("[data-test=sort][data-sort=Size]").GetAttribute("data-direction"));
        await SortBy("Name", "ascending", ["data", "big.bin", "empty.txt", "notes.txt"]);
        await SortBy("Name", "descending", ["data", "notes.txt", "empty.txt", "big.bin"]);
    }

    [Fact]
    public async Task BrowsesWithBreadcrumbsAndManagesFiles()
    {
        await using var ctx = new DashboardTestContext();
        var folder = PersonalFolder(ctx);
        var dialogs = ctx.Render<MudDialogProvider>();
        var page = ctx.Render<Files>();
        page.WaitForAssertion(() => Assert.Equal(["data", "notes.txt"], Names(page)));
        Assert.Equal("/api/v1/storages/personal/download?path=notes.txt", WithDashboardToken(page.FindAll("[data-test=download]")[1].GetAttribute("href")));

        // Into a folder and back through the breadcrumbs.
        page.Find("[data-test=entry-name]").Click();
        page.WaitForAssertion(() => Assert.Equal(["a.txt"], Names(page)));
        Assert.Equal(["Personal", "data"], page.FindAll("[data-test=crumb]").Select(c => c.TextContent.Trim()));
        page.FindAll("[data-test=crumb]")[0].Click();
        page.WaitForAssertion(() => Assert.Equal(["data", "notes.txt"], Names(page)));

        // A new folder; a hostile name is refused with Core's message and creates nothing.
        page.Find("input[data-test=new-folder-name], [data-test=new-folder-name] input").Input("results");
        page.Find("[data-test=new-folder]").Click();
        page.WaitForAssertion(() => Assert.Equal(["data", "results", "notes.txt"], Names(page)));
        Assert.True(Directory.Exists(Path.Combine(folder, "results")));
        page.Find("input[data-test=new-folder-name], [data-test=new-folder-name] input").Input("../escape");
        page.Find("[data-test=new-folder]").Click();
        page.WaitForAssertion(() => Assert.Contains("'/'", page.Find("[data-test=files-error]").TextContent));
        Assert.False(Directory.Exists(Path.Combine(folder, "..", "escape")));
        // No name: the message says what is missing.
        page.Find("input[data-test=new-folder-name], [data-test=new-folder-name] input").Input("");
        page.Find("[data-test=new-folder]").Click();
        page.WaitForAssertion(() => Assert.StartsWith("The name is required", page.Find("[data-test=files-error]").TextContent.Trim()));

        // Rename in place.
        page.FindAll("[data-test=rename]")[2].Click();
        page.Find("input[data-test=rename-name], [data-test=rename-name] input").Input("renamed.txt");
        page.Find("[data-test=rename-save]").Click();
        page.WaitForAssertion(() => Assert.Equal(["data", "results", "renamed.txt"], Names(page)));
        Assert.Equal("notes", File.ReadAllText(Path.Combine(folder, "renamed.txt")));

        // Delete asks first: Cancel keeps the file, Delete removes it.
        page.FindAll("[data-test=delete]")[2].Click();
        dialogs.WaitForAssertion(() => Assert.Contains("Delete 'renamed.txt'?", dialogs.Markup));
        dialogs.FindAll("button").First(b => b.TextContent.Trim() == "Cancel").Click();
        Assert.True(File.Exists(Path.Combine(folder, "renamed.txt")));
        page.FindAll("[data-test=delete]")[2].Click();
        dialogs.WaitForAssertion(() => Assert.Contains("Delete 'renamed.txt'?", dialogs.Markup));
        dialogs.FindAll("button").First(b => b.TextContent.Trim() == "Delete").Click();
        page.WaitForAssertion(() => Assert.Equal(["data", "results"], Names(page)));
        Assert.False(File.Exists(Path.Combine(folder, "renamed.txt")));
    }

    /// <summary>With a quota, the storage says how much of it is used, again after a change and on a refresh (tasks write there too).</summary>
    [Fact]
    public async Task AStorageWithAQuotaShowsHowMuchOfItIsUsed()
    {
        await using var ctx = new DashboardTestContext(storageQuotaBytes: 1000);
        var folder = PersonalFolder(ctx); // 1 + 5 bytes
        var dialogs = ctx.Render<MudDialogProvider>();
        var page = ctx.Render<Files>();
        page.WaitForAssertion(() => Assert.Equal("6 B of 1000 B used", page.Find("[data-test=storage-usage]").TextContent.Trim()));

        await page.InvokeAsync(() => page.FindAll("[data-test=delete]")[1].Click());
        dialogs.WaitForAssertion(() => Assert.Contains("Delete 'notes.txt'?", dialogs.Markup));
        await dialogs.InvokeAsync(() => dialogs.FindAll("button").First(b => b.TextContent.Trim() == "Delete").Click());
        page.WaitForAssertion(() => Assert.Equal("1 B of 1000 B used", page.Find("[data-test=storage-usage]").TextContent.Trim()));

        File.WriteAllBytes(Path.Combine(folder, "from-a-task.bin"), new byte[950]);
        await page.InvokeAsync(() => page.Find("[data-test=refresh]").Click());
        page.WaitForAssertion(() => Assert.StartsWith("951 B of 1000 B used: delete files to make room (uploads and copies are refused", page.Find("[data-test=storage-usage]").TextContent.Trim()));
    }

    [Fact]
    public async Task TheUsageIsMeasuredAgainWhenUploadsEnd()
    {
        await using var ctx = new DashboardTestContext(storageQuotaBytes: 1000);
        var folder = PersonalFolder(ctx);
        ctx.JSInterop.SetupVoid("rosetta.uploadFiles", _ => true).SetVoidResult();
        var page = ctx.Render<Files>();
        page.WaitForAssertion(() => Assert.Equal("6 B of 1000 B used", page.Find("[data-test=storage-usage]").TextContent.Trim()));
        await page.InvokeAsync(() => page.FindComponent<InputFile>().UploadFiles(InputFileContent.CreateFromText("first", "one.txt")));
        page.WaitForAssertion(() => Assert.Single(ctx.JSInterop.Invocations["rosetta.uploadFiles"]));
        File.WriteAllText(Path.Combine(folder, "one.txt"), "first"); // what the API stored
        await page.InvokeAsync(() => page.Instance.UploadFinished(0, 201, """{"path":"one.txt","size":5}"""));
        page.WaitForAssertion(() => Assert.Equal("11 B of 1000 B used", page.Find("[data-test=storage-usage]").TextContent.Trim()));
    }

    [Fact]
    public async Task WithoutAQuotaNoUsageIsShown()
    {
        await using var ctx = new DashboardTestContext();
        PersonalFolder(ctx);
        var page = ctx.Render<Files>();
        page.WaitForAssertion(() => Assert.Equal(["data", "notes.txt"], Names(page)));
        Assert.Empty(page.FindAll("[data-test=storage-usage]"));
    }

    [Fact]
    public async Task AReadOnlyStorageShowsNoWriteActions()
    {
        await using var ctx = new DashboardTestContext();
        PersonalFolder(ctx);
        var reference = Path.Combine(Path.GetTempPath(), "rosetta-bunit-ro", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(reference);
        File.WriteAllText(Path.Combine(reference, "catalogue.csv"), "ra,dec");
        await using (var db = await ctx.Services.GetRequiredService<IDbContextFactory<RosettaDbContext>>().CreateDbContextAsync())
        {
            db.Storages.Add(new Storage { Id = "reference", Name = "Reference", ComputingId = "local", BasePath = reference, BindPath = "/storages/reference", ReadOnly = true });
            await db.SaveChangesAsync();
        }
        var page = ctx.Render<Files>();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-test=delete]")));
        page.FindAll("[data-test=storage]").Single(s => s.GetAttribute("data-storage") == "reference").Click();
        page.WaitForAssertion(() => Assert.Equal(["catalogue.csv"], Names(page)));
        Assert.Empty(page.FindAll("[data-test=delete]"));
        Assert.Empty(page.FindAll("[data-test=rename]"));
        Assert.Empty(page.FindAll("[data-test=new-folder]"));
        Assert.Empty(page.FindAll("[data-test=move]"));
        Assert.Empty(page.FindAll("[data-test=copy]"));
        Assert.Empty(page.FindAll("[data-test=upload-button]"));
        Assert.Empty(page.FindAll("input[type=file]"));
        Assert.Single(page.FindAll("[data-test=download]"));
        Assert.Single(page.FindAll("[data-test=preview]"));
        Directory.Delete(reference, recursive: true);
    }

    /// <summary>
    /// An sftp storage refuses every change to a symbolic link (SftpFolder: rename and move, copy, delete
    /// each answer 400), so its row offers none and says why; a local storage changes the link itself.
    /// (An sftp storage needs an SSH host to open, so its row's changes are rendered on their own.)
    /// </summary>
    [Theory]
    [InlineData(StorageKind.Sftp, "link", false, false, true)]
    [InlineData(StorageKind.Sftp, "file", false, true, false)]
    [InlineData(StorageKind.Sftp, "folder", false, true, false)]
    [InlineData(StorageKind.Local, "link", false, true, false)]
    [InlineData(StorageKind.Sftp, "link", true, false, false)] // read-only: nothing to change, nothing to explain
    [InlineData(StorageKind.Local, "file", true, false, false)]
    public async Task OnSftpStoragesALinkOffersNoChangeTheServerWouldRefuse(StorageKind kind, string entryKind, bool readOnly, bool offered, bool saysWhy)
    {
        await using var ctx = new DashboardTestContext();
        var storage = new Storage { Id = "cluster", Name = "Cluster", Kind = kind, ComputingId = "ssh-1", BasePath = "/home/$SSH_USER", BindPath = "/storages/cluster", ReadOnly = readOnly };
        var entry = new StorageEntry("latest", "runs/latest", entryKind, null, DateTime.UtcNow);
        var clicked = new List<string>();
        var row = ctx.Render<Rosetta.App.Components.Controls.EntryChanges>(p => p
            .Add(c => c.Storage, storage).Add(c => c.Entry, entry)
            .Add(c => c.OnRename, () => clicked.Add("rename")).Add(c => c.OnMove, () => clicked.Add("move"))
            .Add(c => c.OnCopy, () => clicked.Add("copy")).Add(c => c.OnDelete, () => clicked.Add("delete")));

        string[] changes = ["rename", "move", "copy", "delete"];
        Assert.Equal(offered ? changes : [], row.FindAll("button").Select(b => b.GetAttribute("data-test")));
        foreach (var button in row.FindAll("button")) button.Click();
        Assert.Equal(offered ? changes : [], clicked);
        Assert.Equal(saysWhy, row.FindAll("[data-test=link-unchangeable]").Count == 1);
        if (saysWhy) Assert.Contains("Change it on the host", row.Find("[data-test=link-unchangeable]").GetAttribute("title"));
    }

    /// <summary>A name that is not UTF-8 cannot be named back: its row offers nothing that would fail, and says how to mend it.</summary>
    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task ANameThatIsNotUtf8OffersNoActionAndSaysHowToRenameIt()
    {
        await using var ctx = new DashboardTestContext();
        using (var process = System.Diagnostics.Process.Start("bash", ["-c", "printf x > \"$1\"/$'caf\\xe9.txt'", "bash", PersonalFolder(ctx)]))
        {
            await process.WaitForExitAsync();
            Assert.Equal(0, process.ExitCode);
        }
        var page = ctx.Render<Files>();
        page.WaitForAssertion(() => Assert.Contains(page.FindAll("[data-test=entry]"), r => r.GetAttribute("data-kind") == "invalid-name"));
        var row = page.FindAll("[data-test=entry]").Single(c => c.GetAttribute("data-kind") == "invalid-name").ParentElement!; // the name's cell's row
        Assert.Empty(row.QuerySelectorAll("button, a[download]"));
        Assert.Contains("convmv", row.QuerySelector("[data-test=name-unusable]")!.GetAttribute("title"));
        Assert.NotEmpty(page.FindAll("[data-test=entry]").Single(c => c.TextContent.Contains("notes.txt")).ParentElement!.QuerySelectorAll("[data-test=download]"));
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task OnALocalStorageALinkIsRenamedAndDeletedItself()
    {
        await using var ctx = new DashboardTestContext();
        var folder = PersonalFolder(ctx);
        File.CreateSymbolicLink(Path.Combine(folder, "latest"), "data");
        var dialogs = ctx.Render<MudDialogProvider>();
        var page = ctx.Render<Files>();
        page.WaitForAssertion(() => Assert.Equal(["data", "latest", "notes.txt"], Names(page)));
        Assert.Equal("link", page.FindAll("[data-test=entry]")[1].GetAttribute("data-kind"));
        Assert.Empty(page.FindAll("[data-test=link-unchangeable]"));

        await page.InvokeAsync(() => page.FindAll("[data-test=rename]")[1].Click());
        await page.InvokeAsync(() => page.Find("input[data-test=rename-name], [data-test=rename-name] input").Input("newest"));
        await page.InvokeAsync(() => page.Find("[data-test=rename-save]").Click());
        page.WaitForAssertion(() => Assert.Equal(["data", "newest", "notes.txt"], Names(page)));
        Assert.Equal("data", new FileInfo(Path.Combine(folder, "newest")).LinkTarget);

        await page.InvokeAsync(() => page.FindAll("[data-test=delete]")[1].Click());
        dialogs.WaitForAssertion(() => Assert.Contains("Delete 'newest'?", dialogs.Markup));
        await dialogs.InvokeAsync(() => dialogs.FindAll("button").First(b => b.TextContent.Trim() == "Delete").Click());
        page.WaitForAssertion(() => Assert.Equal(["data", "notes.txt"], Names(page)));
        Assert.Equal(["a.txt"], Directory.GetFiles(Path.Combine(folder, "data")).Select(Path.GetFileName)); // what it pointed to is untouched
    }

    [Fact]
    public async Task AStorageMadeReadOnlyWhileThePageIsOpenRefusesTheNextChange()
    {
        await using var ctx = new DashboardTestContext();
        PersonalFolder(ctx);
        var shared = Path.Combine(Path.GetTempPath(), "rosetta-bunit-ro", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(shared);
        File.WriteAllText(Path.Combine(shared, "results.csv"), "1,2");
        var factory = ctx.Services.GetRequiredService<IDbContextFactory<RosettaDbContext>>();
        await using (var db = await factory.CreateDbContextAsync())
        {
            db.Storages.Add(new Storage { Id = "team", Name = "Team", ComputingId = "local", BasePath = shared, BindPath = "/storages/team" });
            await db.SaveChangesAsync();
        }
        var dialogs = ctx.Render<MudDialogProvider>();
        var page = ctx.Render<Files>();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-test=storage]")));
        page.FindAll("[data-test=storage]").Single(s => s.GetAttribute("data-storage") == "team").Click();
        page.WaitForAssertion(() => Assert.Equal(["results.csv"], Names(page)));

        // An admin makes it read-only meanwhile.
        await using (var db = await factory.CreateDbContextAsync())
        {
            (await db.Storages.SingleAsync(x => x.Id == "team")).ReadOnly = true;
            await db.SaveChangesAsync();
        }
        page.Find("[data-test=delete]").Click();
        dialogs.WaitForAssertion(() => Assert.Contains("Delete 'results.csv'?", dialogs.Markup));
        dialogs.FindAll("button").First(b => b.TextContent.Trim() == "Delete").Click();
        page.WaitForAssertion(() => Assert.Contains("read-only", page.Find("[data-test=files-error]").TextContent));
        Assert.True(File.Exists(Path.Combine(shared, "results.csv")));
        Directory.Delete(shared, recursive: true);
    }

    private static string TextField(string test) => $"input[data-test={test}], [data-test={test}] input";

    [Fact]
    public async Task MovesAndCopiesIntoAFolderChosenInTheDialog()
    {
        await using var ctx = new DashboardTestContext();
        var folder = PersonalFolder(ctx);
        var dialogs = ctx.Render<MudDialogProvider>();
        var page = ctx.Render<Files>();
        page.WaitForAssertion(() => Assert.Equal(["data", "notes.txt"], Names(page)));

        // Copy notes.txt into data: the dialog starts in the current folder and browses into data.
        page.FindAll("[data-test=copy]")[1].Click();
        dialogs.WaitForAssertion(() => Assert.Equal(["data"], dialogs.FindAll("[data-test=target-folder]").Select(f => f.TextContent.Trim())));
        dialogs.Find("[data-test=target-folder]").Click();
        dialogs.WaitForAssertion(() => Assert.Single(dialogs.FindAll("[data-test=no-subfolders]")));
        Assert.Equal(["Personal", "data"], dialogs.FindAll("[data-test=target-crumb]").Select(c => c.TextContent.Trim()));
        dialogs.Find("[data-test=move-copy-apply]").Click();
        dialogs.WaitForAssertion(() => Assert.Empty(dialogs.FindAll("[data-test=move-copy-dialog]")));
        Assert.Equal("notes", File.ReadAllText(Path.Combine(folder, "data", "notes.txt")));
        Assert.True(File.Exists(Path.Combine(folder, "notes.txt")));

        // Moving it there too collides: Core's message stays in the dialog, and another name goes through.
        page.FindAll("[data-test=move]")[1].Click();
        dialogs.WaitForAssertion(() => Assert.Single(dialogs.FindAll("[data-test=target-folder]")));
        dialogs.Find("[data-test=target-folder]").Click();
        dialogs.WaitForAssertion(() => Assert.Single(dialogs.FindAll("[data-test=no-subfolders]")));
        dialogs.Find("[data-test=move-copy-apply]").Click();
        dialogs.WaitForAssertion(() => Assert.Contains("exists already", dialogs.Find("[data-test=move-copy-error]").TextContent));
        Assert.True(File.Exists(Path.Combine(folder, "notes.txt")));
        dialogs.Find(TextField("target-name")).Change("notes-2.txt");
        dialogs.Find("[data-test=move-copy-apply]").Click();
        dialogs.WaitForAssertion(() => Assert.Empty(dialogs.FindAll("[data-test=move-copy-dialog]")));
        page.WaitForAssertion(() => Assert.Equal(["data"], Names(page)));
        Assert.Equal("notes", File.ReadAllText(Path.Combine(folder, "data", "notes-2.txt")));

        // A folder is never offered as its own destination; Cancel changes nothing.
        page.FindAll("[data-test=move]")[0].Click();
        dialogs.WaitForAssertion(() => Assert.Single(dialogs.FindAll("[data-test=no-subfolders]")));
        dialogs.FindAll("button").First(b => b.TextContent.Trim() == "Cancel").Click();
        dialogs.WaitForAssertion(() => Assert.Empty(dialogs.FindAll("[data-test=move-copy-dialog]")));
        Assert.True(Directory.Exists(Path.Combine(folder, "data")));
    }

    /// <summary>MudButton shows its text in capitals: crumbs must not, or 'Data' and 'data' look alike.</summary>
    [Fact]
    public async Task CrumbsShowFolderNamesAsTheyAreAlsoInTheMoveDialog()
    {
        await using var ctx = new DashboardTestContext();
        var folder = PersonalFolder(ctx);
        Directory.CreateDirectory(Path.Combine(folder, "Data", "Run1"));
        File.WriteAllText(Path.Combine(folder, "Data", "Run1", "fit.txt"), "x");
        Directory.CreateDirectory(Path.Combine(folder, "Data", "Run1", "Plots"));
        ctx.Services.GetRequiredService<NavigationManager>().NavigateTo("/files?storage=personal&path=Data/Run1");
        var dialogs = ctx.Render<MudDialogProvider>();
        var page = ctx.Render<Files>();
        page.WaitForAssertion(() => Assert.Equal(["Plots", "fit.txt"], Names(page)));

        static void AsWritten(IReadOnlyList<AngleSharp.Dom.IElement> crumbs, string[] names)
        {
            Assert.Equal(names, crumbs.Select(c => c.TextContent.Trim()));
            Assert.All(crumbs, c => Assert.Contains("text-transform:none", (c.GetAttribute("style") ?? "").Replace(" ", "")));
        }
        AsWritten(page.FindAll("[data-test=crumb]"), ["Personal", "Data", "Run1"]);

        await page.InvokeAsync(() => page.FindAll("[data-test=move]")[1].Click()); // fit.txt
        dialogs.WaitForAssertion(() => Assert.Single(dialogs.FindAll("[data-test=target-folder]")));
        AsWritten(dialogs.FindAll("[data-test=target-crumb]"), ["Personal", "Data", "Run1"]);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task ATextFileIsEditedInItsPreviewAndSavedWithItsOwnLineEndsAndPermissions()
    {
        await using var ctx = new DashboardTestContext();
        var folder = PersonalFolder(ctx);
        var config = Path.Combine(folder, "fit.cfg");
        File.WriteAllText(config, "model = gauss\r\nsteps = 10\r\n");
        File.SetUnixFileMode(config, UnixFileMode.UserRead | UnixFileMode.UserWrite); // private: it stays so
        var dialogs = ctx.Render<MudDialogProvider>();
        var page = ctx.Render<Files>();
        page.WaitForAssertion(() => Assert.Contains("fit.cfg", Names(page)));

        await page.InvokeAsync(() => PreviewButton(page, "fit.cfg").Click());
        dialogs.WaitForAssertion(() => dialogs.Find("[data-test=preview-edit]").Click());
        // While editing, a click beside the dialog does not close it (and lose the edits).
        await dialogs.InvokeAsync(() => dialogs.Find(".mud-overlay").Click());
        Assert.Single(dialogs.FindAll("[data-test=preview-dialog]"));
        // Typing stays in the browser: an input handler would send the whole text (up to 64K characters) per keystroke.
        // (Read from the element's own handlers: bUnit's Input() also looks for one up its ancestors, which the dialog's may have.)
        var editor = dialogs.Find("textarea[data-test=edit-text]");
        Assert.False(editor.HasAttribute("blazor:oninput"), editor.OuterHtml);
        Assert.True(editor.HasAttribute("blazor:onchange"), editor.OuterHtml);
        // The browser hands a text area's text back with \n line ends.
        await dialogs.InvokeAsync(() => dialogs.Find("textarea[data-test=edit-text]").Change("model = lorentz\nsteps = 10\nseed = 7\n"));
        await dialogs.InvokeAsync(() => dialogs.Find("[data-test=edit-save]").Click());
        dialogs.WaitForAssertion(() => Assert.Empty(dialogs.FindAll("[data-test=preview-dialog]")));
        Assert.Equal("model = lorentz\r\nsteps = 10\r\nseed = 7\r\n", File.ReadAllText(config));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(config));
        page.WaitForAssertion(() => Assert.Contains(ctx.Services.GetRequiredService<ISnackbar>().ShownSnackbars, s => s.Message == "Saved fit.cfg"));
    }

    [Fact]
    public async Task AFileChangedSinceItWasOpenedIsSavedOverOnlyWhenAskedTwice()
    {
        await using var ctx = new DashboardTestContext();
        var folder = PersonalFolder(ctx);
        var notes = Path.Combine(folder, "notes.txt");
        var dialogs = ctx.Render<MudDialogProvider>();
        var page = ctx.Render<Files>();
        page.WaitForAssertion(() => Assert.Contains("notes.txt", Names(page)));
        await page.InvokeAsync(() => PreviewButton(page, "notes.txt").Click());
        dialogs.WaitForAssertion(() => dialogs.Find("[data-test=preview-edit]").Click());
        await dialogs.InvokeAsync(() => dialogs.Find("textarea[data-test=edit-text]").Change("mine"));

        // The same size, and the old time kept (as cp -p or rsync -t do): only the content tells.
        var opened = File.GetLastWriteTimeUtc(notes);
        File.WriteAllText(notes, "NOTES");
        File.SetLastWriteTimeUtc(notes, opened);
        await dialogs.InvokeAsync(() => dialogs.Find("[data-test=edit-save]").Click());
        dialogs.WaitForAssertion(() => Assert.Contains("changed since you opened it", dialogs.Find("[data-test=edit-conflict]").TextContent));
        Assert.Equal("NOTES", File.ReadAllText(notes));
        Assert.Equal("Save anyway", dialogs.Find("[data-test=edit-save]").TextContent.Trim());

        await dialogs.InvokeAsync(() => dialogs.Find("[data-test=edit-save]").Click());
        dialogs.WaitForAssertion(() => Assert.Empty(dialogs.FindAll("[data-test=preview-dialog]")));
        Assert.Equal("mine", File.ReadAllText(notes));
    }

    [Fact]
    public async Task OnlyWholeUtf8TextOnAWritableStorageCanBeEdited()
    {
        await using var ctx = new DashboardTestContext();
        var folder = PersonalFolder(ctx);
        File.WriteAllText(Path.Combine(folder, "long.txt"), new string('x', 70 * 1024)); // only its beginning is shown
        File.WriteAllBytes(Path.Combine(folder, "latin1.txt"), [0x63, 0x61, 0x66, 0xE9]); // "café" in Latin-1: saving would change its bytes
        File.WriteAllText(Path.Combine(folder, "mixed.txt"), "dos\r\nunix\n"); // a text area would make every line end alike
        var dialogs = ctx.Render<MudDialogProvider>();
        var page = ctx.Render<Files>();
        page.WaitForAssertion(() => Assert.Contains("long.txt", Names(page)));
        foreach (var (name, editable) in new[] { ("long.txt", false), ("latin1.txt", false), ("mixed.txt", false), ("notes.txt", true) })
        {
            await page.InvokeAsync(() => PreviewButton(page, name).Click());
            dialogs.WaitForAssertion(() => Assert.Single(dialogs.FindAll("[data-test=preview-text]")));
            Assert.Equal(editable, dialogs.FindAll("[data-test=preview-edit]").Count == 1);
            await dialogs.InvokeAsync(() => dialogs.Find("[data-test=preview-close]").Click());
            dialogs.WaitForAssertion(() => Assert.Empty(dialogs.FindAll("[data-test=preview-dialog]")));
        }

        // A storage made read-only while a file is edited refuses the save, and says so.
        await page.InvokeAsync(() => PreviewButton(page, "notes.txt").Click());
        dialogs.WaitForAssertion(() => dialogs.Find("[data-test=preview-edit]").Click());
        await dialogs.InvokeAsync(() => dialogs.Find("textarea[data-test=edit-text]").Change("mine"));
        var factory = ctx.Services.GetRequiredService<IDbContextFactory<RosettaDbContext>>();
        await using (var db = await factory.CreateDbContextAsync())
        {
            (await db.Storages.SingleAsync(x => x.Id == "personal")).ReadOnly = true;
            await db.SaveChangesAsync();
        }
        await dialogs.InvokeAsync(() => dialogs.Find("[data-test=edit-save]").Click());
        dialogs.WaitForAssertion(() => Assert.Contains("read-only", dialogs.Find("[data-test=edit-error]").TextContent));
        Assert.Equal("notes", File.ReadAllText(Path.Combine(folder, "notes.txt")));
        await dialogs.InvokeAsync(() => dialogs.Find("[data-test=edit-cancel]").Click());
        await dialogs.InvokeAsync(() => dialogs.Find("[data-test=preview-close]").Click());
        dialogs.WaitForAssertion(() => Assert.Empty(dialogs.FindAll("[data-test=preview-dialog]")));

        // On a storage read-only when opened, nothing is edited.
        var readOnly = ctx.Render<Files>();
        readOnly.WaitForAssertion(() => Assert.Contains("notes.txt", Names(readOnly)));
        await readOnly.InvokeAsync(() => PreviewButton(readOnly, "notes.txt").Click());
        dialogs.WaitForAssertion(() => Assert.Single(dialogs.FindAll("[data-test=preview-text]")));
        Assert.Empty(dialogs.FindAll("[data-test=preview-edit]"));
    }

    [Fact]
    public async Task PreviewsTextAsTextImagesThroughThePreviewEndpointAndBinaryNotAtAll()
    {
        await using var ctx = new DashboardTestContext();
        var folder = PersonalFolder(ctx);
        File.WriteAllText(Path.Combine(folder, "page.html"), "<script>alert(1)</script>\nπ ≈ 3.14");
        // 70 KiB of 'é' (two bytes each): the preview stops at 64 KiB without splitting a character.
        File.WriteAllText(Path.Combine(folder, "long.txt"), new string('é', 35 * 1024));
        File.WriteAllBytes(Path.Combine(folder, "data.bin"), [0x89, 0x00, 0x01, 0x02]);
        File.WriteAllBytes(Path.Combine(folder, "plot.png"), [0x89, 0x50, 0x4E, 0x47]);
        File.WriteAllText(Path.Combine(folder, "logo.svg"), "<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>");
        var dialogs = ctx.Render<MudDialogProvider>();
        var page = ctx.Render<Files>();
        page.WaitForAssertion(() => Assert.Equal(["data", "data.bin", "logo.svg", "long.txt", "notes.txt", "page.html", "plot.png"], Names(page)));
        // Folders have no preview; files each have one.
        var previews = page.FindAll("[data-test=preview]");
        Assert.Equal(6, previews.Count);

        AngleSharp.Dom.IElement Open(int index, string marker)
        {
            page.FindAll("[data-test=preview]")[index].Click();
            dialogs.WaitForAssertion(() => Assert.Single(dialogs.FindAll(marker)));
            return dialogs.Find(marker);
        }
        void Close()
        {
            dialogs.Find("[data-test=preview-close]").Click();
            dialogs.WaitForAssertion(() => Assert.Empty(dialogs.FindAll("[data-test=preview-dialog]")));
        }

        // HTML is shown as its text, never as markup.
        var html = Open(4, "[data-test=preview-text]");
        Assert.Equal("<script>alert(1)</script>\nπ ≈ 3.14", html.TextContent);
        Assert.Empty(dialogs.FindAll("[data-test=preview-dialog] script"));
        Assert.Empty(dialogs.FindAll("[data-test=preview-truncated]"));
        Close();

        var text = Open(2, "[data-test=preview-text]");
        Assert.Equal(new string('é', 32 * 1024), text.TextContent);
        Assert.Contains("first 64 KiB of 70 KiB", dialogs.Find("[data-test=preview-truncated]").TextContent);
        Close();

        Open(0, "[data-test=preview-binary]");
        Close();

        // An SVG can hold script: it is previewed as its source text, not as an image.
        var svg = Open(1, "[data-test=preview-text]");
        Assert.Contains("<script>", svg.TextContent);
        Assert.Empty(dialogs.FindAll("[data-test=preview-image]"));
        Close();

        var image = Open(5, "[data-test=preview-image]");
        Assert.Equal("/api/v1/storages/personal/preview?path=plot.png", WithDashboardToken(image.GetAttribute("src")));
        Assert.Equal("/api/v1/storages/personal/download?path=plot.png", WithDashboardToken(dialogs.Find("[data-test=preview-download]").GetAttribute("href")));
        Close();
    }

    [Fact]
    public async Task UploadsGoStraightToTheApiOneLineOfProgressPerFile()
    {
        await using var ctx = new DashboardTestContext();
        var folder = PersonalFolder(ctx);
        ctx.JSInterop.SetupVoid("rosetta.uploadFiles", _ => true).SetVoidResult();
        var page = ctx.Render<Files>();
        page.WaitForAssertion(() => Assert.Equal(["data", "notes.txt"], Names(page)));
        // The listing is the drop zone (the file input inside it takes dropped files).
        Assert.Single(page.FindAll("[data-test=drop-zone] [data-test=entries]"));
        page.Find("[data-test=entry-name]").Click();
        page.WaitForAssertion(() => Assert.Equal(["a.txt"], Names(page)));

        page.FindComponent<InputFile>().UploadFiles(
            InputFileContent.CreateFromText("first", "one 1.txt"),
            InputFileContent.CreateFromBinary(new byte[300_000], "two.bin"),
            InputFileContent.CreateFromText("bad", "bad\\name.txt"));
        page.WaitForAssertion(() => Assert.Single(ctx.JSInterop.Invocations["rosetta.uploadFiles"]));
        // The browser is told which input to read and where each file goes; a name Core refuses goes nowhere.
        var arguments = ctx.JSInterop.Invocations["rosetta.uploadFiles"][0].Arguments;
        Assert.NotEmpty(page.FindAll((string)arguments[0]!));
        Assert.Equal(["/api/v1/storages/personal/files?path=data%2Fone%201.txt", "/api/v1/storages/personal/files?path=data%2Ftwo.bin", null],
            ((IEnumerable<string?>)arguments[1]!).Select(url => url is null ? null : WithDashboardToken(url)));
        List<string?> States() => page.FindAll("[data-test=upload-item]").Select(i => i.GetAttribute("data-state")).ToList();
        Assert.Equal(["queued", "queued", "failed"], States());
        Assert.Contains("'\\'", page.FindAll("[data-test=upload-item]")[2].TextContent);
        Assert.NotNull(page.Find("[data-test=upload-button]").GetAttribute("disabled"));

        // The script's reports: progress, then the API's answers (a problem's message on its line).
        await page.InvokeAsync(() => page.Instance.UploadFinished(0, 201, """{"path":"data/one 1.txt","size":5}"""));
        await page.InvokeAsync(() => page.Instance.UploadProgress(1, 150_000));
        Assert.Equal(["done", "uploading", "failed"], States());
        Assert.Contains("two.bin (293 KiB): 50%", page.FindAll("[data-test=upload-item]")[1].TextContent);
        Assert.Empty(page.FindAll("[data-test=uploads-clear]"));
        File.WriteAllText(Path.Combine(folder, "data", "one 1.txt"), "first"); // what the API stored
        await page.InvokeAsync(() => page.Instance.UploadFinished(1, 413, """{"title":"Too large.","status":413,"detail":"Not enough room in 'Personal'."}"""));
        Assert.Equal(["done", "failed", "failed"], States());
        Assert.Contains("Not enough room in 'Personal'.", page.FindAll("[data-test=upload-item]")[1].TextContent);
        // All answered: the folder is listed again and the list can be dismissed.
        page.WaitForAssertion(() => Assert.Equal(["a.txt", "one 1.txt"], Names(page)));
        Assert.Null(page.Find("[data-test=upload-button]").GetAttribute("disabled"));
        page.Find("[data-test=uploads-clear]").Click();
        Assert.Empty(page.FindAll("[data-test=upload-item]"));
    }

    [Fact]
    public async Task ADragOverTheListingSaysWhereTheFilesGoAndEndedUploadLinesStayWithTheirFolder()
    {
        await using var ctx = new DashboardTestContext();
        var folder = PersonalFolder(ctx);
        ctx.JSInterop.SetupVoid("rosetta.uploadFiles", _ => true).SetVoidResult();
        var page = ctx.Render<Files>();
        page.WaitForAssertion(() => Assert.Equal(["data", "notes.txt"], Names(page)));
        page.Find("[data-test=entry-name]").Click();
        page.WaitForAssertion(() => Assert.Equal(["a.txt"], Names(page)));

        Assert.Empty(page.FindAll("[data-test=drop-hint]"));
        page.Find("[data-test=drop-zone]").DragEnter();
        Assert.Equal("Drop the files to upload them into 'data'", page.Find("[data-test=drop-hint]").TextContent);
        Assert.Contains("dragging", page.Find("[data-test=drop-zone]").ClassName);

        page.FindComponent<InputFile>().UploadFiles(InputFileContent.CreateFromText("first", "one.txt"));
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-test=upload-item]")));
        File.WriteAllText(Path.Combine(folder, "data", "one.txt"), "first");
        await page.InvokeAsync(() => page.Instance.UploadFinished(0, 201, """{"path":"data/one.txt","size":5}"""));
        page.WaitForAssertion(() => Assert.Equal(["a.txt", "one.txt"], Names(page)));
        Assert.Single(page.FindAll("[data-test=upload-item]")); // listed again, same folder: the line stays

        page.FindAll("[data-test=crumb]")[0].Click();
        page.WaitForAssertion(() => Assert.Equal(["data", "notes.txt"], Names(page)));
        Assert.Empty(page.FindAll("[data-test=upload-item]"));
    }

    /// <summary>Core's name rules read as sentences on the page (they were "The name has a name longer than 255 bytes.").</summary>
    [Theory]
    [InlineData("runs/2026", "A name cannot contain '/': it names one file or folder, not a path.")]
    [InlineData(".rosetta-upload-x", "A name cannot start with '.rosetta-upload-': the platform keeps such names for uploads in progress.")]
    [InlineData("256", "A file or folder name can be at most 255 bytes long (in UTF-8); this one has 256.")]
    [InlineData("é128", "A file or folder name can be at most 255 bytes long (in UTF-8); this one has 256.")]
    [InlineData("", "The name is required.")]
    public async Task ARefusedNameIsExplainedInASentence(string name, string said)
    {
        name = name switch { "256" => new string('x', 256), "é128" => new string('é', 128), _ => name };
        await using var ctx = new DashboardTestContext();
        PersonalFolder(ctx);
        var page = ctx.Render<Files>();
        page.WaitForAssertion(() => Assert.Equal(["data", "notes.txt"], Names(page)));
        await page.InvokeAsync(() => page.Find(TextField("new-folder-name")).Input(name));
        await page.InvokeAsync(() => page.Find("[data-test=new-folder]").Click());
        page.WaitForAssertion(() => Assert.Equal(said, page.Find("[data-test=files-error]").TextContent.Trim()));
        Assert.Equal(["data", "notes.txt"], Names(page));
    }

    [Fact]
    public async Task EnterInTheNewFolderOrRenameFieldDoesWhatItsButtonDoes()
    {
        await using var ctx = new DashboardTestContext();
        PersonalFolder(ctx);
        var page = ctx.Render<Files>();
        page.WaitForAssertion(() => Assert.Equal(["data", "notes.txt"], Names(page)));
        // Each event on the element found anew on the renderer's thread: typing re-renders the field.
        const string folderName = "input[data-test=new-folder-name], [data-test=new-folder-name] input";
        var enter = new Microsoft.AspNetCore.Components.Web.KeyboardEventArgs { Key = "Enter" };
        await page.InvokeAsync(() => page.Find(folderName).Input("results"));
        await page.InvokeAsync(() => page.Find(folderName).KeyUp(enter));
        page.WaitForAssertion(() => Assert.Equal(["data", "results", "notes.txt"], Names(page)));

        await page.InvokeAsync(() => page.FindAll("[data-test=rename]").Last().Click()); // notes.txt
        const string newName = "input[data-test=rename-name], [data-test=rename-name] input";
        await page.InvokeAsync(() => page.Find(newName).Input("notes-2026.txt"));
        await page.InvokeAsync(() => page.Find(newName).KeyUp(enter));
        page.WaitForAssertion(() => Assert.Equal(["data", "results", "notes-2026.txt"], Names(page)));
    }

    [Fact]
    public async Task RefreshShowsWhatATaskWroteSinceTheFolderWasListed()
    {
        await using var ctx = new DashboardTestContext();
        var folder = PersonalFolder(ctx);
        var page = ctx.Render<Files>();
        page.WaitForAssertion(() => Assert.Equal(["data", "notes.txt"], Names(page)));
        File.WriteAllText(Path.Combine(folder, "written-by-a-task.csv"), "1,2\n");
        page.Find("[data-test=refresh]").Click();
        page.WaitForAssertion(() => Assert.Equal(["data", "notes.txt", "written-by-a-task.csv"], Names(page)));
    }

    /// <summary>
    /// A long name without spaces breaks anywhere inside its own cell, and the cell's label in the phone
    /// layout (MudTable's cards: a flex row whose ::before is "Name") keeps its word. The layout is the
    /// browser's: here the name carries the class and app.css has the rules for it.
    /// </summary>
    [Fact]
    public async Task ALongNameBreaksAnywhereButItsCellsLabelDoesNot()
    {
        await using var ctx = new DashboardTestContext();
        var folder = PersonalFolder(ctx);
        var longName = new string('x', 120) + "_" + new string('y', 120) + ".csv";
        File.WriteAllText(Path.Combine(folder, longName), "1");
        Directory.CreateDirectory(Path.Combine(folder, new string('f', 200)));
        var page = ctx.Render<Files>();
        page.WaitForAssertion(() => Assert.Contains(longName, Names(page)));
        foreach (var name in page.FindAll("[data-test=entry-name]"))
        {
            Assert.Contains("entry-name", name.ClassList);
            var cell = name.Closest("td")!;
            Assert.Contains("entry-name-cell", cell.ClassList);
            Assert.Equal("Name", cell.GetAttribute("data-label"));
        }

        var css = File.ReadAllText(AppCss());
        string Rule(string selector)
        {
            var rule = System.Text.RegularExpressions.Regex.Match(css, @"(?m)^" + System.Text.RegularExpressions.Regex.Escape(selector) + @"\s*\{([^}]*)\}");
            Assert.True(rule.Success, $"no rule for {selector} in app.css");
            return rule.Groups[1].Value.Replace(" ", "");
        }
        Assert.Contains("overflow-wrap:anywhere", Rule(".entry-name"));
        Assert.DoesNotContain("overflow-wrap", Rule(".entry-name-cell"));
        Assert.Contains("overflow-wrap:normal", Rule(".entry-name-cell::before"));
        Assert.Contains("flex-shrink:0", Rule(".entry-name-cell::before"));
    }

    private static string AppCss([System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.Combine(Path.GetDirectoryName(here)!, "..", "..", "Rosetta.App", "wwwroot", "app.css");

    [Fact]
    public async Task ASearchThatFindsNothingSaysSoRatherThanThatTheFolderIsEmpty()
    {
        await using var ctx = new DashboardTestContext();
        PersonalFolder(ctx);
        var page = ctx.Render<Files>();
        page.WaitForAssertion(() => Assert.Equal(["data", "notes.txt"], Names(page)));
        page.Find("input[data-test=search], [data-test=search] input").Input("spectrum");
        page.WaitForAssertion(() => Assert.Equal("Nothing in this folder has 'spectrum' in its name.", page.Find("[data-test=empty]").TextContent));
    }

    [Fact]
    public async Task ASearchStaysWhileTheFolderIsSortedOrRefreshed_AndGoesWithAnotherFolder()
    {
        await using var ctx = new DashboardTestContext();
        var folder = PersonalFolder(ctx); // data/, notes.txt
        File.WriteAllText(Path.Combine(folder, "data.csv"), "1,2");
        var page = ctx.Render<Files>();
        page.WaitForAssertion(() => Assert.Equal(["data", "data.csv", "notes.txt"], Names(page)));
        const string search = "input[data-test=search], [data-test=search] input";
        await page.InvokeAsync(() => page.Find(search).Input("dat"));
        page.WaitForAssertion(() => Assert.Equal(["data", "data.csv"], Names(page)));

        await page.InvokeAsync(() => page.Find("[data-test=sort][data-sort=Name]").Click()); // Z to A
        page.WaitForAssertion(() => Assert.Equal("descending", page.Find("[data-test=sort][data-sort=Name]").GetAttribute("data-direction")));
        Assert.Equal(["data", "data.csv"], Names(page));
        Assert.Equal("dat", page.Find(search).GetAttribute("value"));

        File.WriteAllText(Path.Combine(folder, "update.dat"), "new"); // a task wrote it meanwhile
        await page.InvokeAsync(() => page.Find("[data-test=refresh]").Click());
        page.WaitForAssertion(() => Assert.Equal(["data", "update.dat", "data.csv"], Names(page)));
        Assert.Equal("dat", page.Find(search).GetAttribute("value"));

        // Another folder: everything in it, the box empty.
        await page.InvokeAsync(() => page.Find("[data-test=entry-name]").Click());
        page.WaitForAssertion(() => Assert.Equal(["a.txt"], Names(page)));
        Assert.True(string.IsNullOrEmpty(page.Find(search).GetAttribute("value")));
        // Another storage, at its root as the folder left was: the same.
        await page.InvokeAsync(() => page.FindAll("[data-test=crumb]")[0].Click());
        page.WaitForAssertion(() => Assert.Equal(["data", "update.dat", "notes.txt", "data.csv"], Names(page))); // still Z to A
        await page.InvokeAsync(() => page.Find(search).Input("dat"));
        await page.InvokeAsync(() => page.FindAll("[data-test=storage]").Single(s => s.GetAttribute("data-storage") == "shared").Click());
        page.WaitForAssertion(() => Assert.Equal("Shared", page.FindAll("[data-test=crumb]")[0].TextContent.Trim()));
        Assert.True(string.IsNullOrEmpty(page.Find(search).GetAttribute("value")));
    }

    [Fact]
    public async Task AnUploadOverAFileOfTheSameNameAsksWhetherToReplaceOrSkipIt()
    {
        await using var ctx = new DashboardTestContext();
        PersonalFolder(ctx);
        ctx.JSInterop.SetupVoid("rosetta.uploadFiles", _ => true).SetVoidResult();
        var dialogs = ctx.Render<MudDialogProvider>();
        var page = ctx.Render<Files>();
        page.WaitForAssertion(() => Assert.Equal(["data", "notes.txt"], Names(page)));
        IEnumerable<string?> Targets(int call) => ((IEnumerable<string?>)ctx.JSInterop.Invocations["rosetta.uploadFiles"][call].Arguments[1]!)
            .Select(url => url is null ? null : WithDashboardToken(url));
        // The upload waits for the question's answer, and bUnit's UploadFiles waits for the upload: off the test's thread.
        Task Pick(params InputFileContent[] files) => Task.Run(() => page.FindComponent<InputFile>().UploadFiles(files));
        void Answer(string button) => dialogs.WaitForAssertion(() => dialogs.FindAll("button").First(b => b.TextContent.Trim() == button).Click());

        // Skip: the new file goes up, the one already there is left alone and its line says so.
        var picking = Pick(InputFileContent.CreateFromText("new", "notes.txt"), InputFileContent.CreateFromText("other", "other.txt"));
        dialogs.WaitForAssertion(() => Assert.Contains("'notes.txt' is already in this folder", dialogs.Markup));
        Answer("Skip");
        await picking.WaitAsync(TimeSpan.FromSeconds(30));
        page.WaitForAssertion(() => Assert.Single(ctx.JSInterop.Invocations["rosetta.uploadFiles"]));
        Assert.Equal([null, "/api/v1/storages/personal/files?path=other.txt"], Targets(0));
        Assert.Equal("skipped", page.FindAll("[data-test=upload-item]")[0].GetAttribute("data-state"));
        Assert.Contains("skipped: a file of this name is already here", page.FindAll("[data-test=upload-item]")[0].TextContent);
        await page.InvokeAsync(() => page.Instance.UploadFinished(1, 201, """{"path":"other.txt","size":5}"""));

        // Cancel: nothing goes up.
        picking = Pick(InputFileContent.CreateFromText("new", "notes.txt"));
        Answer("Cancel");
        await picking.WaitAsync(TimeSpan.FromSeconds(30));
        dialogs.WaitForAssertion(() => Assert.DoesNotContain("already in this folder", dialogs.Markup));
        Assert.Single(ctx.JSInterop.Invocations["rosetta.uploadFiles"]);

        // Replace: it goes up over the old one.
        picking = Pick(InputFileContent.CreateFromText("new", "notes.txt"));
        Answer("Replace");
        await picking.WaitAsync(TimeSpan.FromSeconds(30));
        page.WaitForAssertion(() => Assert.Equal(2, ctx.JSInterop.Invocations["rosetta.uploadFiles"].Count));
        Assert.Equal(["/api/v1/storages/personal/files?path=notes.txt"], Targets(1));
    }

    /// <summary>
    /// The link the browser gets carries the session's dashboard token (the API takes the session cookie
    /// only with it); the link without it, to compare.
    /// </summary>
    private static string WithDashboardToken(string? url)
    {
        var at = url!.IndexOf("&dashboardToken=", StringComparison.Ordinal);
        Assert.True(at > 0 && url.Length > at + "&dashboardToken=".Length + 20, $"no dashboard token in {url}");
        return url[..at];
    }
}
