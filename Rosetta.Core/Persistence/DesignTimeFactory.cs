using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Rosetta.Core.Persistence;

/// <summary>Lets <c>dotnet ef migrations add</c> build the context without starting the app.</summary>
public sealed class DesignTimeFactory : IDesignTimeDbContextFactory<RosettaDbContext>
{
    public RosettaDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<RosettaDbContext>().UseSqlite("Data Source=design.db").Options);
}
