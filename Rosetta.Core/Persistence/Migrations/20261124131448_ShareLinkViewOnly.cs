using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Rosetta.Core.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class ShareLinkViewOnly : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "ViewOnly",
                table: "ShareLinks",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "ViewOnly",
                table: "ShareLinks");
        }
    }
}
