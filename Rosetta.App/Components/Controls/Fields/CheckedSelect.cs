using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace Rosetta.App.Components.Controls.Fields;

/// <summary>A <see cref="MudSelect{T}"/> showing its page's message about it (see <see cref="FieldProblem"/>).</summary>
public sealed class CheckedSelect<T> : MudSelect<T>
{
    /// <summary>What is wrong with the value, as the page's check found; null when nothing is.</summary>
    [Parameter] public string? Problem { get; set; }

    protected override async Task OnParametersSetAsync()
    {
        await base.OnParametersSetAsync();
        await FieldProblem.ShowAsync(Problem, ConversionErrorMessage, ErrorState, ErrorTextState, ErrorIdState);
    }

    protected override async Task ValidateValue()
    {
        await base.ValidateValue();
        await FieldProblem.ShowAsync(Problem, ConversionErrorMessage, ErrorState, ErrorTextState, ErrorIdState);
        StateHasChanged();
    }
}
