using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.EntityFrameworkCore;
using Rosetta.Core.Persistence;
using Rosetta.App.Components.Controls;
using Rosetta.App.Components.Pages;
using Rosetta.Core.Backends;
using Rosetta.Core.Domain;

namespace Rosetta.Tests.Components;

/// <summary>Pages rendered with bUnit against the real monitor and services (fake backend).</summary>
public sealed class PageTests
{
    [Fact]
    public async Task TasksPage_SubscribesOnLoad_ShowsLiveChangesAndRemovesDeletedTasks()
    {
        await using var ctx = new DashboardTestContext();
        var running = await ctx.AddTaskAsync("analysis", TaskState.Running);
        await ctx.AddTaskAsync("someone else's", TaskState.Running, ownerId: "user-2");
        var page = ctx.Render<Home>();

        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-test=task-name]")));
        Assert.Contains("analysis", page.Find("[data-test=task-name]").TextContent);
        Assert.Equal("running", page.Find(".status-chip").GetAttribute("data-status"));

        // A change from the backend arrives through the subscription, without a reload.
        await ctx.SetStatusAsync(running.Id, TaskState.Exited);
        page.WaitForAssertion(() => Assert.Equal("exited", page.Find(".status-chip").GetAttribute("data-status")));

        var added = await ctx.AddTaskAsync("second", TaskState.Starting);
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-test=task-name]").Count));

        // Deleted elsewhere (another tab, the API): gone here.
        await ctx.Monitor.RemoveAsync(added, CancellationToken.None);
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-test=task-name]")));
    }

    [Fact]
    public async Task TasksPage_WithAThousandTasksRendersOnlyTheRowsInView()
    {
        await using var ctx = new DashboardTestContext();
        for (var i = 0; i < 1000; i++) await ctx.AddTaskAsync($"task {i:D4}", TaskState.Stopped);
        var page = ctx.Render<Home>();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-test=task-name]")));
        var rendered = page.FindAll("[data-test=task-name]").Count;
        Assert.True(rendered < 200, $"{rendered} of 1,000 rows were rendered");
    }

    [Fact]
    public async Task TasksPage_EnablesOnlyTheActionsThatMakeSense()
    {
        await using var ctx = new DashboardTestContext();
        await ctx.AddTaskAsync("stopped one", TaskState.Stopped);
        var page = ctx.Render<Home>();
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-test=task-name]")));
        Assert.True(page.Find("[data-test=connect]").HasAttribute("disabled"));
        Assert.True(page.Find("[data-test=stop]").HasAttribute("disabled"));
        Assert.False(page.Find("[data-test=delete]").HasAttribute("disabled"));
    }

    /// <summary>A delete that cannot reach the task's resource says so, and offers to delete the task without it.</summary>
    [Fact]
    public async Task TaskDetail_DeletesATaskWithoutAResourceThatCannotBeReachedAfterAsking()
    {
        await using var ctx = new DashboardTestContext();
        var task = await ctx.AddTaskAsync("on a gone host", TaskState.Stopped);
        ctx.Backend.Removing = _ => Task.FromException(new Rosetta.Core.Backends.BackendUnavailableException("127.0.0.1:2299 refused the connection."));
        var dialogs = ctx.Render<MudBlazor.MudDialogProvider>();
        var page = ctx.Render<TaskDetail>(p => p.Add(x => x.Id, task.Id));
        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-test=delete-anyway]")));

        page.Find("[data-test=delete]").Click();
        dialogs.WaitForAssertion(() => dialogs.FindAll("button").First(b => b.TextContent.Trim() == "Delete").Click());
        page.WaitForAssertion(() => page.Find("[data-test=delete-anyway]"));
        Assert.NotNull(ctx.Monitor.Get(task.Id));
        Assert.Contains(ctx.Services.GetRequiredService<MudBlazor.ISnackbar>().ShownSnackbars, s => s.Message?.Contains("the task stays") == true);

        page.Find("[data-test=delete-anyway]").Click();
        dialogs.WaitForAssertion(() => Assert.Contains("cannot be reached. Delete 'on a gone host' without it?", dialogs.Markup));
        dialogs.FindAll("button").First(b => b.TextContent.Trim() == "Delete anyway").Click();
        page.WaitForAssertion(() => Assert.Null(ctx.Monitor.Get(task.Id)), TimeSpan.FromSeconds(20));
    }

    /// <summary>A stop that failed says so on the task and asks to stop again: the button is there for it.</summary>
    [Fact]
    public async Task TaskDetail_StopsAgainATaskWhoseStopFailed()
    {
        await using var ctx = new DashboardTestContext();
        var task = await ctx.AddTaskAsync("stuck", TaskState.Running);
        await ctx.Monitor.UpdateAsync(task.Id, t => { t.Status = TaskState.Stopping; t.StatusDetail = "The stop failed: the engine timed out. Stop the task again to retry."; return true; });
        var dialogs = ctx.Render<MudBlazor.MudDialogProvider>();
        var page = ctx.Render<TaskDetail>(p => p.Add(x => x.Id, task.Id));
        page.WaitForAssertion(() => Assert.Equal("Stop again", page.Find("[data-test=stop]").TextContent.Trim()));
        Assert.False(page.Find("[data-test=stop]").HasAttribute("disabled"));
        await page.InvokeAsync(() => page.Find("[data-test=stop]").Click());
        dialogs.WaitForAssertion(() => Assert.Contains("Try again to stop 'stuck'? The stop failed: the engine timed out.", dialogs.Markup));
        await dialogs.InvokeAsync(() => dialogs.FindAll("button").First(b => b.TextContent.Trim() == "Stop").Click());
        page.WaitForAssertion(() => Assert.Equal(TaskState.Stopped, ctx.Monitor.Get(task.Id)!.Status));
    }

    [Fact]
    public async Task TasksPage_StopsAndDeletesOnlyAfterSayingWhatGoes()
    {
        await using var ctx = new DashboardTestContext();
        var notebook = await ctx.AddTaskAsync("notebook", TaskState.Running);
        var dialogs = ctx.Render<MudBlazor.MudDialogProvider>();
        var page = ctx.Render<Home>();
        page.WaitForAssertion(() => page.Find("[data-test=stop]").Click());
        dialogs.WaitForAssertion(() => Assert.Contains("save open work first", dialogs.Markup));
        dialogs.Find("button:not(.mud-button-filled)").Click(); // Cancel
        dialogs.WaitForAssertion(() => Assert.DoesNotContain("save open work first", dialogs.Markup));
        Assert.Equal(TaskState.Running, ctx.Monitor.Get(notebook.Id)!.Status);

        page.Find("[data-test=stop]").Click();
        dialogs.WaitForAssertion(() => dialogs.FindAll("button").First(b => b.TextContent.Trim() == "Stop").Click());
        page.WaitForAssertion(() => Assert.Equal("stopped", page.Find(".status-chip").GetAttribute("data-status")));

        page.Find("[data-test=delete]").Click();
        dialogs.WaitForAssertion(() => Assert.Contains("outside its storages (its home folder included) go with it", dialogs.Markup));
    }

    [Fact]
    public async Task TasksPage_ShowsAnAdminWhoseTasksTheyAreByName()
    {
        await using var ctx = new DashboardTestContext(admin: true);
        await using (var db = await ctx.Services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<Rosetta.Core.Persistence.RosettaDbContext>>().CreateDbContextAsync())
        {
            db.Users.Add(new RosettaUser { Id = "user-2-with-a-long-id", UserName = "bob", NormalizedUserName = "BOB" });
            await db.SaveChangesAsync();
        }
        await ctx.AddTaskAsync("bob's analysis", TaskState.Running, ownerId: "user-2-with-a-long-id");
        await ctx.AddTaskAsync("mine", TaskState.Running);
        var page = ctx.Render<Home>();
        page.WaitForAssertion(() => Assert.Equal(["bob", "you"], page.FindAll("td[data-label=Owner]").Select(c => c.TextContent.Trim()).Order()));
    }

    [Fact]
    public async Task TasksPage_FiltersByStatusAndName()
    {
        await using var ctx = new DashboardTestContext();
        await ctx.AddTaskAsync("alpha notebook", TaskState.Running);
        await ctx.AddTaskAsync("beta desktop", TaskState.Failed);
        var page = ctx.Render<Home>();
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-test=task-name]").Count));
        page.Find("input[data-test=filter], [data-test=filter] input").Input("beta");
        page.WaitForAssertion(() => Assert.Contains("beta", Assert.Single(page.FindAll("[data-test=task-name]")).TextContent));
    }

    [Fact]
    public async Task TasksPage_NamesSoftwareAndComputingAsTheirUsersDid_AlsoEntriesAddedLater_AndIdsOfRemovedOnes()
    {
        await using var ctx = new DashboardTestContext();
        var caller = new Caller(DashboardTestContext.UserId, IsAdmin: false);
        var catalogue = ctx.Services.GetRequiredService<Rosetta.Core.Catalogue.SoftwareService>();
        await ctx.AddTaskAsync("bundled", TaskState.Running);
        await catalogue.AddAsync(caller, Draft("gone-app", "Gone app"), platformWide: false, CancellationToken.None);
        await ctx.AddTaskAsync("from a removed image", TaskState.Exited, softwareId: "gone-app");
        Assert.True(await catalogue.DeleteAsync(caller, "gone-app", CancellationToken.None));
        var page = ctx.Render<Home>();
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-test=task-name]").Count));
        Assert.Equal(["gone-app", "Hello"], Cells(page, "Software"));
        Assert.Equal(["Local Docker engine", "Local Docker engine"], Cells(page, "Computing"));

        // Software and a host added after the page opened, and a task on them: named too.
        await catalogue.AddAsync(caller, Draft("astro-lab", "Astro lab"), platformWide: false, CancellationToken.None);
        await using (var db = await ctx.Services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<Rosetta.Core.Persistence.RosettaDbContext>>().CreateDbContextAsync())
        {
            db.Computing.Add(new ComputingResource { Id = "c-0badcafe", Name = "Lab workstation", Kind = ComputingKind.Ssh, Host = "127.0.0.1", Port = 22, Username = "u", OwnerId = DashboardTestContext.UserId });
            await db.SaveChangesAsync();
        }
        await ctx.AddTaskAsync("new one", TaskState.Starting, softwareId: "astro-lab", computingId: "c-0badcafe");
        page.WaitForAssertion(() => Assert.Equal(["Astro lab", "gone-app", "Hello"], Cells(page, "Software")));
        Assert.Equal("Lab workstation", Cells(page, "Computing")[0]);

        // The filter goes by the names shown.
        page.Find("input[data-test=filter], [data-test=filter] input").Input("workstation");
        page.WaitForAssertion(() => Assert.Contains("new one", Assert.Single(page.FindAll("[data-test=task-name]")).TextContent));
    }

    private static Rosetta.Core.Catalogue.SoftwareDraft Draft(string id, string name) =>
        new(id, name, null, "rosetta/hello", null, null, 8080, "http", null, null, null, null, null);

    /// <summary>The texts of one column, newest task first.</summary>
    private static List<string> Cells(IRenderedComponent<Home> page, string column) =>
        page.FindAll($"td[data-label={column}]").Select(c => c.TextContent.Trim()).ToList();

    [Fact]
    public async Task TaskDetail_ShowsFactsErrorAndLiveStatus()
    {
        await using var ctx = new DashboardTestContext();
        ctx.Backend.Logs.Add(new LogLine(null, LogStream.Stdout, "\u001b[32mready\u001b[0m"));
        var task = await ctx.AddTaskAsync("nb", TaskState.Running);
        var page = ctx.Render<TaskDetail>(p => p.Add(x => x.Id, task.Id));
        page.WaitForAssertion(() => Assert.Contains("nb", page.Find("[data-test=task-title]").TextContent));
        Assert.Equal(("Hello", "Local Docker engine"), (page.Find("[data-test=software]").TextContent, page.Find("[data-test=computing]").TextContent));
        // ANSI colours become classes, never markup.
        page.WaitForAssertion(() => Assert.Equal("ready", page.Find("[data-test=log-view] .ansi-fg-2").TextContent));

        await ctx.SetStatusAsync(task.Id, TaskState.Failed, error: "The container exited with code 3.");
        page.WaitForAssertion(() => Assert.Contains("exited with code 3", page.Find("[data-test=task-error]").TextContent));
        Assert.True(page.Find("[data-test=stop]").HasAttribute("disabled"));
    }

    [Fact]
    public async Task TaskDetail_KeepsShowingWhatTheBackendSaidWhileTheTaskRuns()
    {
        await using var ctx = new DashboardTestContext();
        var task = await ctx.AddTaskAsync("nb", TaskState.Running);
        var page = ctx.Render<TaskDetail>(p => p.Add(x => x.Id, task.Id));
        page.WaitForAssertion(() => Assert.Contains("nb", page.Find("[data-test=task-title]").TextContent));
        Assert.Empty(page.FindAll("[data-test=status-detail]"));

        const string warning = "setfacl is not installed on 127.0.0.1: install the acl package on 127.0.0.1 so tasks can write into storages.";
        await ctx.Monitor.UpdateAsync(task.Id, t => { t.StatusDetail = warning; return true; });
        page.WaitForAssertion(() => Assert.Equal(warning, page.Find("[data-test=status-detail]").TextContent.Trim()));
    }

    /// <summary>A prerendered page is thrown away: its log view does not start reading the output (an engine follow, a remote tail).</summary>
    [Fact]
    public async Task LogViewer_ReadsNothingWhilePrerendered()
    {
        await using var ctx = new DashboardTestContext();
        ctx.Backend.Logs.Add(new LogLine(null, LogStream.Stdout, "hello"));
        var task = await ctx.AddTaskAsync("prerendered", TaskState.Running);
        ctx.Renderer.SetRendererInfo(new Microsoft.AspNetCore.Components.RendererInfo("Static", isInteractive: false));
        ctx.Render<LogViewer>(p => p.Add(x => x.Task, task));
        await Task.Delay(300);
        Assert.Equal(0, ctx.Backend.LogReads);
    }

    /// <summary>At most so many lines, and (for long lines) so much text: the newest are kept, and the view says how many it dropped.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task LogViewer_KeepsAtMostItsCapOfNewestLinesInView(bool longLines)
    {
        await using var ctx = new DashboardTestContext();
        var padding = longLines ? new string('x', 1_000) : "";
        ctx.Backend.Logs.AddRange(Enumerable.Range(1, 1_500).Select(i => new LogLine(null, LogStream.Stdout, $"line {i} ünï{padding}")));
        var task = await ctx.AddTaskAsync("chatty", TaskState.Running);
        // Long lines: the text cap (some 100 of them) comes before the count cap.
        var viewer = ctx.Render<LogViewer>(p => p.Add(x => x.Task, task).Add(x => x.MaxLines, 1_000).Add(x => x.MaxBytes, longLines ? 100_000 : LogViewer.DefaultMaxBytes));
        // Lines arrive in batches, so where the cut falls varies; the invariants do not.
        (int Shown, int Dropped) counts = default;
        viewer.WaitForAssertion(() =>
        {
            var match = System.Text.RegularExpressions.Regex.Match(viewer.Find("[data-test=log-count]").TextContent, @"^([\d,]+) lines \(oldest ([\d,]+) not shown");
            Assert.True(match.Success, viewer.Find("[data-test=log-count]").TextContent);
            counts = (int.Parse(match.Groups[1].Value.Replace(",", "")), int.Parse(match.Groups[2].Value.Replace(",", "")));
            Assert.Equal(1_500, counts.Shown + counts.Dropped);
        }, TimeSpan.FromSeconds(30));
        Assert.InRange(counts.Shown, 1, longLines ? 100 : 1_000);
        Assert.Contains($"line {counts.Dropped + 1} ünï", viewer.Find("[data-test=log-view]").TextContent); // the oldest kept, decoded as written
    }

    [Fact]
    public async Task LogViewer_FiltersAllItsLines_AlsoThoseThatArriveLater()
    {
        await using var ctx = new DashboardTestContext();
        ctx.Backend.Logs.AddRange(new[] { "starting", "ERROR: disk full", "working" }.Select(text => new LogLine(null, LogStream.Stdout, text)));
        var live = System.Threading.Channels.Channel.CreateUnbounded<LogLine>();
        ctx.Backend.LiveLogs = live;
        var task = await ctx.AddTaskAsync("chatty", TaskState.Running);
        var viewer = ctx.Render<LogViewer>(p => p.Add(x => x.Task, task));
        List<string> Shown() => viewer.FindAll("[data-test=log-view] .log-line").Select(l => l.TextContent).ToList();
        string Count() => viewer.Find("[data-test=log-count]").TextContent;
        viewer.WaitForAssertion(() => Assert.Equal(["starting", "ERROR: disk full", "working"], Shown()));

        await viewer.InvokeAsync(() => viewer.Find("input[data-test=log-filter], [data-test=log-filter] input").Input("error"));
        viewer.WaitForAssertion(() => Assert.Equal(["ERROR: disk full"], Shown()));
        Assert.Equal("1 of 3 lines match", Count());

        await live.Writer.WriteAsync(new LogLine(null, LogStream.Stderr, "an error again"));
        await live.Writer.WriteAsync(new LogLine(null, LogStream.Stdout, "done"));
        viewer.WaitForAssertion(() => Assert.Equal(["ERROR: disk full", "an error again"], Shown()));
        viewer.WaitForAssertion(() => Assert.Equal("2 of 5 lines match", Count()));

        await viewer.InvokeAsync(() => viewer.Find("input[data-test=log-filter], [data-test=log-filter] input").Input("nothing like it"));
        viewer.WaitForAssertion(() => Assert.Equal("No line has 'nothing like it' in it yet.", viewer.Find("[data-test=log-no-match]").TextContent));
        await viewer.InvokeAsync(() => viewer.Find("input[data-test=log-filter], [data-test=log-filter] input").Input(""));
        viewer.WaitForAssertion(() => Assert.Equal(["starting", "ERROR: disk full", "working", "an error again", "done"], Shown()));
        Assert.Equal("5 lines", Count());
    }

    [Fact]
    public async Task TaskDetail_SaysWhyTheOutputCannotBeReadAndTheTaskPageStays()
    {
        await using var ctx = new DashboardTestContext();
        const string reason = "The host key of 127.0.0.1:2322 is not the one pinned; trust the new key on the Computing page.";
        ctx.Backend.LogFailure = new BackendUnavailableException(reason);
        var task = await ctx.AddTaskAsync("remote", TaskState.Running);
        var page = ctx.Render<TaskDetail>(p => p.Add(x => x.Id, task.Id));
        // The page stays (the circuit used to end on this), with the reason where the output would be.
        page.WaitForAssertion(() => Assert.Contains(reason, page.Find("[data-test=log-unavailable]").TextContent));
        Assert.Equal("remote", page.Find("[data-test=task-title]").TextContent.Trim());
    }

    /// <summary>
    /// A task that prints nothing: once its resource answers again, the warning goes, with no line to bring that news.
    /// The same for an engine that cannot give the output for another reason (a log driver it cannot read back): said,
    /// and tried again, rather than the page's whole tab ending.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task LogViewer_DropsTheWarningOnceAQuietOutputCanBeReadAgain(bool unreachable)
    {
        await using var ctx = new DashboardTestContext();
        ctx.Backend.LogFailure = unreachable
            ? new BackendUnavailableException("Connection refused by 127.0.0.1:2322.")
            : new InvalidOperationException("Connection refused: the engine's log driver cannot be read.");
        var task = await ctx.AddTaskAsync("quiet", TaskState.Running);
        var page = ctx.Render<LogViewer>(p => p.Add(x => x.Task, task).Add(x => x.RetryDelay, TimeSpan.FromMilliseconds(50)));
        page.WaitForAssertion(() => Assert.Contains("Connection refused", page.Find("[data-test=log-unavailable]").TextContent));
        ctx.Backend.LiveLogs = System.Threading.Channels.Channel.CreateUnbounded<LogLine>(); // followed, and silent
        ctx.Backend.LogFailure = null;
        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-test=log-unavailable]")), TimeSpan.FromSeconds(30));
        Assert.Equal("Waiting for output…", page.Find("[data-test=log-view] .log-empty").TextContent);
    }

    [Fact]
    public async Task LogViewer_ReadsTheOutputAgainOnceItsResourceIsBackWithNoLineTwice()
    {
        await using var ctx = new DashboardTestContext();
        ctx.Backend.LogFailure = new BackendUnavailableException("Connection refused by 127.0.0.1:2322.");
        var task = await ctx.AddTaskAsync("remote", TaskState.Running);
        var page = ctx.Render<LogViewer>(p => p.Add(x => x.Task, task).Add(x => x.RetryDelay, TimeSpan.FromMilliseconds(50)));
        page.WaitForAssertion(() => Assert.Contains("Connection refused", page.Find("[data-test=log-unavailable]").TextContent));
        var live = System.Threading.Channels.Channel.CreateUnbounded<LogLine>();
        ctx.Backend.LiveLogs = live;
        ctx.Backend.Logs.AddRange(new[] { "one", "two" }.Select(text => new LogLine(null, LogStream.Stdout, text)));
        ctx.Backend.LogFailure = null;
        List<string> Shown() => page.FindAll("[data-test=log-view] .log-line").Select(l => l.TextContent).ToList();
        page.WaitForAssertion(() => Assert.Equal(["one", "two"], Shown()), TimeSpan.FromSeconds(30));
        Assert.Empty(page.FindAll("[data-test=log-unavailable]"));

        // Cut while following: said again, and read again from the start once back, with no line twice.
        ctx.Backend.LogFailure = new BackendUnavailableException("Connection refused by 127.0.0.1:2322.");
        live.Writer.Complete(new BackendUnavailableException("Connection refused by 127.0.0.1:2322."));
        page.WaitForAssertion(() => Assert.Contains("Connection refused", page.Find("[data-test=log-unavailable]").TextContent));
        ctx.Backend.LiveLogs = null;
        ctx.Backend.Logs.Add(new LogLine(null, LogStream.Stdout, "three"));
        ctx.Backend.LogFailure = null;
        page.WaitForAssertion(() => Assert.Equal(["one", "two", "three"], Shown()), TimeSpan.FromSeconds(30));
        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-test=log-unavailable]")));
    }

    [Fact]
    public async Task TaskDetail_CountsDownTheWalltimeAndWarnsBeforeTheEnd()
    {
        await using var ctx = new DashboardTestContext();
        var task = await ctx.AddTaskAsync("long job", TaskState.Running);
        await ctx.Monitor.UpdateAsync(task.Id, t => { t.Options = t.Options with { Walltime = "02:00:00" }; t.StartedAt = DateTime.UtcNow.AddMinutes(-30); return true; });
        var page = ctx.Render<TaskDetail>(p => p.Add(x => x.Id, task.Id));
        page.WaitForAssertion(() => Assert.Equal("1 h 29 min left of 02:00:00", page.Find("[data-test=walltime-left]").TextContent.Trim()));
        Assert.Empty(page.FindAll("[data-test=walltime-warning]"));

        // Five minutes before the end the page says so, live.
        await ctx.Monitor.UpdateAsync(task.Id, t => { t.StartedAt = DateTime.UtcNow.AddMinutes(-115); return true; });
        page.WaitForAssertion(() => Assert.Contains("reaches its walltime in 4 min", page.Find("[data-test=walltime-warning]").TextContent));
        Assert.Contains("walltime-near", page.Find("[data-test=walltime-left]").ClassName);

        await ctx.SetStatusAsync(task.Id, TaskState.Exited);
        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-test=walltime-warning]")));
    }

    [Fact]
    public async Task TaskDetail_CreatesAShareLinkShownOnceAndListsIt()
    {
        await using var ctx = new DashboardTestContext();
        var task = await ctx.AddTaskAsync("shared", TaskState.Running);
        var dialogs = ctx.Render<MudBlazor.MudDialogProvider>();
        var page = ctx.Render<TaskDetail>(p => p.Add(x => x.Id, task.Id));
        page.WaitForAssertion(() => page.Find("[data-test=share-create]"));
        // A name with a control character is refused on its field, and nothing is created.
        await page.InvokeAsync(() => page.Find("input[data-test=share-name], [data-test=share-name] input").Change("Anna\u0007"));
        await page.InvokeAsync(() => page.Find("[data-test=share-create]").Click());
        page.WaitForAssertion(() => Assert.Contains("must not contain control characters", page.Find("[data-test=shares]").TextContent));
        Assert.Empty(page.FindAll("[data-test=share-url]"));
        Assert.Empty(page.FindAll("[data-test=share-revoke]"));

        await page.InvokeAsync(() => page.Find("input[data-test=share-name], [data-test=share-name] input").Change("Anna's review"));
        await page.InvokeAsync(() => page.Find("[data-test=share-create]").Click());
        page.WaitForAssertion(() => Assert.Contains("/s/rss_", page.Find("[data-test=share-url]").TextContent));
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-test=share-revoke]")));
        Assert.Contains("Anna's review", page.Find("[data-test=shares] table").TextContent);
        // Asked first; Cancel leaves the link as it was.
        page.Find("[data-test=share-revoke]").Click();
        dialogs.WaitForAssertion(() => Assert.Contains("Revoke the link 'Anna's review'?", dialogs.Markup));
        dialogs.WaitForAssertion(() => dialogs.FindAll("button").First(b => b.TextContent.Trim() == "Cancel").Click());
        dialogs.WaitForAssertion(() => Assert.DoesNotContain("Revoke the link", dialogs.Markup));
        Assert.Single(page.FindAll("[data-test=share-revoke]"));
        Assert.Contains("/s/rss_", page.Find("[data-test=share-url]").TextContent);
        page.Find("[data-test=share-revoke]").Click();
        dialogs.WaitForAssertion(() => dialogs.FindAll("button").First(b => b.TextContent.Trim() == "Revoke").Click());
        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-test=share-revoke]")));
        Assert.Contains("revoked", page.Find("[data-test=shares]").TextContent);
        Assert.Empty(page.FindAll("[data-test=share-url]")); // no dead link left to copy
    }

    [Fact]
    public async Task TaskDetail_ShowsAnAdminAnotherUsersLinksToRevokeButNoWayToMakeOne()
    {
        await using var ctx = new DashboardTestContext(admin: true);
        var task = await ctx.AddTaskAsync("theirs", TaskState.Running, ownerId: "someone-else");
        var shares = ctx.Services.GetRequiredService<Rosetta.Core.Sharing.ShareLinkService>();
        var page = ctx.Render<TaskDetail>(p => p.Add(x => x.Id, task.Id));
        page.WaitForAssertion(() => Assert.Contains("There are none.", page.Find("[data-test=share-admin]").TextContent));
        Assert.Empty(page.FindAll("[data-test=share-create]"));
        Assert.Empty(page.FindAll("[data-test=share-name]"));

        await shares.CreateAsync(new Caller("someone-else", IsAdmin: false), task.Id, "leaked", TimeSpan.FromHours(1), viewOnly: false, CancellationToken.None);
        var dialogs = ctx.Render<MudBlazor.MudDialogProvider>();
        page = ctx.Render<TaskDetail>(p => p.Add(x => x.Id, task.Id));
        page.WaitForAssertion(() => page.Find("[data-test=share-revoke]").Click());
        dialogs.WaitForAssertion(() => dialogs.FindAll("button").First(b => b.TextContent.Trim() == "Revoke").Click());
        page.WaitForAssertion(() => Assert.Contains("revoked", page.Find("[data-test=shares]").TextContent));
        Assert.NotNull(Assert.Single((await shares.ListAsync(new Caller("someone-else", IsAdmin: false), task.Id, CancellationToken.None))!).RevokedAt);
    }

    [Fact]
    public async Task TaskDetail_ShowsAnSshTasksCommandAndItsPasswordOnlyWhenAskedAndHidesItAgain()
    {
        await using var ctx = new DashboardTestContext();
        var task = await ctx.AddTaskAsync("shell", TaskState.Running, softwareId: "ssh");
        var protector = ctx.Services.GetRequiredService<Rosetta.Core.Security.TaskSecrets>();
        await ctx.Monitor.UpdateAsync(task.Id, t =>
        {
            t.InterfaceProtocol = InterfaceProtocol.Ssh;
            t.ForwardedPort = 2201;
            t.ProtectedSecret = protector.Protect("the-task-password");
            return true;
        });
        var page = ctx.Render<TaskDetail>(p => p.Add(x => x.Id, task.Id));
        page.WaitForAssertion(() => Assert.Contains("ssh -p 2201 scientist@", page.Find("[data-test=ssh-command]").TextContent));
        Assert.DoesNotContain("the-task-password", page.Markup);

        page.Find("[data-test=reveal-secret]").Click();
        page.WaitForAssertion(() => Assert.Equal("the-task-password", page.Find("[data-test=secret]").TextContent));
        page.Find("[data-test=hide-secret]").Click();
        page.WaitForAssertion(() => Assert.DoesNotContain("the-task-password", page.Markup));
        Assert.Single(page.FindAll("[data-test=reveal-secret]"));
    }

    [Fact]
    public async Task TaskDetail_ShowsLiveHowManyConnectionsEachShareLinkHasOpen()
    {
        await using var ctx = new DashboardTestContext();
        var task = await ctx.AddTaskAsync("shared", TaskState.Running);
        var caller = new Caller(DashboardTestContext.UserId, IsAdmin: false);
        var shares = ctx.Services.GetRequiredService<Rosetta.Core.Sharing.ShareLinkService>();
        var watched = (await shares.CreateAsync(caller, task.Id, "class", TimeSpan.FromHours(1), viewOnly: false, CancellationToken.None))!.Link;
        await shares.CreateAsync(caller, task.Id, "unused", TimeSpan.FromHours(1), viewOnly: false, CancellationToken.None);
        var page = ctx.Render<TaskDetail>(p => p.Add(x => x.Id, task.Id));
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-test=share-revoke]").Count));
        Assert.Empty(page.FindAll("[data-test=share-connections]"));

        var connections = ctx.Services.GetRequiredService<Rosetta.Core.Sharing.ShareLinkConnections>();
        var first = connections.TryOpen(watched)!;
        page.WaitForAssertion(() => Assert.Equal("1 connection open", page.Find("[data-test=share-connections]").TextContent));
        using (connections.TryOpen(watched))
            page.WaitForAssertion(() => Assert.Equal("2 connections open", page.Find("[data-test=share-connections]").TextContent));
        page.WaitForAssertion(() => Assert.Equal("1 connection open", page.Find("[data-test=share-connections]").TextContent));
        Assert.Contains("class", page.Find("[data-test=share-connections]").Closest("tr")!.TextContent); // on the link's own row
        // Revoking it says what it ends; cancelled here.
        var dialogs = ctx.Render<MudBlazor.MudDialogProvider>();
        page.Find("[data-test=share-connections]").Closest("tr")!.QuerySelector("[data-test=share-revoke]")!.Click();
        dialogs.WaitForAssertion(() => Assert.Contains("Its 1 open connection ends at once.", dialogs.Markup));
        dialogs.WaitForAssertion(() => dialogs.FindAll("button").First(b => b.TextContent.Trim() == "Cancel").Click());
        first.Dispose();
        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-test=share-connections]")));
    }

    [Fact]
    public async Task TaskDetail_OffersViewOnlyLinksForDesktopsOnly()
    {
        await using var ctx = new DashboardTestContext();
        var web = await ctx.AddTaskAsync("web", TaskState.Running);
        var webPage = ctx.Render<TaskDetail>(p => p.Add(x => x.Id, web.Id));
        webPage.WaitForAssertion(() => webPage.Find("[data-test=share-create]"));
        Assert.Empty(webPage.FindAll("[data-test=share-view-only]"));

        var desktop = await ctx.AddTaskAsync("desk", TaskState.Running, softwareId: "desktop");
        await ctx.Monitor.UpdateAsync(desktop.Id, t => { t.ProxyAuthorizationScheme = Software.VncAuthorization; return true; });
        var page = ctx.Render<TaskDetail>(p => p.Add(x => x.Id, desktop.Id));
        page.WaitForAssertion(() => page.Find("[data-test=share-view-only]"));
        Assert.Contains("A view-only link shows the desktop", page.Find("[data-test=shares]").TextContent);
        // Said when the desktop has no view-only password of its own, and only then (live: a refusal takes it away).
        Assert.Contains("no view-only password", page.Find("[data-test=share-single-layer]").TextContent);
        await ctx.Monitor.UpdateAsync(desktop.Id, t => { t.HasViewOnlyPassword = true; return true; });
        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-test=share-single-layer]")));
        await ctx.Monitor.UpdateAsync(desktop.Id, t => { t.HasViewOnlyPassword = false; return true; });
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-test=share-single-layer]")));
        Assert.Empty(webPage.FindAll("[data-test=share-single-layer]"));
        await page.InvokeAsync(() => page.Find("input[data-test=share-view-only], [data-test=share-view-only] input").Change(true));
        await page.InvokeAsync(() => page.Find("input[data-test=share-name], [data-test=share-name] input").Change("audience"));
        await page.InvokeAsync(() => page.Find("[data-test=share-create]").Click());
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-test=share-view-only-chip]")));
        var link = Assert.Single((await ctx.Services.GetRequiredService<Rosetta.Core.Sharing.ShareLinkService>()
            .ListAsync(new Caller(DashboardTestContext.UserId, false), desktop.Id, CancellationToken.None))!);
        Assert.True(link.ViewOnly);
    }

    [Fact]
    public async Task TaskDetail_OfAnotherUsersTaskRevealsNothing()
    {
        await using var ctx = new DashboardTestContext();
        var theirs = await ctx.AddTaskAsync("private", TaskState.Running, ownerId: "user-2");
        var page = ctx.Render<TaskDetail>(p => p.Add(x => x.Id, theirs.Id));
        page.WaitForAssertion(() => Assert.Contains("no such task", page.Find("[data-test=task-missing]").TextContent));
        Assert.DoesNotContain("private", page.Markup);
    }

    /// <summary>A user's resource logs in with their key, as them: an admin is not offered it.</summary>
    [Fact]
    public async Task NewTaskWizard_OffersAnAdminNoOtherUsersResource()
    {
        await using var ctx = new DashboardTestContext(admin: true, moreBackends: [new DashboardTestContext.FakeBackend(ComputingKind.Ssh)]);
        await ctx.EnsureUserAsync("user-2", "bob");
        await using (var db = await ctx.Services.GetRequiredService<IDbContextFactory<RosettaDbContext>>().CreateDbContextAsync())
        {
            db.Computing.Add(new ComputingResource { Id = "c-bobs", Name = "Bob's host", Kind = ComputingKind.Ssh, Host = "127.0.0.1", Username = "bob", OwnerId = "user-2" });
            db.Computing.Add(new ComputingResource { Id = "c-mine", Name = "My host", Kind = ComputingKind.Ssh, Host = "127.0.0.1", Username = "me", OwnerId = DashboardTestContext.UserId });
            await db.SaveChangesAsync();
        }
        var page = ctx.Render<NewTask>();
        page.WaitForAssertion(() => page.Find("[data-test=software-hello]").Click());
        page.WaitForAssertion(() => page.Find("[data-test=computing-c-mine]"));
        Assert.NotEmpty(page.FindAll("[data-test=computing-local]"));
        Assert.Empty(page.FindAll("[data-test=computing-c-bobs]"));
    }

    [Fact]
    public async Task NewTaskWizard_ValidatesOptionsOnTheFieldWithTheServersRules()
    {
        await using var ctx = new DashboardTestContext();
        var page = ctx.Render<NewTask>();
        page.WaitForAssertion(() => page.Find("[data-test=software-hello]"));
        page.Find("[data-test=software-hello]").Click();
        page.WaitForAssertion(() => page.Find("[data-test=computing-local]"));
        page.Find("[data-test=computing-local]").Click();
        page.WaitForAssertion(() => page.Find("input[data-test=memory], [data-test=memory] input"));

        await page.InvokeAsync(() => page.Find("input[data-test=memory], [data-test=memory] input").Input("lots"));
        page.WaitForAssertion(() => Assert.Contains("is not a memory size", page.Markup), TimeSpan.FromSeconds(5));
        await page.InvokeAsync(() => page.Find("input[data-test=cpus], [data-test=cpus] input").Input("8"));
        page.WaitForAssertion(() => Assert.Contains("has 2", page.Markup), TimeSpan.FromSeconds(5));
        Assert.True(page.Find("[data-test=next]").HasAttribute("disabled"));

        await page.InvokeAsync(() => page.Find("input[data-test=memory], [data-test=memory] input").Input("1G"));
        await page.InvokeAsync(() => page.Find("input[data-test=cpus], [data-test=cpus] input").Input("1"));
        page.WaitForAssertion(() => Assert.False(page.Find("[data-test=next]").HasAttribute("disabled")), TimeSpan.FromSeconds(5));
    }

    /// <summary>The wizard from the keyboard: its choices can be focused, say what they are, and are picked with Enter or Space.</summary>
    [Fact]
    public async Task NewTaskWizard_IsUsableFromTheKeyboard()
    {
        await using var ctx = new DashboardTestContext();
        var page = ctx.Render<NewTask>();
        page.WaitForAssertion(() => page.Find("[data-test=software-hello]"));
        var hello = page.Find("[data-test=software-hello]");
        Assert.Equal("0", hello.GetAttribute("tabindex"));
        Assert.Equal("button", hello.GetAttribute("role"));
        Assert.StartsWith("Run Hello", hello.GetAttribute("aria-label"));
        await page.InvokeAsync(() => page.Find("[data-test=software-hello]").KeyDown(new Microsoft.AspNetCore.Components.Web.KeyboardEventArgs { Key = "Enter" }));
        page.WaitForAssertion(() => Assert.Equal("radio", page.Find("[data-test=computing-local]").GetAttribute("role")));
        Assert.Equal("false", page.Find("[data-test=computing-local]").GetAttribute("aria-checked"));
        await page.InvokeAsync(() => page.Find("[data-test=computing-local]").KeyDown(new Microsoft.AspNetCore.Components.Web.KeyboardEventArgs { Key = " " }));
        page.WaitForAssertion(() => page.Find("input[data-test=name], [data-test=name] input")); // on to the options
    }

    /// <summary>
    /// The software removed (in another tab) between its choice and the start: the wizard says so where the person
    /// looks, goes back to the choice, and no longer offers it; "correct the highlighted fields" with nothing
    /// highlighted told them nothing.
    /// </summary>
    [Fact]
    public async Task NewTaskWizard_SaysWhenTheChosenSoftwareWasRemovedMeanwhile()
    {
        await using var ctx = new DashboardTestContext();
        var page = ctx.Render<NewTask>();
        page.WaitForAssertion(() => page.Find("[data-test=software-hello]").Click());
        page.WaitForAssertion(() => page.Find("[data-test=computing-local]").Click());
        page.WaitForAssertion(() => Assert.False(page.Find("[data-test=next]").HasAttribute("disabled")));
        await page.InvokeAsync(() => page.Find("[data-test=next]").Click());
        page.WaitForAssertion(() => page.Find("[data-test=summary]"));
        await using (var db = await ctx.Services.GetRequiredService<IDbContextFactory<RosettaDbContext>>().CreateDbContextAsync())
            await db.Software.Where(s => s.Id == "hello").ExecuteDeleteAsync();

        await page.InvokeAsync(() => page.Find("[data-test=start]").Click());
        page.WaitForAssertion(() => Assert.Contains("hello", page.Find("[data-test=form-error]").TextContent));
        Assert.Empty(page.FindAll("[data-test=submit-error]"));
        Assert.Empty(page.FindAll("[data-test=software-hello]"));
        Assert.Empty(ctx.Monitor.Feed.Items);
    }

    /// <summary>
    /// A field left (Tab) before the typing pause ends is checked all the same: the wizard never goes on
    /// with a value nobody checked, and a mended value takes its message away.
    /// </summary>
    [Fact]
    public async Task NewTaskWizard_ChecksAFieldLeftBeforeTheTypingPause()
    {
        await using var ctx = new DashboardTestContext();
        var page = ctx.Render<NewTask>();
        page.WaitForAssertion(() => page.Find("[data-test=software-hello]").Click());
        page.WaitForAssertion(() => page.Find("[data-test=computing-local]").Click());
        page.WaitForAssertion(() => Assert.False(page.Find("[data-test=next]").HasAttribute("disabled")));

        // Typed and left at once (Tab), before the 200 ms pause that checks a field being typed in.
        async Task TypeAndLeaveAsync(string field, string text)
        {
            await page.InvokeAsync(() => page.Find($"input[data-test={field}], [data-test={field}] input").Input(text));
            await page.InvokeAsync(() => page.Find($"input[data-test={field}], [data-test={field}] input").Blur());
        }
        await TypeAndLeaveAsync("memory", "lots");
        await TypeAndLeaveAsync("walltime", "99");
        page.WaitForAssertion(() =>
        {
            Assert.Contains("'lots' is not a memory size", page.Markup);
            Assert.Contains("'99' is not a duration", page.Markup);
            Assert.True(page.Find("[data-test=next]").HasAttribute("disabled"));
        }, TimeSpan.FromSeconds(2));

        // Mended the same way, the messages go and the wizard goes on (it used to keep the old message
        // and a disabled Next until the user typed again somewhere and paused).
        await TypeAndLeaveAsync("memory", "2G");
        await TypeAndLeaveAsync("walltime", "01:00:00");
        page.WaitForAssertion(() =>
        {
            Assert.DoesNotContain("is not a memory size", page.Markup);
            Assert.DoesNotContain("is not a duration", page.Markup);
            Assert.False(page.Find("[data-test=next]").HasAttribute("disabled"));
        }, TimeSpan.FromSeconds(2));
        await page.InvokeAsync(() => page.Find("[data-test=next]").Click());
        page.WaitForAssertion(() => Assert.Contains("memory 2G, walltime 01:00:00", page.Find("[data-test=summary]").TextContent));
    }

    /// <summary>Letters in the CPUs field reach the page as "not given": without a word the task would get the default.</summary>
    [Fact]
    public async Task NewTaskWizard_DoesNotGoOnWithTextThatIsNoNumber()
    {
        await using var ctx = new DashboardTestContext();
        var page = ctx.Render<NewTask>();
        page.WaitForAssertion(() => page.Find("[data-test=software-hello]").Click());
        page.WaitForAssertion(() => page.Find("[data-test=computing-local]").Click());
        page.WaitForAssertion(() => Assert.False(page.Find("[data-test=next]").HasAttribute("disabled")));

        await page.InvokeAsync(() => page.Find("input[data-test=cpus], [data-test=cpus] input").Input("two"));
        page.WaitForAssertion(() => Assert.True(page.Find("[data-test=next]").HasAttribute("disabled")), TimeSpan.FromSeconds(5));
        page.WaitForAssertion(() => Assert.Contains("mud-input-error", page.FindComponents<MudBlazor.MudNumericField<double?>>().Single().Markup), TimeSpan.FromSeconds(5));

        foreach (var (typed, unreadable) in new[] { ("", false), ("two", true), ("2", false) })
        {
            await page.InvokeAsync(() => page.Find("input[data-test=cpus], [data-test=cpus] input").Input(typed));
            page.WaitForAssertion(() => Assert.Equal(unreadable, page.Find("[data-test=next]").HasAttribute("disabled")), TimeSpan.FromSeconds(5));
            page.WaitForAssertion(() => Assert.Equal(unreadable, page.FindComponents<MudBlazor.MudNumericField<double?>>().Single().Markup.Contains("mud-input-error")), TimeSpan.FromSeconds(5));
        }
    }

    /// <summary>At the limit of tasks per user, the wizard says so before it is filled in, not only when Start is refused.</summary>
    [Fact]
    public async Task NewTaskWizard_SaysAtOnceWhenTheUserHasAsManyTasksAsAllowed()
    {
        await using var ctx = new DashboardTestContext(tasks: new() { MaxActivePerUser = 1 });
        var roomy = ctx.Render<NewTask>();
        roomy.WaitForAssertion(() => roomy.Find("[data-test=software-hello]"));
        Assert.Empty(roomy.FindAll("[data-test=task-limit]"));

        // The open page follows: another tab starts the last allowed task, then it ends.
        var busy = await ctx.AddTaskAsync("busy", TaskState.Running);
        roomy.WaitForAssertion(() => Assert.Contains("You have 1 task that has not ended", roomy.Find("[data-test=task-limit]").TextContent));
        var page = ctx.Render<NewTask>();
        page.WaitForAssertion(() => Assert.Contains("You have 1 task that has not ended", page.Find("[data-test=task-limit]").TextContent));
        await ctx.SetStatusAsync(busy.Id, TaskState.Stopped);
        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-test=task-limit]")));
        // Another user's tasks are theirs to count.
        await ctx.AddTaskAsync("theirs", TaskState.Running, ownerId: "someone-else");
        await ctx.AddTaskAsync("mine", TaskState.Running);
        page.WaitForAssertion(() => Assert.Contains("You have 1 task that has not ended", page.Find("[data-test=task-limit]").TextContent));
    }

    [Fact]
    public async Task NewTaskWizard_SaysWhatIsWrongWithAnEnvironmentRowAndListsTheVariablesToConfirm()
    {
        await using var ctx = new DashboardTestContext();
        var page = ctx.Render<NewTask>();
        page.WaitForAssertion(() => page.Find("[data-test=software-hello]").Click());
        page.WaitForAssertion(() => page.Find("[data-test=computing-local]").Click());
        page.WaitForAssertion(() => page.Find("[data-test=add-env]").Click());
        // Found and used in one step on the renderer's thread: a check re-renders the page meanwhile.
        AngleSharp.Dom.IElement Field(string test, int row) => page.FindAll($"input[data-test={test}], [data-test={test}] input")[row];

        await page.InvokeAsync(() => Field("env-value", 0).Input("42")); // a value without a name would be dropped without a word
        page.WaitForAssertion(() => Assert.Contains("needs a name (or remove the row).", page.Markup), TimeSpan.FromSeconds(5));
        Assert.True(page.Find("[data-test=next]").HasAttribute("disabled"));
        await page.InvokeAsync(() => Field("env-name", 0).Input("ANSWER"));
        page.WaitForAssertion(() => Assert.False(page.Find("[data-test=next]").HasAttribute("disabled")), TimeSpan.FromSeconds(5));

        await page.InvokeAsync(() => page.Find("[data-test=add-env]").Click());
        await page.InvokeAsync(() => Field("env-name", 1).Input("ANSWER")); // only the last of the two would count
        page.WaitForAssertion(() => Assert.Contains("'ANSWER' is set in another row too.", page.Markup), TimeSpan.FromSeconds(5));
        Assert.True(page.Find("[data-test=next]").HasAttribute("disabled"));
        // One field at a time: each is checked when its own typing pauses (200 ms).
        await page.InvokeAsync(() => Field("env-name", 1).Input("QUESTION"));
        page.WaitForAssertion(() => Assert.DoesNotContain("is set in another row too", page.Markup), TimeSpan.FromSeconds(10));
        await page.InvokeAsync(() => Field("env-value", 1).Input("secret-ish"));
        page.WaitForAssertion(() => Assert.False(page.Find("[data-test=next]").HasAttribute("disabled")), TimeSpan.FromSeconds(10));

        await page.InvokeAsync(() => page.Find("[data-test=next]").Click());
        page.WaitForAssertion(() => Assert.Equal("ANSWER, QUESTION", page.Find("[data-test=summary-env]").TextContent));
        Assert.DoesNotContain("secret-ish", page.Find("[data-test=summary]").TextContent);
    }

    /// <summary>A slow host's size that arrives after the person picked again does not replace the later answer.</summary>
    [Fact]
    public async Task NewTaskWizard_KeepsTheCapacityOfTheLastPickNotOfASlowEarlierOne()
    {
        await using var ctx = new DashboardTestContext();
        var slow = new TaskCompletionSource<Rosetta.Core.Validation.ComputingCapacity>();
        var asked = 0;
        ctx.Backend.Measuring = _ => Interlocked.Increment(ref asked) == 1 ? slow.Task : Task.FromResult(new Rosetta.Core.Validation.ComputingCapacity(8, 16L << 30));
        var page = ctx.Render<NewTask>();
        page.WaitForAssertion(() => page.Find("[data-test=software-hello]").Click());
        page.WaitForAssertion(() => page.Find("[data-test=computing-local]").Click()); // the slow answer, still to come
        await page.InvokeAsync(() => page.Find("[data-test=computing-local]").Click()); // picked again: 8 CPUs
        page.WaitForAssertion(() => page.Find("input[data-test=cpus], [data-test=cpus] input"));
        await page.InvokeAsync(() => slow.SetResult(new Rosetta.Core.Validation.ComputingCapacity(2, 4L << 30)));
        await Task.Delay(300); // the slow pick's continuation has run
        await page.InvokeAsync(() => page.Find("input[data-test=cpus], [data-test=cpus] input").Input("4"));
        await Task.Delay(500); // checked after the typing pause
        page.WaitForAssertion(() => Assert.False(page.Find("[data-test=next]").HasAttribute("disabled")), TimeSpan.FromSeconds(5));
        Assert.DoesNotContain("has 2", page.Markup);
    }

    /// <summary>
    /// The same page under another address ("New task" in the menu while running a task again): the wizard starts
    /// afresh, not with the earlier task's name and options; an address naming no software says so.
    /// </summary>
    [Fact]
    public async Task NewTaskWizard_StartsAfreshWhenOnlyItsAddressChanges()
    {
        await using var ctx = new DashboardTestContext();
        var earlier = await ctx.AddTaskAsync("spectra fit", TaskState.Exited);
        var navigation = ctx.Services.GetRequiredService<Bunit.TestDoubles.BunitNavigationManager>();
        navigation.NavigateTo($"tasks/new?from={earlier.Id}");
        var page = ctx.Render<NewTask>();
        page.WaitForAssertion(() => Assert.Contains("'spectra fit'", page.Find("[data-test=run-again-from]").TextContent));

        await page.InvokeAsync(() => navigation.NavigateTo("tasks/new"));
        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-test=run-again-from]")));
        Assert.NotNull(page.Find("[data-test=software-hello]")); // back at the first step

        await page.InvokeAsync(() => navigation.NavigateTo("tasks/new?software=gone"));
        page.WaitForAssertion(() => Assert.Contains("There is no software 'gone'", page.Find("[data-test=submit-error]").TextContent));
    }

    [Fact]
    public async Task NewTaskWizard_RunsAnEarlierTaskAgainWithItsNameAndOptions_FromItsPage()
    {
        await using var ctx = new DashboardTestContext();
        var earlier = await ctx.AddTaskAsync("spectra fit", TaskState.Exited);
        await ctx.Monitor.UpdateAsync(earlier.Id, t =>
        {
            t.Options = new TaskOptions { Cpus = 1.5, Memory = "256M", Env = new() { ["MODEL"] = "lorentz", ["SEED"] = "7" } };
            t.ImageDigest = "sha256:" + new string('a', 64);
            return true;
        });
        var detail = ctx.Render<TaskDetail>(p => p.Add(x => x.Id, earlier.Id));
        detail.WaitForAssertion(() => Assert.Equal($"tasks/new?from={earlier.Id}", detail.Find("[data-test=run-again]").GetAttribute("href")));

        ctx.Services.GetRequiredService<Bunit.TestDoubles.BunitNavigationManager>().NavigateTo($"tasks/new?from={earlier.Id}");
        var page = ctx.Render<NewTask>();
        AngleSharp.Dom.IElement Field(string test, int row = 0) => page.FindAll($"input[data-test={test}], [data-test={test}] input")[row];
        page.WaitForAssertion(() => Assert.Equal("256M", Field("memory").GetAttribute("value")));
        Assert.Equal(("spectra fit", "1.5"), (Field("name").GetAttribute("value"), Field("cpus").GetAttribute("value")));
        Assert.Equal(["MODEL", "SEED"], page.FindAll("input[data-test=env-name], [data-test=env-name] input").Select(i => i.GetAttribute("value")));
        Assert.Equal(["lorentz", "7"], page.FindAll("input[data-test=env-value], [data-test=env-value] input").Select(i => i.GetAttribute("value")));
        // The bundled software is not pinned: the page says the image may differ from the one that ran.
        Assert.Contains("'spectra fit'", page.Find("[data-test=run-again-from]").TextContent);
        Assert.Contains("not pinned", page.Find("[data-test=run-again-from]").TextContent);

        await page.InvokeAsync(() => page.Find("[data-test=next]").Click());
        page.WaitForAssertion(() => Assert.Contains("1.5 CPUs, memory 256M", page.Find("[data-test=summary]").TextContent));
        Assert.Equal("MODEL, SEED", page.Find("[data-test=summary-env]").TextContent);
        await page.InvokeAsync(() => page.Find("[data-test=start]").Click());
        page.WaitForAssertion(() => Assert.Equal(2, ctx.Monitor.Feed.Items.Count));
        var again = ctx.Monitor.Feed.Items.Values.Single(t => t.Id != earlier.Id);
        Assert.Equal(("spectra fit", 1.5, "lorentz"), (again.Name, again.Options.Cpus, again.Options.Env!["MODEL"]));
    }

    [Fact]
    public async Task NewTaskWizard_RunningAgainAsksForWhatIsGone_AndLeavesSlurmsOptionsToSlurm()
    {
        await using var ctx = new DashboardTestContext();
        // Its cluster was removed since: the user picks the local engine, which has no partitions.
        var onCluster = await ctx.AddTaskAsync("cluster fit", TaskState.Exited);
        await ctx.Monitor.UpdateAsync(onCluster.Id, t => { t.ComputingId = "c-removed"; t.Options = new TaskOptions { Partition = "debug", Gpus = 1, Memory = "256M" }; return true; });
        var navigation = ctx.Services.GetRequiredService<Bunit.TestDoubles.BunitNavigationManager>();
        navigation.NavigateTo($"tasks/new?from={onCluster.Id}");
        var page = ctx.Render<NewTask>();
        page.WaitForAssertion(() => Assert.Contains("no longer exists; pick another", page.Find("[data-test=submit-error]").TextContent));
        await page.InvokeAsync(() => page.Find("[data-test=computing-local]").Click());
        page.WaitForAssertion(() => Assert.False(page.Find("[data-test=next]").HasAttribute("disabled")));
        Assert.Empty(page.FindAll("[data-test=submit-error]"));
        await page.InvokeAsync(() => page.Find("[data-test=next]").Click());
        page.WaitForAssertion(() => Assert.Contains("memory 256M", page.Find("[data-test=summary]").TextContent));
        Assert.DoesNotContain("partition", page.Find("[data-test=summary]").TextContent);

        // Its software was removed since: back to the first step, whatever else the address asks for.
        var ofGoneSoftware = await ctx.AddTaskAsync("old app", TaskState.Exited);
        await ctx.Monitor.UpdateAsync(ofGoneSoftware.Id, t => { t.SoftwareId = "gone-app"; return true; });
        navigation.NavigateTo($"tasks/new?software=hello&from={ofGoneSoftware.Id}");
        var again = ctx.Render<NewTask>();
        again.WaitForAssertion(() => Assert.Contains("'gone-app' that 'old app' ran is no longer in the catalogue", again.Find("[data-test=submit-error]").TextContent));
        Assert.NotEmpty(again.FindAll("[data-test=software-hello]"));
    }

    [Fact]
    public async Task NewTaskWizard_RunsAgainOnlyTheCallersOwnTasks()
    {
        await using var ctx = new DashboardTestContext(admin: true);
        var someoneElses = await ctx.AddTaskAsync("their fit", TaskState.Exited, ownerId: "user-2");
        await ctx.Monitor.UpdateAsync(someoneElses.Id, t => { t.Options = new TaskOptions { Env = new() { ["TOKEN"] = "theirs" } }; return true; });
        // An admin sees the task, but gets no button to run it as themselves with its owner's variables.
        var detail = ctx.Render<TaskDetail>(p => p.Add(x => x.Id, someoneElses.Id));
        detail.WaitForAssertion(() => Assert.Contains("their fit", detail.Find("[data-test=task-title]").TextContent));
        Assert.Empty(detail.FindAll("[data-test=run-again]"));

        ctx.Services.GetRequiredService<Bunit.TestDoubles.BunitNavigationManager>().NavigateTo($"tasks/new?from={someoneElses.Id}");
        var page = ctx.Render<NewTask>();
        page.WaitForAssertion(() => Assert.Contains("no task of yours to run again", page.Find("[data-test=submit-error]").TextContent));
        Assert.DoesNotContain("theirs", page.Markup);
        Assert.NotEmpty(page.FindAll("[data-test=software-hello]"));
    }

    [Fact]
    public async Task SoftwarePage_SaysWhetherEachWebAppIsServedAtItsRootOrUnderTheTasksPath()
    {
        await using var ctx = new DashboardTestContext();
        var page = ctx.Render<SoftwareCatalogue>();
        page.WaitForAssertion(() => page.Find("[data-test=card-jupyter]"));
        Assert.Contains("served under /t/{id}/ (prefix kept, told in BASE_URL)", page.Find("[data-test=card-jupyter] [data-test=sw-interface]").TextContent);
        Assert.Contains("served at / (prefix stripped)", page.Find("[data-test=card-hello] [data-test=sw-interface]").TextContent);
        Assert.DoesNotContain("served", page.Find("[data-test=card-ssh] [data-test=sw-interface]").TextContent);
    }

    /// <summary>A number field kept its error only the first time: MudBlazor drops an error its page passes again unchanged.</summary>
    [Fact]
    public async Task SoftwarePage_ShowsANumberFieldsErrorAgainAfterItWasChangedToAnotherWrongValue()
    {
        await using var ctx = new DashboardTestContext();
        var page = ctx.Render<SoftwareCatalogue>();
        page.WaitForAssertion(() => page.Find("[data-test=card-jupyter]"));
        page.Find("[data-test=add-software]").Click();
        page.Find("input[data-test=sw-name], [data-test=sw-name] input").Change("Mine");
        page.Find("input[data-test=sw-image], [data-test=sw-image] input").Change("rosetta/hello");
        foreach (var port in new[] { "0", "-5", "99999" })
        {
            page.Find("input[data-test=sw-port], [data-test=sw-port] input").Change(port);
            page.Find("[data-test=sw-save]").Click();
            page.WaitForAssertion(() => Assert.Contains("must be between 1 and 65535", page.Markup));
        }
    }

    [Fact]
    public async Task NewTaskWizard_ShowsANumberFieldsErrorForEachWrongValueTyped()
    {
        await using var ctx = new DashboardTestContext();
        var page = ctx.Render<NewTask>();
        page.WaitForAssertion(() => page.Find("[data-test=software-hello]").Click());
        page.WaitForAssertion(() => page.Find("[data-test=computing-local]").Click());
        foreach (var cpus in new[] { "8", "16", "-1" })
        {
            await page.InvokeAsync(() => page.Find("input[data-test=cpus], [data-test=cpus] input").Input(cpus));
            // The error replaces the helper text ("up to 2") under the field.
            page.WaitForAssertion(() => Assert.DoesNotContain("up to 2", page.FindComponents<MudBlazor.MudNumericField<double?>>().Single().Markup), TimeSpan.FromSeconds(5));
            page.WaitForAssertion(() => Assert.Contains("mud-input-error", page.FindComponents<MudBlazor.MudNumericField<double?>>().Single().Markup), TimeSpan.FromSeconds(5));
        }
    }

    /// <summary>Software removed (another tab) while its form was open: the save says nothing was saved, not "Saved".</summary>
    [Fact]
    public async Task SoftwarePage_SaysWhenTheSoftwareEditedWasRemovedMeanwhile()
    {
        await using var ctx = new DashboardTestContext(admin: true);
        var page = ctx.Render<SoftwareCatalogue>();
        page.WaitForAssertion(() => page.Find("[data-test=sw-edit-desktop]"));
        await page.InvokeAsync(() => page.Find("[data-test=sw-edit-desktop]").Click());
        await using (var db = await ctx.Services.GetRequiredService<IDbContextFactory<RosettaDbContext>>().CreateDbContextAsync())
            await db.Software.Where(s => s.Id == "desktop").ExecuteDeleteAsync();
        await page.InvokeAsync(() => page.Find("[data-test=sw-save]").Click());
        var snackbars = ctx.Services.GetRequiredService<MudBlazor.ISnackbar>();
        page.WaitForAssertion(() => Assert.Contains(snackbars.ShownSnackbars, s => s.Message?.Contains("is no longer in the catalogue: nothing was saved") == true));
        Assert.DoesNotContain(snackbars.ShownSnackbars, s => s.Message?.StartsWith("Saved", StringComparison.Ordinal) == true);
        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-test=sw-edit-desktop]")));
    }

    [Fact]
    public async Task SoftwarePage_KeepsTheDesktopsViewOnlyPasswordVariableThroughAnEdit()
    {
        await using var ctx = new DashboardTestContext(admin: true);
        var page = ctx.Render<SoftwareCatalogue>();
        page.WaitForAssertion(() => page.Find("[data-test=sw-edit-desktop]"));
        await page.InvokeAsync(() => page.Find("[data-test=sw-edit-desktop]").Click());
        Assert.Equal("VNC_VIEW_ONLY_PASSWORD", page.Find("input[data-test=sw-view-only-env], [data-test=sw-view-only-env] input").GetAttribute("value"));
        await page.InvokeAsync(() => page.Find("input[data-test=sw-name], [data-test=sw-name] input").Change("Desktop for the lab"));
        await page.InvokeAsync(() => page.Find("[data-test=sw-save]").Click());
        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-test=software-form]")));
        await using var db = await ctx.Services.GetRequiredService<IDbContextFactory<RosettaDbContext>>().CreateDbContextAsync();
        var saved = await db.Software.SingleAsync(s => s.Id == "desktop");
        Assert.Equal(("Desktop for the lab", "VNC_VIEW_ONLY_PASSWORD"), (saved.Name, saved.ViewOnlySecretEnv));

        // Cleared in the form, it is cleared: view-only guests then rely on the relay's filter alone.
        await page.InvokeAsync(() => page.Find("[data-test=sw-edit-desktop]").Click());
        await page.InvokeAsync(() => page.Find("input[data-test=sw-view-only-env], [data-test=sw-view-only-env] input").Change(""));
        await page.InvokeAsync(() => page.Find("[data-test=sw-save]").Click());
        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-test=software-form]")));
        await using var again = await ctx.Services.GetRequiredService<IDbContextFactory<RosettaDbContext>>().CreateDbContextAsync();
        Assert.Null((await again.Software.SingleAsync(s => s.Id == "desktop")).ViewOnlySecretEnv);
    }

    [Fact]
    public async Task SoftwarePage_SetsTheSoftwaresEnvironmentOneVariableALineAndSaysWhichLineIsWrong()
    {
        await using var ctx = new DashboardTestContext(admin: true);
        var catalogue = ctx.Services.GetRequiredService<Rosetta.Core.Catalogue.SoftwareService>();
        var caller = new Caller(DashboardTestContext.UserId, IsAdmin: true);
        var page = ctx.Render<SoftwareCatalogue>();
        page.WaitForAssertion(() => page.Find("[data-test=add-software]"));
        await page.InvokeAsync(() => page.Find("[data-test=add-software]").Click());
        await page.InvokeAsync(() => page.Find("input[data-test=sw-name], [data-test=sw-name] input").Change("Fitter"));
        await page.InvokeAsync(() => page.Find("input[data-test=sw-image], [data-test=sw-image] input").Change("registry.example.org/fit/app"));
        AngleSharp.Dom.IElement Env() => page.Find("textarea[data-test=sw-env], [data-test=sw-env] textarea");
        async Task SaveWithAsync(string env)
        {
            await page.InvokeAsync(() => Env().Change(env));
            await page.InvokeAsync(() => page.Find("[data-test=sw-save]").Click());
        }

        await SaveWithAsync("OMP_NUM_THREADS=4\nno equals sign");
        page.WaitForAssertion(() => Assert.Contains("Line 2 is not NAME=value", page.Find("[data-test=software-form]").TextContent));
        await SaveWithAsync("A=1\n\nA=2");
        page.WaitForAssertion(() => Assert.Contains("Line 3 sets A again", page.Find("[data-test=software-form]").TextContent));
        await SaveWithAsync("1BAD=x");
        page.WaitForAssertion(() => Assert.Contains("1BAD is not a valid variable name", page.Find("[data-test=software-form]").TextContent));
        Assert.DoesNotContain(await catalogue.ListAsync(caller, CancellationToken.None), s => s.Name == "Fitter");

        // Blank lines and comments are skipped; a value is everything after the first '=', its spaces included.
        await SaveWithAsync("# threads for the fit\nOMP_NUM_THREADS=4\r\n\nGREETING= hello = world \nEMPTY=");
        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-test=software-form]")));
        var saved = Assert.Single(await catalogue.ListAsync(caller, CancellationToken.None), s => s.Name == "Fitter");
        Assert.Equal(new Dictionary<string, string> { ["OMP_NUM_THREADS"] = "4", ["GREETING"] = " hello = world ", ["EMPTY"] = "" }, saved.Env);

        // Edited, the field shows them as lines again.
        await page.InvokeAsync(() => page.Find($"[data-test=sw-edit-{saved.Id}]").Click());
        Assert.Equal("OMP_NUM_THREADS=4\nGREETING= hello = world \nEMPTY=", Env().GetAttribute("value") ?? Env().TextContent);

        // A value of several lines (set through the API) is not shown as lines: the field is closed and the value kept.
        var draft = new Rosetta.Core.Catalogue.SoftwareDraft(saved.Id, "Fitter", "", "registry.example.org/fit/app", "latest", null, 8080, "http",
            new Dictionary<string, string> { ["CONFIG"] = "a\nb" }, null, null, null, null);
        await catalogue.UpdateAsync(caller, saved.Id, draft, CancellationToken.None);
        page = ctx.Render<SoftwareCatalogue>();
        page.WaitForAssertion(() => page.Find($"[data-test=sw-edit-{saved.Id}]"));
        await page.InvokeAsync(() => page.Find($"[data-test=sw-edit-{saved.Id}]").Click());
        Assert.True(Env().HasAttribute("disabled"));
        Assert.Contains("change these variables through the API", page.Find("[data-test=software-form]").TextContent);
        await page.InvokeAsync(() => page.Find("input[data-test=sw-name], [data-test=sw-name] input").Change("Fitter 2"));
        await page.InvokeAsync(() => page.Find("[data-test=sw-save]").Click());
        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-test=software-form]")));
        var kept = Assert.Single(await catalogue.ListAsync(caller, CancellationToken.None), s => s.Id == saved.Id);
        Assert.Equal(("Fitter 2", "a\nb"), (kept.Name, kept.Env["CONFIG"]));
    }

    [Fact]
    public async Task SoftwarePage_ShowsFieldErrorsForAnInvalidImage()
    {
        await using var ctx = new DashboardTestContext();
        var page = ctx.Render<SoftwareCatalogue>();
        page.WaitForAssertion(() => page.Find("[data-test=card-jupyter]"));
        page.Find("[data-test=add-software]").Click();
        page.Find("input[data-test=sw-name], [data-test=sw-name] input").Change("Mine");
        page.Find("input[data-test=sw-image], [data-test=sw-image] input").Change("Not An Image!");
        page.Find("[data-test=sw-save]").Click();
        page.WaitForAssertion(() => Assert.Contains("is not a valid image repository", page.Markup));
    }

    [Fact]
    public async Task AccountPage_ShowsANewTokenOnceAndListsIt_AndRevokesItOnlyOnceAsked()
    {
        await using var ctx = new DashboardTestContext();
        var dialogs = ctx.Render<MudBlazor.MudDialogProvider>();
        var page = ctx.Render<Account>();
        page.Find("input[data-test=token-name], [data-test=token-name] input").Change("laptop");
        page.Find("[data-test=token-create]").Click();
        page.WaitForAssertion(() => Assert.Contains("rst_", page.Find("[data-test=token-issued]").TextContent));
        Assert.Contains("laptop", page.Find("[data-test=tokens]").TextContent);

        // Scripts using it stop at once: asked first.
        page.Find("[data-test=token-revoke]").Click();
        dialogs.WaitForAssertion(() => Assert.Contains("Revoke the token 'laptop'?", dialogs.Markup));
        dialogs.FindAll("button").First(b => b.TextContent.Trim() == "Cancel").Click();
        dialogs.WaitForAssertion(() => Assert.DoesNotContain("Revoke the token", dialogs.Markup));
        var tokens = ctx.Services.GetRequiredService<Rosetta.Core.Security.ApiTokenService>();
        Assert.Null(Assert.Single(await tokens.ListAsync(DashboardTestContext.UserId, CancellationToken.None)).RevokedAt);
        page.Find("[data-test=token-revoke]").Click();
        dialogs.WaitForAssertion(() => dialogs.FindAll("button").First(b => b.TextContent.Trim() == "Revoke").Click());
        page.WaitForAssertion(() => Assert.DoesNotContain("laptop", page.Find("[data-test=tokens]").TextContent));
    }

    [Fact]
    public async Task AccountPage_ReplacesTheKeyOnlyAfterSayingWhatItBreaks()
    {
        await using var ctx = new DashboardTestContext();
        var dialogs = ctx.Render<MudBlazor.MudDialogProvider>();
        var page = ctx.Render<Account>();
        page.WaitForAssertion(() => Assert.StartsWith("ssh-ed25519 ", page.Find("[data-test=public-key]").TextContent));
        var before = page.Find("[data-test=public-key]").TextContent;

        page.Find("[data-test=rotate-key]").Click();
        dialogs.WaitForAssertion(() => Assert.Contains("can no longer log into your hosts with the old key", dialogs.Markup));
        dialogs.FindAll("button").First(b => b.TextContent.Trim() == "Cancel").Click();
        dialogs.WaitForAssertion(() => Assert.DoesNotContain("old key", dialogs.Markup));
        Assert.Equal(before, page.Find("[data-test=public-key]").TextContent);

        page.Find("[data-test=rotate-key]").Click();
        dialogs.WaitForAssertion(() => dialogs.FindAll("button").First(b => b.TextContent.Trim() == "Replace").Click());
        page.WaitForAssertion(() => Assert.NotEqual(before, page.Find("[data-test=public-key]").TextContent));
    }
}

