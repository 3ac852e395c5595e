using MudBlazor.State;

namespace Rosetta.App.Components.Controls.Fields;

/// <summary>
/// Puts a page's message about a field (Core's rules, run by the page) on the field and keeps it there.
/// MudBlazor fields manage their error themselves: they drop it when they validate (on blur, after a
/// conversion error), and they take an <c>Error</c> parameter only when it differs from the last one
/// passed, so a page passing the same error again could not bring it back. These fields take the
/// message as <c>Problem</c> instead and put it back after every parameter update and every validation.
/// </summary>
internal static class FieldProblem
{
    /// <summary>
    /// Shows <paramref name="problem"/>, or no error when it is null. <paramref name="unreadable"/> is the
    /// field's <c>ConversionErrorMessage</c> (null unless its text did not convert): text the field cannot read as its
    /// type (letters in a number field) shows the field's own message instead: the page never got that
    /// text (the field hands it an empty value), so its check cannot have found what is wrong with it.
    /// The page's message replaces what the field found itself, so these fields take no
    /// <c>Required</c>, <c>Validation</c> or <c>For</c>: the page's check says all.
    /// </summary>
    public static async Task ShowAsync(string? problem, string? unreadable,
        ParameterState<bool> error, ParameterState<string?> errorText, ParameterState<string?> errorId)
    {
        var shown = unreadable ?? problem;
        await error.SetValueAsync(shown is not null);
        await errorText.SetValueAsync(shown);
        // The id ties the message to the input for screen readers (aria-describedby).
        await errorId.SetValueAsync(shown is null ? null : errorId.Value ?? Guid.NewGuid().ToString("n"));
    }
}
