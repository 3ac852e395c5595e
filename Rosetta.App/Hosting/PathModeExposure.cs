using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Rosetta.App.Hosting;

/// <summary>
/// Path mode's guards against a task's page (<see cref="DashboardPageGuard"/>, the opener policy) rest on
/// what browsers do for secure origins only: they send fetch metadata and honour
/// <c>Cross-Origin-Opener-Policy</c> over HTTPS or on the loopback, not over plain HTTP to another
/// address. Such an installation is told at start-up.
/// </summary>
public static class PathModeExposure
{
    /// <summary>What to warn about, or null when browsers reach the dashboard over a secure origin (or tasks have their own).</summary>
    public static string? Warning(IEnumerable<string> listening, string? publicUrl, bool taskHosts)
    {
        if (taskHosts) return null;
        if (Uri.TryCreate(publicUrl, UriKind.Absolute, out var url)) return IsSecure(url) ? null : Message(url.ToString());
        var exposed = listening.Select(a => Uri.TryCreate(a.Replace("://*", "://0.0.0.0").Replace("://+", "://0.0.0.0"), UriKind.Absolute, out var u) ? u : null)
            .FirstOrDefault(u => u is not null && !IsSecure(u));
        return exposed is null ? null : Message(exposed.ToString());
    }

    private static bool IsSecure(Uri url) => url.Scheme == Uri.UriSchemeHttps || url.IsLoopback;

    private static string Message(string address) =>
        $"The dashboard is served over plain HTTP at {address}, and task interfaces share its address (path mode): browsers apply " +
        "the protections that keep a task's page away from the dashboard's session only over HTTPS or on the loopback. " +
        "Serve it over HTTPS (Rosetta:PublicUrl behind a TLS proxy), or give tasks their own host names (Rosetta:Proxy:TaskHost).";

    public static void WarnAtStart(WebApplication app) => app.Lifetime.ApplicationStarted.Register(() =>
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        if (Warning(addresses, app.Configuration["Rosetta:PublicUrl"], app.Services.GetRequiredService<Proxy.TaskHostNames>().Enabled) is { } warning)
            app.Logger.LogWarning("{Warning}", warning);
    });
}
