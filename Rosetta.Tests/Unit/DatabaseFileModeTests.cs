using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Rosetta.Core.Domain;
using Rosetta.Core.Persistence;
using Rosetta.Core.Storages;

namespace Rosetta.Tests.Unit;

/// <summary>The database (password hashes, token hashes, tasks' environments) is readable by the platform's user alone.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class DatabaseFileModeTests : IDisposable
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private readonly string _directory = Directory.CreateTempSubdirectory("rosetta-db-mode-").FullName;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TheDatabaseAndItsWriteAheadLogAreTheOwnersAlone(bool leftOpenByAnEarlierVersion)
    {
        var database = Path.Combine(_directory, "data", "rosetta.db");
        if (leftOpenByAnEarlierVersion)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(database)!);
            foreach (var file in new[] { database, database + "-wal" })
            {
                await File.WriteAllBytesAsync(file, []);
                File.SetUnixFileMode(file, OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            }
        }
        var services = new ServiceCollection()
            .AddDbContextFactory<RosettaDbContext>(o => o.UseSqlite($"Data Source={database};Pooling=False"))
            .BuildServiceProvider();
        await using (services)
        {
            var initializer = new DatabaseInitializer(services.GetRequiredService<IDbContextFactory<RosettaDbContext>>(), new PlatformIdentity(),
                Options.Create(new DemoOptions()), Options.Create(new StorageOptions { Root = Path.Combine(_directory, "storage") }), new Rosetta.Core.Accounts.AccountEnds(), NullLogger<DatabaseInitializer>.Instance);
            await initializer.InitializeAsync(CancellationToken.None);
            await using var db = await services.GetRequiredService<IDbContextFactory<RosettaDbContext>>().CreateDbContextAsync();
            Assert.True(await db.Software.AnyAsync()); // a working database, seeded
        }
        foreach (var file in new[] { database, database + "-wal", database + "-shm" }.Where(File.Exists))
            Assert.True(File.GetUnixFileMode(file) == OwnerOnly, $"{Path.GetFileName(file)} is {File.GetUnixFileMode(file)}");
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
