using AngleSharp.Dom;
using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using Rosetta.App.Components.Pages;
using Rosetta.Core.Domain;

namespace Rosetta.Tests.Components;

/// <summary>
/// Every form of the dashboard, each of its text fields filled with what a user might type or paste, then sent:
/// the page answers (a message on a field, an error line, or done), it never breaks the circuit.
/// </summary>
public sealed class FormSweepTests
{
    private static readonly string[] Typed =
    [
        "", " ", "../../etc/passwd", "a/b", "a\u0000b", "\u0001\u001f\u007f", "$(id); rm -rf /", "'\"`", "<script>alert(1)</script>",
        new('a', 5000), "💥\u202e‮", "\ud800", "-1", "0", "99999999999999999999", "1e400", "NaN", "١٢٣", "ﬁ ǅ İ",
    ];

    private const string AnyTextField = "input:not([type=checkbox]):not([type=radio]):not([type=file]):not([readonly]), textarea";

    /// <summary>A form: how to open it on a fresh page, the button that sends it, and its fields (all the page's unless said).</summary>
    /// <param name="Send">The button that sends it; a disabled one (the page refused the input already) is not clicked.</param>
    /// <param name="Then">A next button after that one (the wizard's Start), clicked when it is there and enabled.</param>
    public sealed record Form(string Name, Func<DashboardTestContext, Task<IRenderedComponent<IComponent>>> OpenAsync, string Send,
        string FieldSelector = AnyTextField, string? Then = null);

