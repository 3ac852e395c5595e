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
        db.Computing.AddRange(
            Resource("box", ComputingKind.Ssh, "alice", "Box"),
            Resource("cluster", ComputingKind.Slurm, "alice", "Cluster"),
            Resource("wide", ComputingKind.Ssh, null, "Platform cluster"),
            Resource("bound", ComputingKind.Ssh, "bob", "Bound"),
            Resource("taken", ComputingKind.Ssh, "bob", "Taken"),
            Resource(longId, ComputingKind.Ssh, "bob", longName));
        db.Storages.AddRange(
            new Storage { Id = "mine", Name = "Mine", Kind = StorageKind.Sftp, ComputingId = "bound", BasePath = "/home/bob", BindPath = "/storages/home", OwnerId = "bob" },
            new Storage { Id = "home-taken", Name = "Someone's id", Kind = StorageKind.Sftp, ComputingId = "wide", BasePath = "/data", BindPath = "/storages/x", OwnerId = "carol" });
        await db.SaveChangesAsync();
        db.ChangeTracker.Clear();

        await migrator.MigrateAsync();

        var homes = await db.Storages.AsNoTracking().Where(s => s.BasePath == "$HOME").ToListAsync();
        Assert.Equal(["box", longId, "cluster", "taken"], homes.Select(h => h.ComputingId).Order(StringComparer.Ordinal));
        foreach (var home in homes)
        {
            Assert.Equal(StorageKind.Sftp, home.Kind);
            Assert.Equal("/storages/home", home.BindPath);
            Assert.False(home.ReadOnly);
            Assert.True(home.Browsable);
            Assert.InRange(home.CreatedAt, DateTime.UtcNow.AddMinutes(-5), DateTime.UtcNow.AddMinutes(1));
        }
        Assert.Equal(("home-box", "Home on Box", "alice"), homes.Where(h => h.ComputingId == "box").Select(h => (h.Id, h.Name, h.OwnerId)).Single());
        // An id that would be over 40 characters, or is taken, is a random one; a name over 100 is cut.
        var taken = homes.Single(h => h.ComputingId == "taken");
        Assert.Matches("^s-[0-9a-f]{8}$", taken.Id);
        var long_ = homes.Single(h => h.ComputingId == longId);
        Assert.Matches("^s-[0-9a-f]{8}$", long_.Id);
        Assert.Equal(100, long_.Name.Length);
        Assert.EndsWith("…", long_.Name);
    }

    private static ComputingResource Resource(string id, ComputingKind kind, string? owner, string name) => new()
    {
        Id = id, Name = name, Kind = kind, Host = "127.0.0.1", Port = 22, Username = "u", OwnerId = owner,
    };

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
