using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Rosetta.App.Auth;
using Rosetta.Core.Domain;
using Rosetta.Core.Validation;

namespace Rosetta.App.Components.Model;

/// <summary>
/// Base for interactive pages: resolves the signed-in <see cref="Caller"/> once, and owns a
/// cancellation token that ends every subscription the page started when it is disposed.
/// </summary>
public abstract class RosettaComponent : ComponentBase, IAsyncDisposable
{
    private readonly CancellationTokenSource _disposed = new();
    private readonly List<Task> _background = [];

    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    protected Caller Caller { get; private set; } = default!;
    protected string UserName { get; private set; } = "";
    protected CancellationToken Disposed => _disposed.Token;

    protected override async Task OnInitializedAsync()
    {
        var user = (await AuthenticationState).User;
        Caller = user.ToCaller();
        UserName = user.Identity?.Name ?? "";
        await OnCallerKnownAsync();
    }

    /// <summary>Runs once the caller is known (instead of OnInitializedAsync).</summary>
    protected virtual Task OnCallerKnownAsync() => Task.CompletedTask;

    /// <summary>
    /// Runs a background loop (a subscription) for the page's lifetime. Errors other than the
    /// cancellation at disposal go to the renderer, which shows them, instead of vanishing.
    /// </summary>
    protected void RunInBackground(Func<CancellationToken, Task> loop) => _background.Add(Task.Run(async () =>
    {
        try
        {
            await loop(Disposed);
        }
        catch (OperationCanceledException) when (Disposed.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            await DispatchExceptionAsync(e);
        }
    }));

    public async ValueTask DisposeAsync()
    {
        await _disposed.CancelAsync();
        await Task.WhenAll(_background).ContinueWith(_ => { }, TaskScheduler.Default);
        _disposed.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// Puts Core's messages on a form's fields, also on a field that showed one already: MudBlazor's
    /// fields validate themselves on every change and drop an error their page keeps passing (the same
    /// value again is no change to them). One render without the errors of the fields still in error
    /// makes their new ones a change; fields whose error comes or goes need no such render.
    /// </summary>
    /// <param name="asTheUserTypes">A check run while the user types (after a field's debounce): only the
    /// fields whose message changes get that render. That is the field just edited, whose typing is in; another
    /// field in error may hold typing not yet handed to the page (its debounce pending), which a render of it
    /// without its error would put back to the page's value. (Such a check misses a field changed to another
    /// wrong value with the same message; the check when the form is sent shows it.)</param>
    protected async Task ShowErrorsAsync(FieldErrors errors, ValidationErrors found, bool asTheUserTypes = false)
    {
        var showing = errors.StartShowing();
        var next = found.ToDictionary();
        var stillWrong = errors.Fields
            .Where(f => next.TryGetValue(f, out var messages) && (!asTheUserTypes || string.Join(" ", messages) != errors.Of(f))).ToList();
        if (stillWrong.Count > 0)
        {
            errors.Remove(stillWrong);
            StateHasChanged();
            await Task.Yield();
            // Checks as the user types overlap: one begun meanwhile has shown what is wrong now.
            if (showing != errors.Showings) return;
        }
        errors.Set(found);
    }
}
