using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using Rosetta.App.Components.Pages;
using Rosetta.Core.Domain;
using Rosetta.Core.Persistence;

namespace Rosetta.Tests.Components;

/// <summary>Adding and removing storages on the Files page, over the real storage service and its rules.</summary>
public sealed class StorageManagerTests
{
    private static string TextField(string test) => $"input[data-test={test}], [data-test={test}] input";

    private static IRenderedComponent<Files> OpenManager(DashboardTestContext ctx)
    {
        var page = ctx.Render<Files>();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-test=storage]")));
        page.Find("[data-test=manage-storages]").Click();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-test=storage-row]")));
        page.Find("[data-test=add-storage]").Click();
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-test=storage-form]")));
        // The form's fields can render a moment after the form itself (seen once under a loaded CI run).
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll(TextField("s-name"))));
        return page;
    }

    [Fact]
    public async Task AUserGetsCoresMessagesOnTheFieldsAndCannotAddHostFoldersOrStoragesForEveryone()
    {
        await using var ctx = new DashboardTestContext();
        FilesPageTests.PersonalFolder(ctx);
        var page = OpenManager(ctx);
        // Only sftp storages, on SSH resources of their own (they have none yet), never for everyone.
        Assert.Empty(page.FindAll("[data-test=s-platform-wide]"));
        Assert.Contains("Add an SSH resource of your own", page.Find("[data-test=storage-form]").TextContent);
        // The platform-wide seeded storages are not theirs to change or remove.
        Assert.Empty(page.FindAll("[data-test=delete-storage]"));
        Assert.Empty(page.FindAll("[data-test=edit-storage]"));

        page.Find(TextField("s-name")).Change("Cluster data");
        page.Find(TextField("s-base")).Change("data/$USER");
        page.Find(TextField("s-bind")).Change("/etc/data");
        page.Find("[data-test=s-save]").Click();
        page.WaitForAssertion(() =>
        {
            var form = page.Find("[data-test=storage-form]").TextContent;
            Assert.Contains("must be an absolute path", form);
            Assert.Contains("would hide the container's own /etc", form);
            Assert.Contains("is required for sftp storages", form);
        });
        await using var db = await ctx.Services.GetRequiredService<IDbContextFactory<RosettaDbContext>>().CreateDbContextAsync();
        Assert.Equal(["personal", "shared"], await db.Storages.OrderBy(s => s.Id).Select(s => s.Id).ToListAsync());
    }

    [Fact]
    public async Task AnAdminAddsAFolderForEveryoneSeesItToBrowseAndRemovesItAfterConfirming()
    {
        await using var ctx = new DashboardTestContext(admin: true);
        FilesPageTests.PersonalFolder(ctx);
        var archive = Path.Combine(Path.GetTempPath(), "rosetta-bunit-archive", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(archive);
        File.WriteAllText(Path.Combine(archive, "2025.csv"), "ra,dec");
        var dialogs = ctx.Render<MudDialogProvider>();
        var page = OpenManager(ctx);

        page.Find(TextField("s-name")).Change("Archive");
        page.Find(TextField("s-base")).Change(archive);
        page.Find(TextField("s-bind")).Change("/storages/archive");
        page.Find(TextField("s-platform-wide")).Change(true);
        page.Find("[data-test=s-save]").Click();
        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-test=storage-form]")));
        await using (var db = await ctx.Services.GetRequiredService<IDbContextFactory<RosettaDbContext>>().CreateDbContextAsync())
        {
            var added = await db.Storages.SingleAsync(s => s.Name == "Archive");
            Assert.Null(added.OwnerId);
            Assert.Equal(archive, added.BasePath);
        }

        // The list names the resource it lives on (not its id).
        Assert.Equal("Local Docker engine", page.FindAll("[data-test=storage-row]").Single(r => r.TextContent.Contains("Archive")).QuerySelector("[data-test=storage-computing]")!.TextContent);

        // It is a chip to browse right away.
        ClickFresh(page, () => page.FindAll("[data-test=storage]").Single(c => c.TextContent.Contains("Archive")));
        page.WaitForAssertion(() => Assert.Equal(["2025.csv"], FilesPageTests.Names(page)));

        // The same bind path again is Core's conflict, shown above the form.
        page.Find("[data-test=add-storage]").Click();
        page.Find(TextField("s-name")).Change("Archive 2");
        page.Find(TextField("s-base")).Change(archive);
        page.Find(TextField("s-bind")).Change("/storages/archive");
        page.Find("[data-test=s-save]").Click();
        page.WaitForAssertion(() => Assert.Contains("/storages/archive", page.Find("[data-test=storage-form-error]").TextContent));
        ClickFresh(page, () => page.FindAll("[data-test=storage-form] button").First(b => b.TextContent.Trim() == "Cancel"));

        // Removing asks first; its files stay; the page falls back to another storage.
        ClickFresh(page, () => page.FindAll("[data-test=storage-row]").Single(r => r.TextContent.Contains("Archive")).QuerySelector("[data-test=delete-storage]")!);
        dialogs.WaitForAssertion(() => Assert.Contains("Remove the storage 'Archive'?", dialogs.Markup));
        ClickFresh(dialogs, () => dialogs.FindAll("button").First(b => b.TextContent.Trim() == "Cancel"));
        Assert.Contains(page.FindAll("[data-test=storage-row]"), r => r.TextContent.Contains("Archive"));
        ClickFresh(page, () => page.FindAll("[data-test=storage-row]").Single(r => r.TextContent.Contains("Archive")).QuerySelector("[data-test=delete-storage]")!);
        dialogs.WaitForAssertion(() => Assert.Contains("Remove the storage 'Archive'?", dialogs.Markup));
        ClickFresh(dialogs, () => dialogs.FindAll("button").First(b => b.TextContent.Trim() == "Remove"));
        page.WaitForAssertion(() => Assert.DoesNotContain(page.FindAll("[data-test=storage]"), c => c.TextContent.Contains("Archive")));
        Assert.DoesNotContain(page.FindAll("[data-test=storage-row]"), r => r.TextContent.Contains("Archive"));
        page.WaitForAssertion(() => Assert.Equal(["data", "notes.txt"], FilesPageTests.Names(page)));
        Assert.True(File.Exists(Path.Combine(archive, "2025.csv")));
        Directory.Delete(archive, recursive: true);
    }

    [Fact]
    public async Task AnAdminEditsAStorageWhatItIsStaysAndBadValuesLandOnTheirFields()
    {
        await using var ctx = new DashboardTestContext(admin: true);
        FilesPageTests.PersonalFolder(ctx);
        var page = OpenManager(ctx);
        ClickFresh(page, () => page.FindAll("[data-test=storage-form] button").First(b => b.TextContent.Trim() == "Cancel"));

        page.FindAll("[data-test=storage-row]").Single(r => r.GetAttribute("data-storage") == "shared").QuerySelector("[data-test=edit-storage]")!.Click();
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-test=storage-form]")));
        Assert.Equal("Shared", page.Find(TextField("s-name")).GetAttribute("value"));
        // Kind, resource and owner are what the storage is: shown, not editable.
        Assert.All(["s-kind", "s-computing"], field => Assert.Equal("true", page.Find($"[data-test={field}]").GetAttribute("aria-disabled")));

        page.Find(TextField("s-bind")).Change("/proc/shared");
        page.Find("[data-test=s-save]").Click();
        page.WaitForAssertion(() => Assert.Contains("would hide the container's own /proc", page.Find("[data-test=storage-form]").TextContent));

        page.Find(TextField("s-name")).Change("Team data");
        page.Find(TextField("s-bind")).Change("/storages/team");
        page.Find(TextField("s-readonly")).Change(true);
        page.Find("[data-test=s-save]").Click();
        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-test=storage-form]")));
        await using var db = await ctx.Services.GetRequiredService<IDbContextFactory<RosettaDbContext>>().CreateDbContextAsync();
        var shared = await db.Storages.SingleAsync(s => s.Id == "shared");
        Assert.Equal(("Team data", "/storages/team", true), (shared.Name, shared.BindPath, shared.ReadOnly));
        Assert.Null(shared.OwnerId);
        page.WaitForAssertion(() => Assert.Contains(page.FindAll("[data-test=storage]"), c => c.TextContent.Contains("Team data (read-only)")));
    }

    [Fact]
    public async Task AUserAddsAnSftpStorageOnTheirOwnSshHostAndRemovesIt()
    {
        await using var ctx = new DashboardTestContext();
        FilesPageTests.PersonalFolder(ctx);
        await using (var db = await ctx.Services.GetRequiredService<IDbContextFactory<RosettaDbContext>>().CreateDbContextAsync())
        {
            db.Computing.Add(new ComputingResource { Id = "c-mine", Name = "My host", Kind = ComputingKind.Ssh, Host = "127.0.0.1", Username = "me", OwnerId = DashboardTestContext.UserId });
            db.Computing.Add(new ComputingResource { Id = "c-theirs", Name = "Their host", Kind = ComputingKind.Ssh, Host = "127.0.0.1", Username = "them", OwnerId = "user-2" });
            await db.SaveChangesAsync();
        }
        var dialogs = ctx.Render<MudDialogProvider>();
        var page = OpenManager(ctx);
        // Their own SSH host is chosen for them; nobody else's is offered.
        Assert.DoesNotContain("Add an SSH resource of your own", page.Find("[data-test=storage-form]").TextContent);
        Assert.DoesNotContain("Their host", page.Markup);

        page.Find(TextField("s-name")).Change("Cluster data");
        page.Find(TextField("s-base")).Change("/home/$SSH_USER/data");
        page.Find(TextField("s-bind")).Change("/storages/cluster");
        page.Find("[data-test=s-save]").Click();
        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-test=storage-form]")));
        var row = page.FindAll("[data-test=storage-row]").Single(r => r.TextContent.Contains("Cluster data"));
        Assert.Contains("sftp · My host", row.TextContent);
        Assert.Contains("yours", row.TextContent);
        await using (var db = await ctx.Services.GetRequiredService<IDbContextFactory<RosettaDbContext>>().CreateDbContextAsync())
            Assert.Equal(DashboardTestContext.UserId, (await db.Storages.SingleAsync(s => s.Name == "Cluster data")).OwnerId);

        // Their own storage is theirs to remove (the platform's are not).
        Assert.Single(page.FindAll("[data-test=delete-storage]"));
        page.Find("[data-test=delete-storage]").Click();
        dialogs.WaitForAssertion(() => Assert.Contains("Remove the storage 'Cluster data'?", dialogs.Markup));
        ClickFresh(dialogs, () => dialogs.FindAll("button").First(b => b.TextContent.Trim() == "Remove"));
        page.WaitForAssertion(() => Assert.DoesNotContain(page.FindAll("[data-test=storage-row]"), r => r.TextContent.Contains("Cluster data")));
    }

    /// <summary>
    /// An admin sees a user's own sftp storage as that user's, and may remove it, but not change it: that would act
    /// through the user's login (refused by the service, which once ended the page's circuit).
    /// </summary>
    [Fact]
    public async Task AnAdminSeesWhoseAUsersSftpStorageIsAndMayRemoveButNotChangeIt()
    {
        await using var ctx = new DashboardTestContext(admin: true);
        await ctx.EnsureUserAsync("user-2", "bob");
        FilesPageTests.PersonalFolder(ctx);
        await using (var db = await ctx.Services.GetRequiredService<IDbContextFactory<RosettaDbContext>>().CreateDbContextAsync())
        {
            db.Computing.Add(new ComputingResource { Id = "c-bobs", Name = "Bob's host", Kind = ComputingKind.Ssh, Host = "127.0.0.1", Username = "bob", OwnerId = "user-2" });
            db.Storages.Add(new Storage { Id = "bobs-data", Name = "Bob's data", Kind = StorageKind.Sftp, ComputingId = "c-bobs", BasePath = "/data", BindPath = "/storages/data", OwnerId = "user-2" });
            await db.SaveChangesAsync();
        }
        var page = OpenManager(ctx);
        ClickFresh(page, () => page.FindAll("[data-test=storage-form] button").First(b => b.TextContent.Trim() == "Cancel"));
        AngleSharp.Dom.IElement Row() => page.FindAll("[data-test=storage-row]").Single(r => r.TextContent.Contains("Bob's data"));
        page.WaitForAssertion(() => Assert.Contains("bob's", Row().TextContent));
        Assert.DoesNotContain("yours", Row().TextContent);
        Assert.Null(Row().QuerySelector("[data-test=edit-storage]"));
        Assert.NotNull(Row().QuerySelector("[data-test=delete-storage]"));
    }

    /// <summary>
    /// A resource a user adds comes with their home there, browsable but not bound into tasks (it holds the
    /// login's SSH keys) until they switch that on, warned of what it means.
    /// </summary>
    [Fact]
    public async Task AUsersHomeStorageIsBoundIntoTasksOnlyOnceTheySwitchItOnWarned()
    {
        await using var ctx = new DashboardTestContext();
        FilesPageTests.PersonalFolder(ctx);
        var caller = new Caller(DashboardTestContext.UserId, IsAdmin: false);
        await ctx.Services.GetRequiredService<Rosetta.Core.Catalogue.ComputingService>().AddAsync(caller,
            new Rosetta.Core.Catalogue.ComputingDraft(null, "My host", "ssh", "127.0.0.1", 22, "me", null, null, null), CancellationToken.None);
        var page = OpenManager(ctx);
        ClickFresh(page, () => page.FindAll("[data-test=storage-form] button").First(b => b.TextContent.Trim() == "Cancel"));
        AngleSharp.Dom.IElement Row() => page.FindAll("[data-test=storage-row]").Single(r => r.TextContent.Contains("Home on My host"));
        page.WaitForAssertion(() => Assert.Contains("yours, not bound into tasks", Row().TextContent));
        Assert.DoesNotContain("/storages/home", Row().TextContent);

        ClickFresh(page, () => Row().QuerySelector("[data-test=edit-storage]")!);
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-test=storage-form]")));
        Assert.Equal("$HOME", page.Find(TextField("s-base")).GetAttribute("value"));
        Assert.Empty(page.FindAll("[data-test=s-home-bound]"));
        page.Find(TextField("s-bound")).Change(true);
        page.WaitForAssertion(() => Assert.Contains("can read them and log in as you", page.Find("[data-test=s-home-bound]").TextContent));
        // A folder of the home is not the whole home: no warning.
        page.Find(TextField("s-base")).Change("$HOME/data");
        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-test=s-home-bound]")));
        page.Find(TextField("s-base")).Change("$HOME");
        page.Find("[data-test=s-save]").Click();
        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-test=storage-form]")));
        page.WaitForAssertion(() => Assert.DoesNotContain("not bound", Row().TextContent));
        Assert.Contains("/storages/home", Row().TextContent);
        await using var db = await ctx.Services.GetRequiredService<IDbContextFactory<RosettaDbContext>>().CreateDbContextAsync();
        Assert.True((await db.Storages.SingleAsync(s => s.Name == "Home on My host")).Bound);
    }

    /// <summary>
    /// Finds and clicks together, again after the next render when the page re-rendered in between (it
    /// refreshes its lists asynchronously): the element found before would carry a stale handler.
    /// </summary>
    private static void ClickFresh<T>(IRenderedComponent<T> page, Func<AngleSharp.Dom.IElement> find) where T : Microsoft.AspNetCore.Components.IComponent =>
        page.WaitForAssertion(() => find().Click());
}
