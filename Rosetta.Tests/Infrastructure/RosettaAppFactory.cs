using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Rosetta.Core.Domain;

namespace Rosetta.Tests.Infrastructure;

/// <summary>
/// The real platform on a loopback Kestrel port, with its own SQLite file and data folder, against
/// the real Docker engine. Two factories over the same <see cref="DataDirectory"/> model a platform
/// restart. Whoever disposes the last one removes the instance's containers (<see cref="RemoveContainersAsync"/>);
/// the data folders it made go when the test run ends.
/// </summary>
public sealed class RosettaAppFactory : WebApplicationFactory<Program>
{
    public const string AdminPassword = "admin-test-password";
    private readonly Dictionary<string, string?> _settings;

    private readonly Action<IServiceCollection>? _services;

    /// <summary>
    /// The data folders this test run made. They go when the run ends, not when a factory is disposed:
    /// a restart test hands its first factory's folder to the second.
    /// </summary>
    private static readonly ConcurrentBag<string> CreatedDataDirectories = [];

    static RosettaAppFactory() => AppDomain.CurrentDomain.ProcessExit += (_, _) =>
    {
        foreach (var directory in CreatedDataDirectories)
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A file a task container wrote under another uid; a non-root developer removes it by hand.
            }
        }
    };

    public RosettaAppFactory(string? dataDirectory = null, IDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null)
    {
        _services = services;
        if (dataDirectory is null)
        {
            dataDirectory = Path.Combine(Path.GetTempPath(), "rosetta-tests", Guid.NewGuid().ToString("N"));
            CreatedDataDirectories.Add(dataDirectory);
        }
        DataDirectory = dataDirectory;
        Directory.CreateDirectory(DataDirectory);
        _settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Rosetta"] = $"Data Source={Path.Combine(DataDirectory, "rosetta.db")}",
            ["Rosetta:DataDirectory"] = DataDirectory,
            ["Rosetta:Admin:Password"] = AdminPassword,
            ["Rosetta:Docker:StopGraceSeconds"] = "2",
            ["Rosetta:Tasks:StartTimeoutSeconds"] = "60",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) _settings[key] = value;
        UseKestrel(0);
        StartServer();
        BaseAddress = new Uri(Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .First().Replace("[::1]", "127.0.0.1"));
    }

    public string DataDirectory { get; }
    public Uri BaseAddress { get; }
    public string InstanceId => Services.GetRequiredService<PlatformIdentity>().InstanceId;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings) builder.UseSetting(key, value);
        if (_services is not null) builder.ConfigureServices(_services);
    }

    /// <summary>
    /// UseKestrel registers Kestrel's own buffer pool after the app's services, so the platform's
    /// (<see cref="Rosetta.App.Hosting.RosettaHost.AddKestrelBuffers"/>) is registered once more, last.
    /// </summary>
    protected override IHost CreateHost(IHostBuilder builder)
    {
        builder.ConfigureServices(Rosetta.App.Hosting.RosettaHost.AddKestrelBuffers);
        return base.CreateHost(builder);
    }

    /// <summary>An HTTP client for the real server, authenticated with a token when given.</summary>
    public HttpClient Client(string? token = null)
    {
        var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false })
        {
            BaseAddress = BaseAddress,
            Timeout = TimeSpan.FromSeconds(60),
        };
        if (token is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public async Task<string> TokenAsync(string username, string password)
    {
        using var client = Client();
        var response = await client.PostAsJsonAsync("/api/v1/tokens", new { username, password });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<TokenAnswer>())!.Token;
    }

    public Task<string> AdminTokenAsync() => TokenAsync("admin", AdminPassword);

    /// <summary>
    /// What the dashboard appends to the API links it gives a signed-in user's browser (as the
    /// <c>dashboardToken</c> query parameter): with it, and only with it, the session cookie opens the API.
    /// </summary>
    public async Task<string> DashboardTokenAsync(string username)
    {
        using var scope = Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<RosettaUser>>();
        var principals = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.IUserClaimsPrincipalFactory<RosettaUser>>();
        var session = await principals.CreateAsync((await users.FindByNameAsync(username))!);
        return Uri.EscapeDataString(Services.GetRequiredService<Rosetta.App.Auth.DashboardRequestTokens>().Issue(session));
    }

    /// <summary>Creates a user (through the admin API) and returns a client authenticated as them.</summary>
    public async Task<HttpClient> NewUserClientAsync(string? username = null)
    {
        username ??= "user" + Guid.NewGuid().ToString("N")[..8];
        using var admin = Client(await AdminTokenAsync());
        var created = await admin.PostAsJsonAsync("/api/v1/users", new { username, password = "password-" + username, admin = false });
        created.EnsureSuccessStatusCode();
        return Client(await TokenAsync(username, "password-" + username));
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    /// <summary>Removes every container of a platform instance (tests clean up after themselves).</summary>
    public static async Task RemoveContainersAsync(string instanceId)
    {
        using var docker = DockerEngine.Client();
        var containers = await docker.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["label"] = new Dictionary<string, bool> { [$"rosetta.instance={instanceId}"] = true },
            },
        });
        foreach (var container in containers)
        {
            try
            {
                await docker.Containers.RemoveContainerAsync(container.ID, new ContainerRemoveParameters { Force = true });
            }
            catch (DockerContainerNotFoundException)
            {
            }
        }
    }

    private sealed record TokenAnswer(string Token);
}
