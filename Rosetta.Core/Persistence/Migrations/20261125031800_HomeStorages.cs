using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Rosetta.Core.Persistence.Migrations
{
    /// <summary>
    /// Data only: the SSH and Slurm resources users added before resources came with their login's home as a
    /// storage get one now, as a resource added today would (see ComputingService.AddAsync). Once, as every
    /// migration runs once: a home storage a user removes later stays removed. Left out where the owner (or
    /// everyone) already has a storage bound at /storages/home on that resource.
    /// </summary>
    public partial class HomeStorages : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                INSERT INTO Storages (Id, Name, Kind, ComputingId, BasePath, BindPath, ReadOnly, Browsable, OwnerId, CreatedAt)
                SELECT
                    CASE WHEN length('home-' || c.Id) <= 40 AND NOT EXISTS (SELECT 1 FROM Storages t WHERE t.Id = 'home-' || c.Id)
                         THEN 'home-' || c.Id ELSE 's-' || lower(hex(randomblob(4))) END,
                    CASE WHEN length('Home on ' || c.Name) <= 100 THEN 'Home on ' || c.Name ELSE substr('Home on ' || c.Name, 1, 99) || '…' END,
                    'Sftp', c.Id, '$HOME', '/storages/home', 0, 1, c.OwnerId, strftime('%Y-%m-%d %H:%M:%f', 'now')
                FROM Computing c
                WHERE c.OwnerId IS NOT NULL AND c.Kind IN ('Ssh', 'Slurm')
                  AND NOT EXISTS (SELECT 1 FROM Storages s WHERE s.ComputingId = c.Id AND s.BindPath = '/storages/home'
                                  AND (s.OwnerId IS NULL OR s.OwnerId = c.OwnerId));
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // The storages stay: their owners may have changed or used them since.
        }
    }
}
