using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Rosetta.Core.Accounts;
using Rosetta.Core.Domain;
using Rosetta.Core.Storages;

namespace Rosetta.Core.Persistence;

/// <summary>
/// Brings the database to the current schema at start-up (real migrations, WAL journal) and
/// seeds what every installation has: the bundled software catalogue and the <c>local</c> computing
/// resource, and the platform-wide <c>personal</c> and <c>shared</c> storages. Seeding only inserts what is missing, so an admin's edits survive restarts.
/// Registered as the first hosted service, so everything after it finds the database ready.
/// </summary>
public sealed class DatabaseInitializer(
    IDbContextFactory<RosettaDbContext> factory,
    PlatformIdentity identity,
    IOptions<DemoOptions> demo,
    IOptions<StorageOptions> storage,
    AccountEnds accountEnds,
    ILogger<DatabaseInitializer> logger) : IHostedService
{
    private const string InstanceIdKey = "instance-id";

    public Task StartAsync(CancellationToken cancellationToken) => InitializeAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task InitializeAsync(CancellationToken ct)
    {
        await using var db = await factory.CreateDbContextAsync(ct);
        var connectionString = db.Database.GetConnectionString();
        CreateDatabaseDirectory(connectionString);
        await db.Database.MigrateAsync(ct);
        // WAL lets the monitor write while pages and the API read; it is a property of the file,
        // so setting it once per start is enough.
        await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", ct);

        foreach (var software in BundledCatalogue.Software())
        {
            if (await db.Software.AnyAsync(s => s.Id == software.Id, ct)) continue;
            db.Software.Add(software);
            logger.LogInformation("Seeded software {SoftwareId}", software.Id);
        }
        if (!await db.Computing.AnyAsync(c => c.Id == BundledCatalogue.LocalComputingId, ct))
        {
            db.Computing.Add(BundledCatalogue.LocalComputing());
        }
        foreach (var computing in demo.Value.Computing())
        {
            if (await db.Computing.AnyAsync(c => c.Id == computing.Id, ct)) continue;
            db.Computing.Add(computing);
            logger.LogInformation("Seeded demo computing resource {ComputingId}", computing.Id);
        }
        if (storage.Value.SeedDefaults)
        {
            foreach (var defaultStorage in StorageService.Defaults(storage.Value))
            {
                if (await db.Storages.AnyAsync(s => s.Id == defaultStorage.Id, ct)) continue;
                db.Storages.Add(defaultStorage);
                logger.LogInformation("Seeded storage {StorageId} at {BasePath}", defaultStorage.Id, defaultStorage.BasePath);
            }
        }
        var instance = await db.Settings.FirstOrDefaultAsync(s => s.Key == InstanceIdKey, ct);
        if (instance is null)
        {
            instance = new PlatformSetting { Key = InstanceIdKey, Value = Guid.NewGuid().ToString("N")[..12] };
            db.Settings.Add(instance);
        }
        await db.SaveChangesAsync(ct);
        identity.Initialize(instance.Value);
        // A disabled account stays ended across restarts: its running tasks are re-adopted, and their share links and
        // forwarded ports must not open again for lack of the in-memory mark the disabling set.
        foreach (var disabled in await db.Users.Where(u => u.IsDisabled).Select(u => u.Id).ToListAsync(ct)) accountEnds.End(disabled);
    }

    private static void CreateDatabaseDirectory(string? connectionString)
    {
        if (connectionString is null) return;
        var dataSource = new SqliteConnectionStringBuilder(connectionString).DataSource;
        if (string.IsNullOrEmpty(dataSource) || dataSource == ":memory:") return;
        var directory = Path.GetDirectoryName(Path.GetFullPath(dataSource));
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        MakePrivate(Path.GetFullPath(dataSource));
    }

    /// <summary>
    /// The database holds password hashes, token hashes and tasks' environments: it is the platform's user's alone
    /// (SQLite makes files as the umask says, 0644 as a rule). Made empty with that mode when missing (SQLite takes an
    /// empty file as a new database); SQLite gives its -wal and -shm files the database's mode; those an earlier
    /// version left open are closed too.
    /// </summary>
    private static void MakePrivate(string database)
    {
        if (OperatingSystem.IsWindows()) return;
        const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        if (!File.Exists(database))
        {
            try
            {
                using (new FileStream(database, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = OwnerOnly })) { }
            }
            catch (IOException) when (File.Exists(database))
            {
                // Made by another process meanwhile: its mode is set below.
            }
        }
        foreach (var file in new[] { database, database + "-wal", database + "-shm" })
        {
            try
            {
                if (File.Exists(file)) File.SetUnixFileMode(file, OwnerOnly);
            }
            catch (UnauthorizedAccessException)
            {
                // Another user's file (a mounted volume): left as its owner set it.
            }
        }
    }
}
