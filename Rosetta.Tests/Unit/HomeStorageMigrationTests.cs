using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Rosetta.Core.Domain;
using Rosetta.Core.Persistence;

namespace Rosetta.Tests.Unit;

/// <summary>
/// A database from before resources came with their login's home as a storage gets one for each SSH and
/// Slurm resource a user added, once, and only where nothing is bound at /storages/home yet.
/// A real SQLite file, migrated as the platform does at start-up.
/// </summary>
public sealed class HomeStorageMigrationTests : IDisposable
{
    private const string Before = "20261124213651_SignInSessions";
    private const string NoDefaults = "{}";
    private readonly string _directory = Directory.CreateTempSubdirectory("rosetta-migration-").FullName;

    [Fact]
    public async Task UsersOwnSshAndSlurmResourcesGetTheirHomeOnceAndNothingIsBoundTwice()
    {
        await using var db = new RosettaDbContext(new DbContextOptionsBuilder<RosettaDbContext>()
            .UseSqlite($"Data Source={Path.Combine(_directory, "r.db")};Pooling=False").Options);
        var migrator = db.GetService<IMigrator>();
        await migrator.MigrateAsync(Before);

        var longId = "c-" + new string('x', 36);
        var longName = new string('n', 100);
        // Rows as that version wrote them: its tables, through SQL (today's model has columns they lack).
        foreach (var (id, kind, owner, name) in new[]
        {
            ("box", "Ssh", "alice", "Box"), ("cluster", "Slurm", "alice", "Cluster"), ("wide", "Ssh", null, "Platform cluster"),
            ("bound", "Ssh", "bob", "Bound"), ("taken", "Ssh", "bob", "Taken"), ("everyones", "Ssh", "bob", "Everyone's at home"),
            ("carols", "Ssh", "bob", "Carol's at home"), (longId, "Ssh", "bob", longName), ("local", "Local", null, "This host"),
        })
        {
            await db.Database.ExecuteSqlAsync($"""
                INSERT INTO Computing (Id, Name, Kind, Host, Port, Username, Engine, Defaults, OwnerId, CreatedAt)
                VALUES ({id}, {name}, {kind}, '127.0.0.1', 22, 'u', 'Docker', {NoDefaults}, {owner}, '2026-11-24 10:00:00')
                """);
        }
        foreach (var (id, computing, bindPath, owner) in new[]
        {
            ("mine", "bound", "/storages/home", "bob"),
            ("home-taken", "wide", "/storages/x", "carol"),
            // Bound into everyone's tasks there, bob's included: bob gets no home there.
            ("for-all", "everyones", "/storages/home", null),
            // Only in carol's tasks: bob still gets his.
            ("carols", "carols", "/storages/home", "carol"),
        })
        {
            await db.Database.ExecuteSqlAsync($"""
                INSERT INTO Storages (Id, Name, Kind, ComputingId, BasePath, BindPath, ReadOnly, Browsable, OwnerId, CreatedAt)
                VALUES ({id}, {id}, 'Sftp', {computing}, '/data', {bindPath}, 0, 1, {owner}, '2026-11-24 10:00:00')
                """);
        }

        await migrator.MigrateAsync();

        var homes = await db.Storages.AsNoTracking().Where(s => s.BasePath == "$HOME").ToListAsync();
        Assert.Equal(["box", longId, "carols", "cluster", "taken"], homes.Select(h => h.ComputingId).Order(StringComparer.Ordinal));
        foreach (var home in homes)
        {
            Assert.Equal(StorageKind.Sftp, home.Kind);
            Assert.Equal("/storages/home", home.BindPath);
            Assert.False(home.ReadOnly);
            Assert.True(home.Browsable);
            Assert.False(home.Bound); // in Files only, until its owner binds it
            Assert.NotEqual("carol", home.OwnerId);
            Assert.InRange(home.CreatedAt, DateTime.UtcNow.AddMinutes(-5), DateTime.UtcNow.AddMinutes(1));
        }
        Assert.Equal(("home-box", "Home on Box", "alice"), homes.Where(h => h.ComputingId == "box").Select(h => (h.Id, h.Name, h.OwnerId)).Single());
        // An id that would be over 40 characters, or is taken, is a random one; a name over 100 is cut.
        var taken = homes.Single(h => h.ComputingId == "taken");
        Assert.Matches("^s-[0-9a-f]{8}$", taken.Id);
        var long_ = homes.Single(h => h.ComputingId == longId);
        Assert.Matches("^s-[0-9a-f]{8}$", long_.Id);
        Assert.Equal("Home on " + new string('n', 41) + "…", long_.Name);
        // Every storage there before stays bound.
        Assert.All(await db.Storages.AsNoTracking().Where(s => s.BasePath != "$HOME").ToListAsync(), s => Assert.True(s.Bound));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