    private static readonly Form[] Forms =
    [
        new("software", async ctx => await OpenAsync<SoftwareCatalogue>(ctx, "[data-test=add-software]"), "[data-test=sw-save]"),
        new("computing", async ctx => await OpenAsync<Computing>(ctx, "[data-test=add-computing]"), "[data-test=c-save]"),
        new("token", async ctx => await OpenAsync<Account>(ctx, null), "[data-test=token-create]"),
        new("password", async ctx => await OpenAsync<Account>(ctx, null), "[data-test=pw-save]"),
        new("user", async ctx => await OpenAsync<Admin>(ctx, null), "[data-test=create-user]"),
        new("reset", async ctx =>
        {
            var bob = "bob-" + Guid.NewGuid().ToString("N")[..6];
            await ctx.EnsureUserAsync(bob, bob);
            var page = await OpenAsync<Admin>(ctx, null);
            page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-test=reset]")));
            await page.InvokeAsync(() => page.FindAll("[data-test=reset]").Last().Click());
            return page;
        }, "[data-test=reset-save]"),
        new("folder", async ctx => await OpenAsync<Files>(ctx, null), "[data-test=new-folder]"),
        new("storage", async ctx =>
        {
            var page = await OpenAsync<Files>(ctx, "[data-test=manage-storages]");
            page.WaitForAssertion(() => page.Find("[data-test=add-storage]"));
            await page.InvokeAsync(() => page.Find("[data-test=add-storage]").Click());
            page.WaitForAssertion(() => page.Find("[data-test=s-name]"));
            return page;
        }, "[data-test=s-save]"),
        new("rename", async ctx =>
        {
            FilesPageTests.PersonalFolder(ctx);
            var page = await OpenAsync<Files>(ctx, null);
            page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-test=rename]")));
            await page.InvokeAsync(() => page.FindAll("[data-test=rename]").Last().Click());
            page.WaitForAssertion(() => page.Find("[data-test=rename-save]"));
            return page;
        }, "[data-test=rename-save]", "input[data-test=rename-name], [data-test=rename-name] input"), // the search box would hide the row
        new("share", async ctx =>
        {
            var task = await ctx.AddTaskAsync("shared", TaskState.Running);
            return (IRenderedComponent<IComponent>)(object)ctx.Render<TaskDetail>(p => p.Add(x => x.Id, task.Id));
        }, "[data-test=share-create]"),
        new("task", async ctx =>
        {
            var page = await OpenAsync<NewTask>(ctx, "[data-test=software-hello]");
            page.WaitForAssertion(() => page.Find("[data-test=computing-local]"));
            await page.InvokeAsync(() => page.Find("[data-test=computing-local]").Click());
            page.WaitForAssertion(() => page.Find("[data-test=add-env]"));
            await page.InvokeAsync(() => page.Find("[data-test=add-env]").Click());
            return page;
        }, "[data-test=next]", Then: "[data-test=start]"),
        // The name alone, the rest left valid: the wizard goes on to Start with it.
        new("task-name", async ctx =>
        {
            var page = await OpenAsync<NewTask>(ctx, "[data-test=software-hello]");
            page.WaitForAssertion(() => page.Find("[data-test=computing-local]"));
            await page.InvokeAsync(() => page.Find("[data-test=computing-local]").Click());
            page.WaitForAssertion(() => page.Find("[data-test=name]"));
            return page;
        }, "[data-test=next]", "input[data-test=name], [data-test=name] input", Then: "[data-test=start]"),
    ];

    public static TheoryData<string> FormNames => [.. Forms.Select(f => f.Name)];

    [Theory]
    [MemberData(nameof(FormNames))]
    public async Task NoFormBreaksOnWhatAUserTypes(string name)
    {
        var form = Forms.Single(f => f.Name == name);
        await using var ctx = new DashboardTestContext(admin: true);
        var failures = new List<string>();
        foreach (var typed in Typed)
        {
            var page = await form.OpenAsync(ctx);
            page.WaitForAssertion(() => page.Find(form.Send));
            var fields = page.FindAll(form.FieldSelector).Count;
            Assert.True(fields > 0, $"the {name} form has no text field");
            // Each field found anew on the renderer's thread: a field's check re-renders the form.
            for (var i = 0; i < fields; i++)
            {
                var index = i;
                await Try(() => page.InvokeAsync(async () =>
                {
                    var field = page.FindAll(form.FieldSelector).ElementAtOrDefault(index);
                    if (field is null) return;
                    // Typed (oninput), then left (onchange), as far as the field listens to each; awaited, so a handler's
                    // own awaits (the database, a password hash) are over before the next step.
                    try { await field.InputAsync(new ChangeEventArgs { Value = typed }); } catch (MissingEventHandlerException) { }
                    try
                    {
                        if (page.FindAll(form.FieldSelector).ElementAtOrDefault(index) is { } left) await left.ChangeAsync(new ChangeEventArgs { Value = typed });
                    }
                    catch (MissingEventHandlerException) { }
                }));
            }
            if (name == "task-name")
            {
                // The name reaches the wizard when its typing pauses (200 ms): sent before that, Start would see the old one.
#pragma warning disable MUD0012 // read, not written: the value the page has taken so far
                page.WaitForAssertion(() => Assert.Equal(typed, page.FindComponents<Rosetta.App.Components.Controls.Fields.CheckedTextField<string>>()
                    .Single(f => f.Instance.Label == "Name").Instance.Value ?? ""), TimeSpan.FromSeconds(5));
#pragma warning restore MUD0012
            }
            await Try(() => page.InvokeAsync(() => ClickIfEnabledAsync(page, form.Send)));
            if (form.Then is { } then) await Try(() => page.InvokeAsync(() => ClickIfEnabledAsync(page, then)));
            if (ctx.Renderer.UnhandledException.IsCompleted) break;

            async Task Try(Func<Task> step)
            {
                try
                {
                    await step();
                }
                catch (Exception e) when (e is not Xunit.Sdk.XunitException)
                {
                    failures.Add($"{Shown(typed)}: {e.GetType().Name}: {e.Message}");
                }
            }
        }
        // The wizard is seen through to Start: tasks were made of the names it took.
        if (name == "task-name") Assert.Contains(ctx.Monitor.Feed.Items.Values, t => t.OwnerId == DashboardTestContext.UserId);
        if (ctx.Renderer.UnhandledException.IsCompleted)
            failures.Add($"the page broke: {await ctx.Renderer.UnhandledException}");
        Assert.True(failures.Count == 0, string.Join("\n", failures.Distinct()));
    }

    private static async Task ClickIfEnabledAsync(IRenderedComponent<IComponent> page, string selector)
    {
        if (page.FindAll(selector).FirstOrDefault() is { } button && !button.HasAttribute("disabled")) await button.ClickAsync(new Microsoft.AspNetCore.Components.Web.MouseEventArgs());
    }

    private static async Task<IRenderedComponent<IComponent>> OpenAsync<TPage>(DashboardTestContext ctx, string? opener) where TPage : IComponent
    {
        var page = (IRenderedComponent<IComponent>)(object)ctx.Render<TPage>();
        if (opener is not null)
        {
            page.WaitForAssertion(() => page.Find(opener));
            await page.InvokeAsync(() => page.Find(opener).Click());
        }
        return page;
    }

    private static string Shown(string typed) => typed.Length > 20 ? typed[..20] + "…" : typed;
}