/// <summary>The computing and admin pages.</summary>
public sealed class ManagementPageTests
{
    /// <summary>
    /// A page's descriptors do not name a user: a circuit started from another session's page (a task's
    /// page in path mode can fetch its author's) under the visitor's cookie does not run.
    /// </summary>
    [Fact]
    public async Task TheDashboardRunsOnlyForTheSessionItsPageWasRenderedFor()
    {
        await using var ctx = new DashboardTestContext();
        ctx.Renderer.SetRendererInfo(new Microsoft.AspNetCore.Components.RendererInfo("Server", isInteractive: true));
        var mine = Rosetta.App.Auth.CircuitOwner.Of(new System.Security.Claims.ClaimsPrincipal(new System.Security.Claims.ClaimsIdentity(
            [new System.Security.Claims.Claim(System.Security.Claims.ClaimTypes.NameIdentifier, DashboardTestContext.UserId)], "test")), ctx.Services);
        ctx.Render<Rosetta.App.Components.Routes>(p => p.Add(r => r.IssuedFor, mine));
        var foreign = Assert.Throws<InvalidOperationException>(() => ctx.Render<Rosetta.App.Components.Routes>(p => p.Add(r => r.IssuedFor, "attacker\nstamp")));
        Assert.Contains("another session", foreign.Message);
        Assert.Throws<InvalidOperationException>(() => ctx.Render<Rosetta.App.Components.Routes>());
    }

