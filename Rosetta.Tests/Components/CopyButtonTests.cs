using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.JSInterop;
using MudBlazor;
using Rosetta.App.Components.Controls;

namespace Rosetta.Tests.Components;

/// <summary>The copy buttons (SSH command, task password, public keys, API tokens) and what they tell the user.</summary>
public sealed class CopyButtonTests
{
    [Fact]
    public async Task ACopyTheBrowserMadeSaysCopied()
    {
        await using var ctx = new DashboardTestContext();
        var copy = ctx.JSInterop.Setup<bool>("rosetta.copy", i => (string?)i.Arguments[0] == "ssh -p 20000 user@host");
        copy.SetResult(true);

        ctx.Render<CopyButton>(p => p.Add(b => b.Text, "ssh -p 20000 user@host").Add(b => b.Label, "Copy command")).Find("button").Click();

        Assert.Single(copy.Invocations);
        Assert.Equal("Copied", Assert.Single(ctx.Services.GetRequiredService<ISnackbar>().ShownSnackbars).Message);
    }

    [Theory]
    [InlineData(true)]  // the clipboard API refused and threw (seen: "Write permission denied." in headless Chromium)
    [InlineData(false)] // no clipboard API (plain HTTP beyond localhost) and the copy command did nothing
    public async Task ACopyTheBrowserRefusedTellsTheUserToCopyByHandAndThePageGoesOn(bool threw)
    {
        await using var ctx = new DashboardTestContext();
        var copy = ctx.JSInterop.Setup<bool>("rosetta.copy", _ => true);
        if (threw) copy.SetException(new JSException("Write permission denied."));
        else copy.SetResult(false);

        var button = ctx.Render<CopyButton>(p => p.Add(b => b.Text, "secret").Add(b => b.Label, "Copy password"));
        button.Find("button").Click(); // an exception escaping here would end the user's circuit

        var shown = Assert.Single(ctx.Services.GetRequiredService<ISnackbar>().ShownSnackbars);
        Assert.Equal(CopyButton.Refused, shown.Message);
        Assert.Equal(Severity.Warning, shown.Severity);
        Assert.Equal("Copy password", button.Find("button").GetAttribute("aria-label"));
    }
}
