using System.Runtime.CompilerServices;
using System.Security.Claims;
using Bunit;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MudBlazor;
using MudBlazor.Services;
using Rosetta.App.Auth;
using Rosetta.Core.Accounts;
using Rosetta.Core.Backends;
using Rosetta.Core.Catalogue;
using Rosetta.Core.Domain;
using Rosetta.Core.Monitoring;
using Rosetta.Core.Persistence;
using Rosetta.Core.Security;
using Rosetta.Core.Tasks;
using Rosetta.Core.Validation;

namespace Rosetta.Tests.Components;

/// <summary>
/// bUnit context with the real Core services over a temporary SQLite database and a fake backend
/// (no engine needed), so component tests drive the same monitor, feed and validation as the app.
/// </summary>
public sealed class DashboardTestContext : BunitContext
{
    public const string UserId = "user-1";
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "rosetta-bunit", Guid.NewGuid().ToString("N"));

    /// <param name="moreBackends">Backends of other kinds (e.g. a <see cref="FakeBackend"/> of kind SSH); the local one stays the default backend.</param>
    /// <param name="databaseInterceptor">Sees every database command (e.g. to hold writers at one point).</param>
    /// <param name="tasks">The monitor's settings (e.g. a limit of tasks per user); the defaults otherwise.</param>
    /// <param name="storageQuotaBytes">Rosetta:Storage:QuotaBytes (0: none).</param>
    /// <param name="startMonitor">False: the test starts <see cref="Monitor"/> itself (e.g. after beginning work on it).</param>
    public DashboardTestContext(bool admin = false, IEnumerable<ITaskBackend>? moreBackends = null,
        Microsoft.EntityFrameworkCore.Diagnostics.IInterceptor? databaseInterceptor = null, TaskMonitorOptions? tasks = null, long storageQuotaBytes = 0,
        bool startMonitor = true)
    {
        Directory.CreateDirectory(_directory);
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices(o =>
        {
            o.PopoverOptions.CheckForPopoverProvider = false;
            o.SnackbarConfiguration.ShowTransitionDuration = 0;
            o.SnackbarConfiguration.HideTransitionDuration = 0;
        });
        Services.AddDbContextFactory<RosettaDbContext>(o =>
        {
            o.UseSqlite($"Data Source={Path.Combine(_directory, "r.db")}");
            if (databaseInterceptor is not null) o.AddInterceptors(databaseInterceptor);
        });
        Services.AddDataProtection().UseEphemeralDataProtectionProvider();
        Services.AddSingleton<PlatformIdentity>();
        Services.AddSingleton<TaskSecrets>();
        Services.AddSingleton<InterfaceProbe>();
        foreach (var backend in moreBackends ?? []) Services.AddSingleton(backend);
        Services.AddSingleton<ITaskBackend>(Backend); // last: what GetRequiredService<ITaskBackend> answers
        Services.AddSingleton(Options.Create(tasks ?? new TaskMonitorOptions()));
        Services.AddSingleton(typeof(Microsoft.Extensions.Logging.ILogger<>), typeof(NullLogger<>));
        Services.AddSingleton(Options.Create(new Rosetta.Core.Storages.StorageOptions { Root = Path.Combine(_directory, "storage"), QuotaBytes = storageQuotaBytes }));
        Services.AddSingleton(Options.Create(new Rosetta.Core.Backends.Ssh.SshOptions()));
        Services.AddSingleton<Microsoft.Extensions.Logging.ILoggerFactory>(NullLoggerFactory.Instance);
        Services.AddSingleton<Rosetta.Core.Backends.Ssh.SshConnectionPool>();
        Services.AddSingleton<Rosetta.Core.Backends.Ssh.TunnelAdmission>();
        Services.AddSingleton<Rosetta.Core.Storages.StorageService>();
        Services.AddSingleton<TaskMonitor>();
        Services.AddSingleton(Options.Create(new Rosetta.Core.Tunnels.ForwardingOptions()));
        Services.AddSingleton<Rosetta.Core.Tunnels.InterfaceForwarding>();
        Services.AddSingleton(TimeProvider.System);
        Services.AddSingleton<Rosetta.Core.Sharing.ShareLinkService>();
        Services.AddSingleton(Options.Create(new Rosetta.Core.Sharing.SharingOptions()));
        Services.AddSingleton<Rosetta.Core.Sharing.ShareLinkConnections>();
        Services.AddSingleton<TaskService>();
        Services.AddSingleton<SoftwareService>();
        Services.AddSingleton<ComputingService>();
        Services.AddSingleton<ApiTokenService>();
        Services.AddSingleton<UserKeyService>();
        Services.AddSingleton<Rosetta.Core.Accounts.AccountRemoval>();
        Services.AddIdentityCore<RosettaUser>(AuthenticationSetup.ConfigureIdentity)
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<RosettaDbContext>()
            .AddDefaultTokenProviders();
        Services.AddSingleton<UserAdministration>();
        Services.AddSingleton<PrincipalCache>();
        Services.AddSingleton<DashboardRequestTokens>();
        Services.AddScoped<DashboardApiLinks>();
        Services.AddSingleton(new Rosetta.App.Proxy.TaskHostNames(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build())); // path mode
        Services.AddSingleton(new Rosetta.App.Hosting.PublicBaseUrl(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build())); // the request's own address
        Services.AddSingleton<AccountEnds>();
        Services.AddSingleton<SessionEnds>();
        Services.AddSingleton<SignInSessionStore>();
        Services.AddTransient<Rosetta.App.Components.Model.CatalogueNames>();

        var auth = AddAuthorization();
        auth.SetAuthorized("alice");
        if (admin) auth.SetRoles(Roles.Admin);
        auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, UserId));

        var initializer = new DatabaseInitializer(Services.GetRequiredService<IDbContextFactory<RosettaDbContext>>(),
            Services.GetRequiredService<PlatformIdentity>(), Microsoft.Extensions.Options.Options.Create(new DemoOptions()),
            Services.GetRequiredService<IOptions<Rosetta.Core.Storages.StorageOptions>>(), Services.GetRequiredService<AccountEnds>(), NullLogger<DatabaseInitializer>.Instance);
        initializer.InitializeAsync(CancellationToken.None).GetAwaiter().GetResult();
        EnsureUserAsync(UserId, "alice").GetAwaiter().GetResult(); // the signed-in user, who owns tasks
        Monitor = Services.GetRequiredService<TaskMonitor>();
        SetRendererInfo(new Microsoft.AspNetCore.Components.RendererInfo("Server", isInteractive: true)); // as on a live circuit
        if (startMonitor) Monitor.StartAsync(CancellationToken.None).GetAwaiter().GetResult();
    }

    public TaskMonitor Monitor { get; }

    /// <summary>
    /// This context's local engine. Its own, not shared: test classes run in parallel, and a page of
    /// another test following the logs of a shared fake would read the lines written for this one.
    /// </summary>
    public FakeBackend Backend { get; } = new();

    /// <summary>Adds a task in a given state straight into the monitor (as if a backend had reported it).</summary>
    public async Task<TaskRecord> AddTaskAsync(string name, TaskState status, string ownerId = UserId, string softwareId = "hello", string computingId = "local")
    {
        await EnsureUserAsync(ownerId, ownerId); // tasks have owners with accounts
        var task = await Monitor.AddAsync(new TaskRecord
        {
            Id = TaskIds.New(), OwnerId = ownerId, Name = name, SoftwareId = softwareId, ComputingId = computingId,
            ImageReference = "rosetta/hello:latest", BackendId = status == TaskState.Created ? null : "container-" + name,
            InterfaceHost = "127.0.0.1", InterfacePort = 1,
        }, CancellationToken.None);
        return await SetStatusAsync(task.Id, status);
    }

    public async Task EnsureUserAsync(string id, string name)
    {
        await using var db = await Services.GetRequiredService<IDbContextFactory<RosettaDbContext>>().CreateDbContextAsync();
        if (await db.Users.AnyAsync(u => u.Id == id)) return;
        db.Users.Add(new RosettaUser { Id = id, UserName = name, NormalizedUserName = name.ToUpperInvariant() });
        await db.SaveChangesAsync();
    }

    public async Task<TaskRecord> SetStatusAsync(string id, TaskState status, string? error = null) =>
        (await Monitor.UpdateAsync(id, t => { t.Status = status; t.Error = error; return true; }))!;

    /// <exception cref="InvalidOperationException">The monitor did not stop within 30 s (a test fails instead of hanging the run).</exception>
    protected override void Dispose(bool disposing)
    {
        using (var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
            Monitor.StopAsync(limit.Token).GetAwaiter().GetResult();
        var stopped = Monitor.ExecuteTask is null or { IsCompleted: true };
        base.Dispose(disposing);
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
        if (!stopped) throw new InvalidOperationException("The task monitor did not stop within 30 s: something it began was not called off.");
    }

    /// <summary>A backend with no engine: capacity of a small machine, logs from a list, no events.</summary>
    public sealed class FakeBackend(ComputingKind kind = ComputingKind.Local) : ITaskBackend
    {
        public List<LogLine> Logs { get; } = [];
        public ComputingKind Kind => kind;
        /// <summary>Thrown by <see cref="TestConnectionAsync"/> while set.</summary>
        public Exception? TestFailure { get; set; }
        public Task<string> TestConnectionAsync(ComputingResource computing, CancellationToken ct) =>
            TestFailure is { } failure ? Task.FromException<string>(failure) : Task.FromResult("fake engine");
        /// <summary>What <see cref="GetCapacityAsync"/> does; by default it answers at once.</summary>
        public Func<CancellationToken, Task<ComputingCapacity>>? Measuring { get; set; }
        public Task<ComputingCapacity> GetCapacityAsync(ComputingResource computing, CancellationToken ct) =>
            Measuring?.Invoke(ct) ?? Task.FromResult(new ComputingCapacity(2, 4L << 30));
        /// <summary>What <see cref="LaunchAsync"/> does; by default it refuses.</summary>
        public Func<LaunchRequest, CancellationToken, Task<LaunchResult>>? Launching { get; set; }
        public Task<LaunchResult> LaunchAsync(LaunchRequest request, IProgress<string> progress, CancellationToken ct) =>
            Launching?.Invoke(request, ct) ?? throw new LaunchFailedException("The fake backend does not launch containers.");
        /// <summary>Thrown by <see cref="StopAsync"/> when set.</summary>
        public Exception? StopFailure { get; set; }
        /// <summary>The containers asked to stop, in order.</summary>
        public System.Collections.Concurrent.ConcurrentQueue<string> Stopped { get; } = new();
        public Task StopAsync(ComputingResource computing, string backendId, CancellationToken ct)
        {
            if (StopFailure is { } failure) throw failure;
            Stopped.Enqueue(backendId);
            return Task.CompletedTask;
        }
        /// <summary>Runs while <see cref="RemoveAsync"/> removes a container (e.g. the engine's events about it).</summary>
        public Func<string, Task>? Removing { get; set; }
        public Task RemoveAsync(ComputingResource computing, string taskId, string backendId, CancellationToken ct) => Removing?.Invoke(backendId) ?? Task.CompletedTask;
        /// <summary>When set, a followed log goes on with what is written here after <see cref="Logs"/>.</summary>
        public System.Threading.Channels.Channel<LogLine>? LiveLogs { get; set; }

        /// <summary>Thrown by <see cref="ReadLogsAsync"/> while set (an unreachable resource).</summary>
        public Exception? LogFailure { get; set; }

        /// <summary>How many times the output was asked for.</summary>
        public int LogReads;

        public async IAsyncEnumerable<LogLine> ReadLogsAsync(ComputingResource computing, string backendId, int? tail, bool follow, [EnumeratorCancellation] CancellationToken ct)
        {
            Interlocked.Increment(ref LogReads);
            if (LogFailure is { } failure) throw failure;
            foreach (var line in Logs.ToList()) yield return line;
            if (follow && LiveLogs is { } live)
                await foreach (var line in live.Reader.ReadAllAsync(ct)) yield return line;
        }
        private readonly TaskCompletionSource _listed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Done once the monitor's watcher has asked for the listing it starts with (and, by default, waits on for ever).</summary>
        public Task WatcherListed => _listed.Task;

        /// <summary>What <see cref="ListAsync"/> answers; by default nothing, ever.</summary>
        public Func<CancellationToken, Task<IReadOnlyList<ObservedContainer>>>? Listing { get; set; }

        /// <summary>
        /// Never answers unless a test sets <see cref="Listing"/>: tests put tasks into the monitor
        /// directly, and a reconciliation against an engine with no containers would (rightly) fail them.
        /// </summary>
        public async Task<IReadOnlyList<ObservedContainer>> ListAsync(ComputingResource computing, CancellationToken ct)
        {
            _listed.TrySetResult();
            if (Listing is { } listing) return await listing(ct);
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
                _watchEnded.TrySetResult();
                throw;
            }
            return [];
        }
        private readonly TaskCompletionSource _watchEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Done once the listing the watcher waits on was called off (the monitor stopped following the engine).</summary>
        public Task WatcherEnded => _watchEnded.Task;
        public async IAsyncEnumerable<ContainerEvent> WatchAsync(ComputingResource computing, DateTimeOffset since, [EnumeratorCancellation] CancellationToken ct)
        {
            await Task.Delay(Timeout.Infinite, ct);
            yield break;
        }
    }
}
