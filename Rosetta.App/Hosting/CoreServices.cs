using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Rosetta.Core.Backends;
using Rosetta.Core.Backends.Docker;
using Rosetta.Core.Backends.Slurm;
using Rosetta.Core.Backends.Ssh;
using Rosetta.Core.Catalogue;
using Rosetta.Core.Domain;
using Rosetta.Core.Monitoring;
using Rosetta.Core.Persistence;
using Rosetta.Core.Security;
using Rosetta.Core.Storages;
using Rosetta.Core.Tasks;
using Rosetta.Core.Tunnels;

namespace Rosetta.App.Hosting;

public static class CoreServices
{
    /// <summary>Registers Rosetta.Core: database, backends, the task monitor and the services the UI and API call.</summary>
    public static IServiceCollection AddRosettaCore(this IServiceCollection services, IConfiguration configuration)
    {
        var connectionString = configuration.GetConnectionString("Rosetta") ?? "Data Source=data/rosetta.db";
        services.AddDbContextFactory<RosettaDbContext>(o => o.UseSqlite(connectionString));

        var dataDirectory = configuration["Rosetta:DataDirectory"] ?? "data";
        services.AddRosettaDataProtection(configuration, dataDirectory);

        services.Configure<DockerEngineOptions>(configuration.GetSection("Rosetta:Docker"));
        services.Configure<TaskMonitorOptions>(configuration.GetSection("Rosetta:Tasks"));

        services.AddSingleton<PlatformIdentity>();
        services.AddSingleton<Rosetta.Core.Accounts.AccountEnds>();
        // First hosted service: migrations and seeding finish before anything else starts.
        services.AddHostedService<DatabaseInitializer>();
        services.AddSingleton<TaskSecrets>();
        services.AddSingleton<InterfaceProbe>();
        services.AddSingleton<ITaskBackend, DockerBackend>();
        services.Configure<SshOptions>(configuration.GetSection("Rosetta:Ssh"));
        services.Configure<DemoOptions>(configuration.GetSection("Rosetta:Demo"));
        services.Configure<StorageOptions>(configuration.GetSection("Rosetta:Storage"));
        // Absolute: the engine binds these folders, and it does not share the app's working directory.
        services.PostConfigure<StorageOptions>(o =>
        {
            o.Root = Path.GetFullPath(string.IsNullOrEmpty(o.Root) ? Path.Combine(dataDirectory, "storage") : o.Root);
            var database = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(connectionString).DataSource;
            o.PlatformFiles = [Path.GetFullPath(Path.Combine(dataDirectory, "keys")), .. string.IsNullOrEmpty(database) || database == ":memory:" ? Array.Empty<string>() : [Path.GetFullPath(database)]];
        });
        services.AddSingleton<StorageService>();
        services.AddSingleton<SshConnectionPool>();
        services.AddSingleton<TunnelAdmission>();
        services.AddSingleton<ITaskBackend, SshBackend>();
        services.Configure<SlurmOptions>(configuration.GetSection("Rosetta:Slurm"));
        services.AddSingleton<ITaskBackend, SlurmBackend>();
        services.AddSingleton<TaskMonitor>();
        services.AddHostedService(sp => sp.GetRequiredService<TaskMonitor>());
        services.Configure<ForwardingOptions>(configuration.GetSection("Rosetta:Forwarding"));
        services.AddSingleton<InterfaceForwarding>();
        services.AddHostedService(sp => sp.GetRequiredService<InterfaceForwarding>());
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<Rosetta.Core.Sharing.ShareLinkService>();
        services.Configure<Rosetta.Core.Sharing.SharingOptions>(configuration.GetSection("Rosetta:Sharing"));
        services.AddSingleton<Rosetta.Core.Sharing.ShareLinkConnections>();
        services.AddSingleton<TaskService>();
        services.AddSingleton<SoftwareService>();
        services.AddSingleton<ComputingService>();
        services.AddSingleton<ApiTokenService>();
        services.AddSingleton<UserKeyService>();
        services.AddSingleton<Rosetta.Core.Accounts.AccountRemoval>();
        return services;
    }
}
