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
    /// Shows <paramref name="problem"/>, or no error when it is null; a value the field cannot convert
    /// (letters in a number) keeps the field's own message, since the page has not seen that value.
    /// </summary>
    public static async Task ShowAsync(string? problem, bool conversionError,
        ParameterState<bool> error, ParameterState<string?> errorText, ParameterState<string?> errorId)
    {
        if (conversionError) return;
        await error.SetValueAsync(problem is not null);
        await errorText.SetValueAsync(problem);
        // The id ties the message to the input for screen readers (aria-describedby).
        await errorId.SetValueAsync(problem is null ? null : errorId.Value ?? Guid.NewGuid().ToString("n"));
    }
}
