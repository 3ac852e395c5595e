using Bunit;
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
    private static string PersonalFolder(DashboardTestContext ctx)
    {
        var db = ctx.Services.GetRequiredService<IDbContextFactory<RosettaDbContext>>().CreateDbContext();
        db.Users.Add(new RosettaUser { Id = DashboardTestContext.UserId, UserName = "alice", NormalizedUserName = "ALICE" });
        db.SaveChanges();
        var folder = Path.Combine(ctx.Services.GetRequiredService<IOptions<StorageOptions>>().Value.Root, "users", "alice");
        Directory.CreateDirectory(Path.Combine(folder, "data"));
        File.WriteAllText(Path.Combine(folder, "data", "a.txt"), "a");
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "notes");
        return folder;
    }

    private static List<string> Names(IRenderedComponent<Files> page) =>
        page.FindAll("[data-test=entry-name]").Select(e => e.TextContent.Trim()).ToList();

    [Fact]
    public async Task BrowsesWithBreadcrumbsAndManagesFiles()
    {
        await using var ctx = new DashboardTestContext();
        var folder = PersonalFolder(ctx);
        var dialogs = ctx.Render<MudDialogProvider>();
        var page = ctx.Render<Files>();
        page.WaitForAssertion(() => Assert.Equal(["data", "notes.txt"], Names(page)));
        Assert.Equal("/api/v1/storages/personal/download?path=notes.txt", page.FindAll("[data-test=download]")[1].GetAttribute("href"));

        // Into a folder and back through the breadcrumbs.
        page.Find("[data-test=entry-name]").Click();
        page.WaitForAssertion(() => Assert.Equal(["a.txt"], Names(page)));
        Assert.Equal(["Personal", "data"], page.FindAll("[data-test=crumb]").Select(c => c.TextContent.Trim()));
        page.FindAll("[data-test=crumb]")[0].Click();
        page.WaitForAssertion(() => Assert.Equal(["data", "notes.txt"], Names(page)));

        // A new folder; a hostile name is refused with Core's message and creates nothing.
        page.Find("input[data-test=new-folder-name], [data-test=new-folder-name] input").Change("results");
        page.Find("[data-test=new-folder]").Click();
        page.WaitForAssertion(() => Assert.Equal(["data", "results", "notes.txt"], Names(page)));
        Assert.True(Directory.Exists(Path.Combine(folder, "results")));
        page.Find("input[data-test=new-folder-name], [data-test=new-folder-name] input").Change("../escape");
        page.Find("[data-test=new-folder]").Click();
        page.WaitForAssertion(() => Assert.Contains("'/'", page.Find("[data-test=files-error]").TextContent));
        Assert.False(Directory.Exists(Path.Combine(folder, "..", "escape")));

        // Rename in place.
        page.FindAll("[data-test=rename]")[2].Click();
        page.Find("input[data-test=rename-name], [data-test=rename-name] input").Change("renamed.txt");
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

        // Upload into the current folder.
        page.FindAll("[data-test=entry-name]")[1].Click();
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-test=empty]")));
        page.FindComponent<InputFile>().UploadFiles(InputFileContent.CreateFromText("spectrum", "up.txt"));
        page.WaitForAssertion(() => Assert.Equal(["up.txt"], Names(page)));
        Assert.Equal("spectrum", File.ReadAllText(Path.Combine(folder, "results", "up.txt")));
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
        Assert.Single(page.FindAll("[data-test=download]"));
        Directory.Delete(reference, recursive: true);
    }
}
