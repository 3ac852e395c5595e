using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace Rosetta.App.Components.Controls.Fields;

/// <summary>A <see cref="MudNumericField{T}"/> showing its page's message about it (see <see cref="FieldProblem"/>).</summary>
public sealed class CheckedNumericField<T> : MudNumericField<T>
{
    /// <summary>What is wrong with the value, as the page's check found; null when nothing is.</summary>
    [Parameter] public string? Problem { get; set; }

    /// <summary>
    /// The text typed is not a number: the field says so, and hands its page an empty value, which the
    /// page's own check would take for "not given". Pages ask this before they go on.
    /// </summary>
    public bool Unreadable => ConversionError;

    protected override async Task OnParametersSetAsync()
    {
        await base.OnParametersSetAsync();
        await FieldProblem.ShowAsync(Problem, ConversionErrorMessage, ErrorState, ErrorTextState, ErrorIdState);
    }

    protected override T? ConvertGet(string? input)
    {
        var wasUnreadable = ConversionError;
        var value = base.ConvertGet(input);
        // MudBlazor validates, and so shows or clears a conversion error, only when the value changes:
        // letters typed into an empty field leave it empty, as does clearing them. Validated here then.
        if (ConversionError != wasUnreadable) _ = InvokeAsync(ValidateValue);
        return value;
    }

    protected override async Task ValidateValue()
    {
        await base.ValidateValue();
        await FieldProblem.ShowAsync(Problem, ConversionErrorMessage, ErrorState, ErrorTextState, ErrorIdState);
        StateHasChanged();
    }
}
