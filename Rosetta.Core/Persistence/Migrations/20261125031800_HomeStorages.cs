using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Rosetta.Core.Persistence.Migrations
{
    /// <summary>
    /// Storages that are not bound into tasks (<c>Bound</c>, true for every storage so far), and the SSH and
    /// Slurm resources users added before resources came with their login's home as a storage get one now, in
    /// Files only, as a resource added today would (see ComputingService.AddAsync). Once, as every migration
    /// runs once: a home storage a user removes later stays removed. Left out where the owner (or everyone)
    /// already has a storage at /storages/home on that resource. SQLite's length() counts code points and a
    /// name may hold at most 100 UTF-16 units: a name over 50 code points is cut, which always fits.
    /// </summary>
    public partial class HomeStorages : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "Bound",
                table: "Storages",
                type: "INTEGER",
                nullable: false,
                defaultValue: true);

            migrationBuilder.Sql("""
                INSERT INTO Storages (Id, Name, Kind, ComputingId, BasePath, BindPath, ReadOnly, Browsable, Bound, OwnerId, CreatedAt)
                SELECT
                    CASE WHEN length('home-' || c.Id) <= 40 AND NOT EXISTS (SELECT 1 FROM Storages t WHERE t.Id = 'home-' || c.Id)
                         THEN 'home-' || c.Id ELSE 's-' || lower(hex(randomblob(4))) END,
                    CASE WHEN length('Home on ' || c.Name) <= 50 THEN 'Home on ' || c.Name ELSE substr('Home on ' || c.Name, 1, 49) || '…' END,
                    'Sftp', c.Id, '$HOME', '/storages/home', 0, 1, 0, c.OwnerId, strftime('%Y-%m-%d %H:%M:%f', 'now')
                FROM Computing c
                WHERE c.OwnerId IS NOT NULL AND c.Kind IN ('Ssh', 'Slurm')
                  AND NOT EXISTS (SELECT 1 FROM Storages s WHERE s.ComputingId = c.Id AND s.BindPath = '/storages/home'
                                  AND (s.OwnerId IS NULL OR s.OwnerId = c.OwnerId));
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // The home storages stay (their owners may have changed or used them since), bound from then on like every storage then.
            migrationBuilder.DropColumn(
                name: "Bound",
                table: "Storages");
        }
    }
}
