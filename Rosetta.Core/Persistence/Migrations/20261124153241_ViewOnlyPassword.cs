using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Rosetta.Core.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class ViewOnlyPassword : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "HasViewOnlyPassword",
                table: "Tasks",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "ViewOnlySecretEnv",
                table: "Software",
                type: "TEXT",
                nullable: true);

            // The bundled desktop as seeded (not one an admin re-pointed or pinned to an older build by digest) learns
            // its view-only password variable; tasks made before keep their one password (HasViewOnlyPassword false).
            migrationBuilder.Sql(
                "UPDATE Software SET ViewOnlySecretEnv = 'VNC_VIEW_ONLY_PASSWORD' " +
                "WHERE Id = 'desktop' AND Image = 'rosetta/desktop' AND SecretEnv = 'VNC_PASSWORD' AND ProxyAuthorizationScheme = 'vnc' AND OwnerId IS NULL AND Digest IS NULL;");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "HasViewOnlyPassword",
                table: "Tasks");

            migrationBuilder.DropColumn(
                name: "ViewOnlySecretEnv",
                table: "Software");
        }
    }
}