    /// <summary>In path mode a framed task page is a child of the dashboard: only software an admin added is framed there.</summary>
    [Fact]
    public async Task DesktopView_FramesOnlyAdminAddedSoftwareInPathMode()
    {
        await using var ctx = new DashboardTestContext();
        var trusted = await AddDesktopAsync(ctx, "bundled", TaskState.Running);
        var page = ctx.Render<DesktopView>(p => p.Add(v => v.Id, trusted.Id));
        page.WaitForAssertion(() => Assert.Equal($"t/{trusted.Id}/", page.Find("[data-test=desktop-frame]").GetAttribute("src")));

        var own = await ctx.Services.GetRequiredService<Rosetta.Core.Catalogue.SoftwareService>().AddAsync(new Caller(DashboardTestContext.UserId, IsAdmin: false),
            new Rosetta.Core.Catalogue.SoftwareDraft(null, "My desktop", null, "someone/desktop", null, null, 8590, "http", null, null, "VNC_PASSWORD", "vnc", null), platformWide: false, CancellationToken.None);
        var untrusted = await AddDesktopAsync(ctx, "mine", TaskState.Running);
        await ctx.Monitor.UpdateAsync(untrusted.Id, t => { t.SoftwareId = own.Id; return true; });
        var other = ctx.Render<DesktopView>(p => p.Add(v => v.Id, untrusted.Id));
        other.WaitForAssertion(() => Assert.Contains($"t/{untrusted.Id}/", other.Find("[data-test=desktop-not-embedded] a").GetAttribute("href")));
        Assert.Empty(other.FindAll("[data-test=desktop-frame]"));
    }

