using Bunit;
using Rosetta.App.Components.Controls.Fields;

namespace Rosetta.Tests.Components;

/// <summary>
/// Fields that show their page's message about them (Core's rules) and keep showing it: MudBlazor's own
/// fields drop such a message whenever they validate themselves.
/// </summary>
public sealed class CheckedFieldTests
{
    private const string TooFew = "must be at least 0.1 (a fraction of one core is allowed).";

    [Fact]
    public async Task TheMessageComesGoesAndComesBackWithThePage()
    {
        await using var ctx = new DashboardTestContext();
        var field = ctx.Render<CheckedTextField<string>>(p => p.Add(f => f.Label, "Memory"));
        Assert.Empty(field.FindAll(".mud-input-error"));

        field.Render(p => p.Add(f => f.Problem, "'lots' is not a memory size."));
        Assert.Contains("'lots' is not a memory size.", field.Find(".mud-input-helper-text").TextContent);
        var input = field.Find("input");
        Assert.Equal("true", input.GetAttribute("aria-invalid"));
        // The message is tied to the input for screen readers.
        Assert.Contains("'lots' is not a memory size.", field.Find($"[id='{input.GetAttribute("aria-describedby")}']").TextContent);

        field.Render(p => p.Add(f => f.Problem, null));
        Assert.Empty(field.FindAll(".mud-input-error"));
        field.Render(p => p.Add(f => f.Problem, "'lots' is not a memory size."));
        Assert.Single(field.FindAll(".mud-input-helper-text.mud-input-error"));
    }

    [Fact]
    public async Task ANumberFieldKeepsThePagesMessageThroughItsOwnChecks()
    {
        await using var ctx = new DashboardTestContext();
        var field = ctx.Render<CheckedNumericField<double?>>(p => p.Add(f => f.Immediate, true).Add(f => f.Problem, TooFew));

        await field.InvokeAsync(() => field.Find("input").Input("5"));
        Assert.Contains(TooFew, field.Find(".mud-input-helper-text").TextContent);

        // Letters are the field's own business: the page never sees them, so the field says what is wrong.
        await field.InvokeAsync(() => field.Find("input").Input("abc"));
        Assert.DoesNotContain(TooFew, field.Markup);
        Assert.Single(field.FindAll(".mud-input-helper-text.mud-input-error"));

        // A number again: the field drops its own message (a MudNumericField, the page's with it).
        await field.InvokeAsync(() => field.Find("input").Input("-6"));
        Assert.Contains(TooFew, field.Find(".mud-input-helper-text").TextContent);

        // Losing the focus validates the field again.
        await field.InvokeAsync(() => field.Find("input").Blur());
        Assert.Contains(TooFew, field.Find(".mud-input-helper-text").TextContent);
    }
}
