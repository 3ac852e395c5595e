using Rosetta.App.Api;
using Rosetta.App.Auth;
using Rosetta.App.Components;
using Rosetta.App.Hubs;
using Rosetta.App.Proxy;
using MudBlazor.Services;
using Microsoft.AspNetCore.Connections;

namespace Rosetta.App.Hosting;

/// <summary>Builds the platform's web host: services, middleware and endpoints.</summary>
public static class RosettaHost
{
    public const string DefaultUrl = "http://127.0.0.1:8080";

    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        // Static web assets (MudBlazor's CSS/JS) are served from the build output in every
        // environment, not only Development, so `dotnet run -c Release` works without publishing.
        builder.WebHost.UseStaticWebAssets();
        // Loopback by default: exposing the platform is a decision (--urls / ASPNETCORE_URLS).
        if (string.IsNullOrEmpty(builder.Configuration["urls"])) builder.WebHost.UseUrls(DefaultUrl);
        AddKestrelBuffers(builder.Services);
        // A file's path travels in the address (downloads, uploads, previews): up to the system's 4096 bytes, each
        // escaped in 3 characters, which passes Kestrel's default request line of 8 KB; a file the file manager
        // lists must also come down.
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestLineSize = 3 * Rosetta.Core.Storages.StoragePath.MaxPathLength + 4 * 1024);

        builder.Services.AddRosettaCore(builder.Configuration);
        builder.Services.AddRosettaAuthentication(builder.Configuration);
        builder.Services.AddRosettaApi();
        builder.Services.AddTaskProxy();
        builder.Services.AddSignalR();
        builder.Services.AddHostedService<TaskHubPublisher>();
        // The file manager's editor hands a whole text (up to FilePreview.MaxEditChars characters) to the
        // circuit in one message; SignalR's default of 32 KB would drop the circuit with the edits.
        // Characters take up to 3 bytes in UTF-8, and control characters 6 as JSON escapes.
        builder.Services.AddRazorComponents().AddInteractiveServerComponents()
            .AddHubOptions(o => o.MaximumReceiveMessageSize = 6 * Api.FilePreview.MaxEditChars + 64 * 1024);
        builder.Services.AddMudServices();
        builder.Services.AddTransient<Components.Model.CatalogueNames>(); // one per page: it holds that page's names

        var app = builder.Build();
        PathModeExposure.WarnAtStart(app);
        app.UsePublicUrlScheme(); // before anything asks whether a request is https
        // First: the VNC relay accepts WebSockets on task hosts as well as under /t/{id}/.
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(20) });
        // Requests for a task's own host name (Rosetta:Proxy:TaskHost) never reach the dashboard below.
        app.UseTaskHosts();
        app.UseSecurityHeaders();
        app.UseDashboardPageGuard(); // before anything reads the cookies
        app.UseSameOriginRequests();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseDashboardRequestTokens(); // the session cookie opens the API only with the dashboard's token
        app.UseAuthorization();
        app.UseJsonCharsetCheck(); // after authorization: an anonymous caller learns it needs a token first
        app.UseAntiforgery();

        app.MapHealthChecks();
        app.MapRosettaApi();
        app.MapTaskProxy();
        app.MapHub<TaskHub>("/hubs/tasks");
        app.MapAccountEndpoints();
        app.MapStaticAssets();
        app.MapRazorComponents<Components.App>().AddInteractiveServerRenderMode();
        return app;
    }

    /// <summary>
    /// 64 KiB buffers for Kestrel (<see cref="LargeBlockMemoryPool"/>): uploads and relayed streams move
    /// in 16 times fewer socket calls. Kestrel takes the last registered pool factory, so this comes
    /// after Kestrel's own registration; the test host, whose UseKestrel registers Kestrel's pool again,
    /// calls it once more.
    /// </summary>
    public static void AddKestrelBuffers(IServiceCollection services) =>
        services.AddSingleton<IMemoryPoolFactory<byte>, LargeBlockMemoryPoolFactory>();

    private static void MapHealthChecks(this WebApplication app) =>
        app.MapGet("/healthz", (Rosetta.Core.Monitoring.TaskMonitor monitor) =>
                monitor.IsReady ? Results.Text("ok") : Results.Problem(statusCode: 503, title: "Starting", detail: "The platform is still starting."))
            .AllowAnonymous().AnswerHeadToo().WithTags("Health").WithSummary("200 once the platform serves; 503 while it starts.")
            .Produces<string>(200, "text/plain").ProducesProblem(503);
}