    /// <summary>A task page framed on the dashboard's origin could script it: the desktop view frames desktops only, whatever the URL says.</summary>
    [Fact]
    public async Task DesktopView_FramesNothingButADesktop()
    {
        await using var ctx = new DashboardTestContext();
        var notebook = await ctx.AddTaskAsync("notebook", TaskState.Running); // admin-added software, an HTTP interface
        var page = ctx.Render<DesktopView>(p => p.Add(v => v.Id, notebook.Id));
        page.WaitForAssertion(() => Assert.Contains("There is no such desktop", page.Find("[data-test=task-missing]").TextContent));
        Assert.Empty(page.FindAll("[data-test=desktop-frame]"));
        Assert.Empty(page.FindAll("iframe"));
    }

    private static async Task<TaskRecord> AddDesktopAsync(DashboardTestContext ctx, string name, TaskState status)
    {
        var task = await ctx.AddTaskAsync(name, status);
        return (await ctx.Monitor.UpdateAsync(task.Id, t => { t.ProxyAuthorizationScheme = Software.VncAuthorization; return true; }))!;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task DesktopView_SaysWhatToDoWhenTheBrowserRefusesFullScreen(bool granted)
    {
        await using var ctx = new DashboardTestContext();
        ctx.JSInterop.Setup<bool>("rosetta.fullscreen", _ => true).SetResult(granted);
        var desktop = await AddDesktopAsync(ctx, "desktop", TaskState.Running);
        var page = ctx.Render<DesktopView>(p => p.Add(v => v.Id, desktop.Id));
        page.WaitForAssertion(() => page.Find("[data-test=desktop-frame]"));
        await page.InvokeAsync(() => page.Find("[data-test=fullscreen]").Click());
        var shown = ctx.Services.GetRequiredService<MudBlazor.ISnackbar>().ShownSnackbars.Select(s => s.Message).ToList();
        if (granted) Assert.Empty(shown);
        else Assert.Contains("did not allow full screen here. Open the desktop in its own tab", Assert.Single(shown));
    }

    [Fact]
    public async Task DesktopView_OfAStoppedDesktopSaysItWillNotComeBackAndOffersNothingToClick()
    {
        await using var ctx = new DashboardTestContext();
        var desktop = await AddDesktopAsync(ctx, "desktop", TaskState.Running);
        var page = ctx.Render<DesktopView>(p => p.Add(v => v.Id, desktop.Id));
        page.WaitForAssertion(() => page.Find("[data-test=desktop-frame]"));
        Assert.Null(page.Find("[data-test=reconnect]").GetAttribute("disabled"));
        Assert.Contains("Clipboard", page.Find("[data-test=desktop-panel-hint]").TextContent);

        await ctx.SetStatusAsync(desktop.Id, TaskState.Stopped);
        page.WaitForAssertion(() => Assert.Contains("it cannot be started again", page.Find("[data-test=desktop-not-running]").TextContent));
        Assert.Empty(page.FindAll("[data-test=desktop-frame]"));
        Assert.Empty(page.FindAll("[data-test=desktop-panel-hint]"));
        foreach (var button in new[] { "reconnect", "fullscreen", "own-tab" })
            Assert.NotNull(page.Find($"[data-test={button}]").GetAttribute("disabled"));
    }

    [Fact]
    public async Task ComputingPage_RemovesOwnResourcesAfterAskingButNeverTheLocalEngine()
    {
        await using var ctx = new DashboardTestContext(moreBackends: [new DashboardTestContext.FakeBackend(ComputingKind.Ssh)]);
        var resources = ctx.Services.GetRequiredService<Rosetta.Core.Catalogue.ComputingService>();
        var caller = new Caller(DashboardTestContext.UserId, IsAdmin: false);
        var workstation = await resources.AddAsync(caller, new Rosetta.Core.Catalogue.ComputingDraft(null, "Workstation", "ssh", "127.0.0.1", 2222, "demo", null, null, null), CancellationToken.None);
        var dialogs = ctx.Render<MudBlazor.MudDialogProvider>();
        var page = ctx.Render<Computing>();

        // One Remove button: the workstation's, not the local engine's.
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-test=remove-computing]")));
        // Nothing has tried the workstation yet: it is not shown as available.
        var row = page.FindAll("[data-test=computing] tr").Single(r => r.TextContent.Contains("Workstation"));
        Assert.Equal("not connected yet", row.QuerySelector("[data-test=computing-state]")!.TextContent.Trim());
        Assert.StartsWith("Not connected yet", row.QuerySelector("[data-test=computing-state-reason]")!.TextContent);
        page.WaitForAssertion(() => page.Find("[data-test=remove-computing]").Click());
        dialogs.WaitForAssertion(() => Assert.Contains("Remove 'Workstation'?", dialogs.Markup));
        dialogs.WaitForAssertion(() => dialogs.FindAll("button").First(b => b.TextContent.Trim() == "Remove").Click());
        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-test=remove-computing]")));
        Assert.Null(await resources.FindAsync(caller, workstation.Id, CancellationToken.None));
    }

    /// <summary>A resource no task has used yet is only known through its connection test, whose outcome is its state.</summary>
    [Fact]
    public async Task ComputingPage_AFailedConnectionTestMarksTheResourceUnreachableUntilATestPasses()
    {
        var ssh = new DashboardTestContext.FakeBackend(ComputingKind.Ssh);
        await using var ctx = new DashboardTestContext(moreBackends: [ssh]);
        var resources = ctx.Services.GetRequiredService<Rosetta.Core.Catalogue.ComputingService>();
        var caller = new Caller(DashboardTestContext.UserId, IsAdmin: false);
        var host = await resources.AddAsync(caller, new Rosetta.Core.Catalogue.ComputingDraft(null, "Cluster login", "ssh", "127.0.0.1", 2222, "demo", null, null, null), CancellationToken.None);
        ssh.TestFailure = new BackendUnavailableException("The host refused your key.");
        var page = ctx.Render<Computing>();
        AngleSharp.Dom.IElement Row() => page.FindAll("[data-test=computing] tr").Single(r => r.TextContent.Contains("Cluster login"));
        page.WaitForAssertion(() => Assert.Equal("not connected yet", Row().QuerySelector("[data-test=computing-state]")!.TextContent.Trim()));

        await page.InvokeAsync(() => Row().QuerySelector("[data-test=test-connection]")!.Click());
        page.WaitForAssertion(() => Assert.Equal("unavailable", Row().QuerySelector("[data-test=computing-state]")!.TextContent.Trim()));
        Assert.Contains("connection test", Row().QuerySelector("[data-test=computing-state-reason]")!.TextContent);
        Assert.Null(Row().QuerySelector("[data-test=test-result]")); // said once
        Assert.Contains("The host refused your key. Test it again", Row().QuerySelector("[data-test=computing-state-reason]")!.TextContent);
        // The wizard does not offer it, and says why.
        var wizard = ctx.Render<NewTask>();
        wizard.WaitForAssertion(() => wizard.Find("[data-test=software-hello]").Click());
        wizard.WaitForAssertion(() => Assert.Contains("disabled", wizard.Find($"[data-test=computing-{host.Id}]").ClassName));
        Assert.Contains("refused your key", wizard.Find($"[data-test=computing-{host.Id}]").TextContent);

        ssh.TestFailure = null;
        await page.InvokeAsync(() => Row().QuerySelector("[data-test=test-connection]")!.Click());
        page.WaitForAssertion(() => Assert.Equal("available", Row().QuerySelector("[data-test=computing-state]")!.TextContent.Trim()));
        Assert.Null(Row().QuerySelector("[data-test=computing-state-reason]"));

        // Tested elsewhere (another tab, the API): the page follows on its own, without a click or a reload (it went stale).
        ssh.TestFailure = new BackendUnavailableException("The host went away.");
        await Assert.ThrowsAsync<BackendUnavailableException>(() => ctx.Monitor.TestConnectionAsync(host, CancellationToken.None));
        page.WaitForAssertion(() => Assert.Equal("unavailable", Row().QuerySelector("[data-test=computing-state]")!.TextContent.Trim()));
        Assert.Contains("The host went away.", Row().QuerySelector("[data-test=computing-state-reason]")!.TextContent);
    }

    [Fact]
    public async Task ComputingPage_TrustsANewHostKeyOnlyAsTheFingerprintItsOwnerConfirmed()
    {
        var ssh = new DashboardTestContext.FakeBackend(ComputingKind.Ssh);
        await using var ctx = new DashboardTestContext(moreBackends: [ssh]);
        var resources = ctx.Services.GetRequiredService<Rosetta.Core.Catalogue.ComputingService>();
        var caller = new Caller(DashboardTestContext.UserId, IsAdmin: false);
        var pinned = "SHA256:" + new string('A', 43);
        var offered = "SHA256:" + new string('B', 42) + "c";
        var host = await resources.AddAsync(caller, new Rosetta.Core.Catalogue.ComputingDraft(null, "Reinstalled", "ssh", "127.0.0.1", 2222, "demo", null, pinned, null), CancellationToken.None);
        ssh.TestFailure = new BackendUnavailableException(Rosetta.Core.Backends.Ssh.HostKeyChange.Message(host, pinned[7..], offered[7..]));
        var page = ctx.Render<Computing>();
        AngleSharp.Dom.IElement Row() => page.FindAll("[data-test=computing] tr").Single(r => r.TextContent.Contains("Reinstalled"));
        page.WaitForAssertion(() => Assert.Null(Row().QuerySelector("[data-test=trust-host-key]"))); // nothing says the key changed yet

        await page.InvokeAsync(() => Row().QuerySelector("[data-test=test-connection]")!.Click());
        page.WaitForAssertion(() => Row().QuerySelector("[data-test=trust-host-key]")!.Click());
        page.WaitForAssertion(() => Assert.Equal(offered, page.Find("[data-test=offered-fingerprint]").TextContent));
        // The field starts empty: the confirmed fingerprint is pasted, not the offered one taken as it comes.
        Assert.Equal("", page.Find("input[data-test=trust-fingerprint], [data-test=trust-fingerprint] input").GetAttribute("value") ?? "");
        page.Find("input[data-test=trust-fingerprint], [data-test=trust-fingerprint] input").Change("the new one");
        await page.InvokeAsync(() => page.Find("[data-test=trust-save]").Click());
        page.WaitForAssertion(() => Assert.Contains("ssh-keygen -lf", page.Find("[data-test=trust-form]").TextContent));
        Assert.Equal(pinned[7..], (await resources.FindAsync(caller, host.Id, CancellationToken.None))!.HostKeyFingerprint);

        ssh.TestFailure = null;
        page.Find("input[data-test=trust-fingerprint], [data-test=trust-fingerprint] input").Change(offered);
        await page.InvokeAsync(() => page.Find("[data-test=trust-save]").Click());
        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-test=trust-form]")));
        Assert.Equal(offered[7..], (await resources.FindAsync(caller, host.Id, CancellationToken.None))!.HostKeyFingerprint);
        page.WaitForAssertion(() => Assert.Contains("fake engine", Row().QuerySelector("[data-test=test-result]")!.TextContent)); // tested again at once
    }

    /// <summary>Letters in a number field reach the page as an empty value, which would save the default port.</summary>
    [Fact]
    public async Task ComputingPage_SavesNoHostWhosePortIsNoNumber()
    {
        await using var ctx = new DashboardTestContext();
        var resources = ctx.Services.GetRequiredService<Rosetta.Core.Catalogue.ComputingService>();
        var caller = new Caller(DashboardTestContext.UserId, IsAdmin: false);
        var page = ctx.Render<Computing>();
        page.WaitForAssertion(() => page.Find("[data-test=add-computing]").Click());
        page.WaitForAssertion(() => page.Find("input[data-test=c-name], [data-test=c-name] input").Change("Box"));
        page.Find("input[data-test=c-host], [data-test=c-host] input").Change("127.0.0.1");
        page.Find("input[data-test=c-user], [data-test=c-user] input").Change("demo");
        page.Find("input[data-test=c-port], [data-test=c-port] input").Change("twenty-two");
        await page.InvokeAsync(() => page.Find("[data-test=c-save]").Click());
        page.WaitForAssertion(() => Assert.Contains("mud-input-error", page.FindComponents<MudBlazor.MudNumericField<int?>>().Single().Markup));
        Assert.DoesNotContain(await resources.ListAsync(caller, CancellationToken.None), c => c.Name == "Box");

        page.Find("input[data-test=c-port], [data-test=c-port] input").Change("2222");
        await page.InvokeAsync(() => page.Find("[data-test=c-save]").Click());
        page.WaitForAssertion(() => Assert.Equal(2222, Assert.Single(resources.ListAsync(caller, CancellationToken.None).Result, c => c.Name == "Box").Port));
        // It came with its login's home as a storage, and the page says where to find it.
        page.WaitForAssertion(() => Assert.Contains(ctx.Services.GetRequiredService<MudBlazor.ISnackbar>().ShownSnackbars,
            s => s.Message == "Added Box. Its login's home is in Files as 'Home on Box'; to have it in tasks at /storages/home, switch on \"Bound into tasks\" under Files › Storages."));
        var box = (await resources.ListAsync(caller, CancellationToken.None)).Single(c => c.Name == "Box");
        var storages = await ctx.Services.GetRequiredService<Rosetta.Core.Storages.StorageService>().ListAsync(caller, CancellationToken.None);
        var home = Assert.Single(storages, s => s.ComputingId == box.Id);
        Assert.Equal(("Home on Box", false), (home.Name, home.Bound));

        // A second host under a name of the user's already: said on the name field, the form kept, the page alive.
        page.Find("[data-test=add-computing]").Click();
        page.WaitForAssertion(() => page.Find("input[data-test=c-name], [data-test=c-name] input").Change("Box"));
        page.Find("input[data-test=c-host], [data-test=c-host] input").Change("127.0.0.2");
        page.Find("input[data-test=c-user], [data-test=c-user] input").Change("demo");
        await page.InvokeAsync(() => page.Find("[data-test=c-save]").Click());
        page.WaitForAssertion(() => Assert.Contains("You already have a computing resource named 'Box'", page.Markup));
        Assert.Equal("127.0.0.2", page.Find("input[data-test=c-host], [data-test=c-host] input").GetAttribute("value"));
        Assert.Single(await resources.ListAsync(caller, CancellationToken.None), c => c.Name == "Box");
    }

    [Fact]
    public async Task ComputingPage_TestsTheLocalEngineAndValidatesNewHostsWithTheKeyShown()
    {
        await using var ctx = new DashboardTestContext();
        var page = ctx.Render<Computing>();
        page.WaitForAssertion(() => page.Find("[data-test=test-connection]"));
        page.Find("[data-test=test-connection]").Click();
        page.WaitForAssertion(() => Assert.Contains("fake engine", page.Find("[data-test=test-result]").TextContent));

        page.Find("[data-test=add-computing]").Click();
        page.WaitForAssertion(() => Assert.StartsWith("ssh-ed25519 ", page.Find("[data-test=public-key]").TextContent));
        page.Find("input[data-test=c-host], [data-test=c-host] input").Change("bad host;rm");
        page.Find("[data-test=c-save]").Click();
        page.WaitForAssertion(() => Assert.Contains("is not a host name", page.Markup));
    }

    [Fact]
    public async Task AdminPage_CreatesUsersAndShowsWhatToFix()
    {
        await using var ctx = new DashboardTestContext(admin: true);
        var page = ctx.Render<Admin>();
        page.Find("input[data-test=new-username], [data-test=new-username] input").Change("carol");
        page.Find("input[data-test=new-password], [data-test=new-password] input").Change("short");
        page.Find("[data-test=create-user]").Click();
        page.WaitForAssertion(() => Assert.Contains("at least 8", page.Markup));

        page.Find("input[data-test=new-password], [data-test=new-password] input").Change("long-enough-password");
        // 'ü' is a letter, but not one a username may hold: the message says which letters.
        page.Find("input[data-test=new-username], [data-test=new-username] input").Change("Ünïcødé");
        page.Find("[data-test=create-user]").Click();
        page.WaitForAssertion(() => Assert.Contains("ASCII letters (a-z, A-Z)", page.Markup));

        page.Find("input[data-test=new-username], [data-test=new-username] input").Change("carol");
        page.Find("[data-test=create-user]").Click();
        page.WaitForAssertion(() => Assert.Contains("carol", page.Find("[data-test=users]").TextContent));
    }

    /// <summary>Disabling a user or changing their role ends their sessions: asked first.</summary>
    [Fact]
    public async Task AdminPage_DisablesAUserOrChangesTheirRoleOnlyOnceTheAdminConfirmed()
    {
        await using var ctx = new DashboardTestContext(admin: true);
        var administration = ctx.Services.GetRequiredService<Rosetta.App.Auth.UserAdministration>();
        await administration.CreateAsync("dave", "first-password", admin: false);
        using (var scope = ctx.Services.CreateScope()) // as the platform's first start makes it
            await scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.RoleManager<Microsoft.AspNetCore.Identity.IdentityRole>>()
                .CreateAsync(new Microsoft.AspNetCore.Identity.IdentityRole(Roles.Admin));
        var dialogs = ctx.Render<MudBlazor.MudDialogProvider>();
        var page = ctx.Render<Admin>();
        AngleSharp.Dom.IElement Button(string text) => page.FindAll("[data-test=users] button").First(b => b.TextContent.Trim() == text);
        Rosetta.App.Auth.UserSummary Dave() => administration.ListAsync().Result.Single(u => u.Username == "dave");
        page.WaitForAssertion(() => Button("Disable"));

        foreach (var (button, question, yes, done) in new (string, string, string, Func<bool>)[]
                 { ("Disable", "Disable dave?", "Disable", () => Dave().Disabled), ("Make admin", "Make dave an admin?", "Make admin", () => Dave().Admin) })
        {
            Button(button).Click();
            dialogs.WaitForAssertion(() => Assert.Contains(question, dialogs.Markup));
            dialogs.FindAll("button").First(b => b.TextContent.Trim() == "Cancel").Click();
            dialogs.WaitForAssertion(() => Assert.DoesNotContain(question, dialogs.Markup));
            Assert.False(done());
            Button(button).Click();
            dialogs.WaitForAssertion(() => dialogs.FindAll("button").First(b => b.TextContent.Trim() == yes).Click());
        }
        page.WaitForAssertion(() => Assert.Equal((true, true), (Dave().Disabled, Dave().Admin)));
    }

    [Fact]
    public async Task AdminPage_GivesAUserANewPasswordAfterCheckingItOnTheField()
    {
        await using var ctx = new DashboardTestContext(admin: true);
        var carol = await ctx.Services.GetRequiredService<Rosetta.App.Auth.UserAdministration>().CreateAsync("carol", "first-password", admin: false);
        var page = ctx.Render<Admin>();
        page.WaitForAssertion(() => Assert.Contains("carol", page.Find("[data-test=users]").TextContent));
        Assert.Empty(page.FindAll("[data-test=reset-form]"));

        await page.InvokeAsync(() => page.Find("[data-test=reset]").Click());
        Assert.Contains("New password for carol", page.Find("[data-test=reset-form]").TextContent);
        await page.InvokeAsync(() => page.Find("input[data-test=reset-password], [data-test=reset-password] input").Change("short"));
        await page.InvokeAsync(() => page.Find("[data-test=reset-save]").Click());
        page.WaitForAssertion(() => Assert.Contains("at least 8", page.Find("[data-test=reset-form]").TextContent));
        Assert.True(await PasswordWorksAsync(ctx, carol.Id, "first-password"));

        await page.InvokeAsync(() => page.Find("input[data-test=reset-password], [data-test=reset-password] input").Change("second-password"));
        await page.InvokeAsync(() => page.Find("[data-test=reset-save]").Click());
        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-test=reset-form]")));
        Assert.True(await PasswordWorksAsync(ctx, carol.Id, "second-password"));
        Assert.False(await PasswordWorksAsync(ctx, carol.Id, "first-password"));
    }

    [Fact]
    public async Task AdminPage_DeletesAUserOnlyOnceTheirTasksHaveEndedAndTheAdminConfirmed()
    {
        await using var ctx = new DashboardTestContext(admin: true);
        var dialogs = ctx.Render<MudBlazor.MudDialogProvider>();
        var dave = await ctx.Services.GetRequiredService<Rosetta.App.Auth.UserAdministration>().CreateAsync("dave", "first-password", admin: false);
        var run = await ctx.AddTaskAsync("dave's fit", TaskState.Running, ownerId: dave.Id);
        var page = ctx.Render<Admin>();
        page.WaitForAssertion(() => Assert.Contains("dave", page.Find("[data-test=users]").TextContent));
        string DavesTasks() => page.FindAll("tr").Single(r => r.TextContent.Contains("dave")).QuerySelector("[data-test=active-tasks]")!.TextContent.Trim();
        Assert.Equal("1", DavesTasks());
        Assert.Equal(1, Assert.Single(await ctx.Services.GetRequiredService<Rosetta.App.Auth.UserAdministration>().ListAsync(), u => u.Id == dave.Id).ActiveTasks);

        // A running task stops the deletion, and says which.
        await page.InvokeAsync(() => page.Find("[data-test=delete-user]").Click());
        dialogs.WaitForAssertion(() => dialogs.FindAll("button").First(b => b.TextContent.Trim() == "Delete").Click());
        var snackbar = ctx.Services.GetRequiredService<MudBlazor.ISnackbar>();
        page.WaitForAssertion(() => Assert.Contains("'dave's fit'", Assert.Single(snackbar.ShownSnackbars).Message));
        Assert.Contains("dave", page.Find("[data-test=users]").TextContent);
        Assert.False(Assert.Single(await ctx.Services.GetRequiredService<Rosetta.App.Auth.UserAdministration>().ListAsync(), u => u.Id == dave.Id).Disabled);

        await ctx.SetStatusAsync(run.Id, TaskState.Stopped);
        page.WaitForAssertion(() => Assert.Equal("0", DavesTasks())); // live
        // Cancel keeps him (nothing else would now).
        await page.InvokeAsync(() => page.Find("[data-test=delete-user]").Click());
        dialogs.WaitForAssertion(() => Assert.Contains("cannot be undone", dialogs.Markup));
        await dialogs.InvokeAsync(() => dialogs.FindAll("button").First(b => b.TextContent.Trim() == "Cancel").Click());
        dialogs.WaitForAssertion(() => Assert.DoesNotContain("cannot be undone", dialogs.Markup));
        Assert.Contains("dave", page.Find("[data-test=users]").TextContent);

        await page.InvokeAsync(() => page.Find("[data-test=delete-user]").Click());
        dialogs.WaitForAssertion(() => dialogs.FindAll("button").First(b => b.TextContent.Trim() == "Delete").Click());
        page.WaitForAssertion(() => Assert.DoesNotContain("dave", page.Find("[data-test=users]").TextContent));
        Assert.Contains(snackbar.ShownSnackbars, s => s.Message == "Deleted dave.");
        Assert.Null(ctx.Monitor.Get(run.Id));
    }

    private static async Task<bool> PasswordWorksAsync(DashboardTestContext ctx, string userId, string password)
    {
        using var scope = ctx.Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<RosettaUser>>();
        return await users.CheckPasswordAsync((await users.FindByIdAsync(userId))!, password);
    }
}
