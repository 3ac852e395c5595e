using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;
using Rosetta.Core.Domain;
using Rosetta.Core.Security;

namespace Rosetta.App.Auth;

/// <summary>
/// On a first start with no users, creates <c>admin</c> with <c>Rosetta:Admin:Password</c>, or a
/// random password printed once to the console (never to the log files).
/// </summary>
public sealed class AdminSeeder(IServiceScopeFactory scopes, IConfiguration configuration, ILogger<AdminSeeder> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        using var scope = scopes.CreateScope();
        var roles = scope.ServiceProvider.GetRequiredService<RoleManager<IdentityRole>>();
        if (!await roles.RoleExistsAsync(Roles.Admin)) await roles.CreateAsync(new IdentityRole(Roles.Admin));

        var users = scope.ServiceProvider.GetRequiredService<UserManager<RosettaUser>>();
        if (users.Users.Any()) return;

        var configured = configuration["Rosetta:Admin:Password"];
        var password = string.IsNullOrEmpty(configured) ? TaskSecrets.Base64Url(RandomNumberGenerator.GetBytes(12)) : configured;
        var admin = new RosettaUser { UserName = "admin" };
        var result = await users.CreateAsync(admin, password);
        if (!result.Succeeded)
            throw new InvalidOperationException("Cannot create the admin user: " + string.Join(" ", result.Errors.Select(e => e.Description)));
        await users.AddToRoleAsync(admin, Roles.Admin);

        if (string.IsNullOrEmpty(configured))
        {
            Console.WriteLine($"[rosetta] First start: created user 'admin' with password: {password}");
            Console.WriteLine("[rosetta] Keep it safe: it is shown only this once.");
        }
        logger.LogInformation("Created the admin user");
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
