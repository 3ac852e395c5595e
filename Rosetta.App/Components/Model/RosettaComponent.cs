using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Rosetta.App.Auth;
using Rosetta.Core.Domain;

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

    /// <summary>Whether an action started through <see cref="OnceAtATimeAsync"/> is under way; its buttons are disabled meanwhile.</summary>
    protected bool Busy { get; private set; }

    /// <summary>
    /// Runs a person's action unless one is under way already. A second click lands while the first one awaits the
    /// database: without this a double click issued two tokens or share links (the first one valid, and never shown).
    /// </summary>
    protected async Task OnceAtATimeAsync(Func<Task> action)
    {
        if (Busy) return;
        Busy = true;
        try
        {
            await action();
        }
        finally
        {
            Busy = false;
        }
    }

    /// <summary>A redraw asked for by <see cref="RedrawFromElsewhere"/> is queued and not yet drawn: more asks ride on it.</summary>
    private int _redrawQueued;

    /// <summary>
    /// Redraws after a change seen on another thread (a service's event), once for a burst of them. Queued off that
    /// thread: an idle circuit would otherwise render right inside the service's own work (a proxied connection's
    /// open or close, a monitor's watch loop).
    /// </summary>
    protected void RedrawFromElsewhere()
    {
        if (Interlocked.Exchange(ref _redrawQueued, 1) == 1) return;
        ThreadPool.QueueUserWorkItem(_ => _ = InvokeAsync(() =>
        {
            Volatile.Write(ref _redrawQueued, 0);
            StateHasChanged();
        }));
    }

    /// <summary>Runs once the caller is known (instead of OnInitializedAsync).</summary>
    protected virtual Task OnCallerKnownAsync() => Task.CompletedTask;

    /// <summary>
    /// Runs a background loop (a subscription) or a one-off job (a measurement) for at most the page's
    /// lifetime. Errors other than the cancellation at disposal go to the renderer, which shows them,
    /// instead of vanishing. Called on the page's own dispatcher, like every event handler.
    /// </summary>
    protected void RunInBackground(Func<CancellationToken, Task> loop)
    {
        _background.RemoveAll(t => t.IsCompleted); // one-off jobs come and go: only what runs is awaited at disposal
        _background.Add(RunGuardedAsync(loop));
    }

    private Task RunGuardedAsync(Func<CancellationToken, Task> loop) => Task.Run(async () =>
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
    });

    public async ValueTask DisposeAsync()
    {
        await _disposed.CancelAsync();
        await Task.WhenAll(_background).ContinueWith(_ => { }, TaskScheduler.Default);
        _disposed.Dispose();
        GC.SuppressFinalize(this);
    }
}
