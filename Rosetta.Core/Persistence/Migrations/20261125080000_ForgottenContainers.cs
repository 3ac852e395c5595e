using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Rosetta.Core.Persistence.Migrations
{
    /// <summary>The containers of tasks deleted while their resource could not be reached, removed when it answers.</summary>
    public partial class ForgottenContainers : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "ForgottenContainers",
                columns: table => new
                {
                    TaskId = table.Column<string>(type: "TEXT", nullable: false),
                    ComputingId = table.Column<string>(type: "TEXT", nullable: false),
                    ForgottenAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ForgottenContainers", x => x.TaskId);
                });

            migrationBuilder.CreateIndex(
                name: "IX_ForgottenContainers_ComputingId",
                table: "ForgottenContainers",
                column: "ComputingId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "ForgottenContainers");
        }
    }
}
