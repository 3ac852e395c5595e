using System.Text.Json;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Rosetta.Core.Domain;

namespace Rosetta.Core.Persistence;

/// <summary>
/// The platform's database. Identity's tables (users, roles, claims) plus the catalogue,
/// computing resources, storages, tasks, API tokens and dashboard sign-in sessions. Always used through <c>IDbContextFactory</c>:
/// one short-lived context per operation, never a long-lived one shared across threads.
/// </summary>
public sealed class RosettaDbContext(DbContextOptions<RosettaDbContext> options) : IdentityDbContext<RosettaUser>(options)
{
    public DbSet<Software> Software => Set<Software>();
    public DbSet<ComputingResource> Computing => Set<ComputingResource>();
    public DbSet<TaskRecord> Tasks => Set<TaskRecord>();
    public DbSet<ApiToken> ApiTokens => Set<ApiToken>();
    public DbSet<PlatformSetting> Settings => Set<PlatformSetting>();
    public DbSet<Storage> Storages => Set<Storage>();
    public DbSet<Accounts.SignInSession> SignInSessions => Set<Accounts.SignInSession>();
    public DbSet<ForgottenContainer> ForgottenContainers => Set<ForgottenContainer>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);

        builder.Entity<Software>(e =>
        {
            e.HasKey(s => s.Id);
            e.Property(s => s.InterfaceProtocol).HasConversion<string>();
            e.Property(s => s.Env).HasConversion(JsonConverter<Dictionary<string, string>>(), JsonComparer<Dictionary<string, string>>());
            e.HasIndex(s => s.OwnerId);
        });

        builder.Entity<ComputingResource>(e =>
        {
            e.HasKey(c => c.Id);
            e.Property(c => c.Kind).HasConversion<string>();
            e.Property(c => c.Engine).HasConversion<string>();
            e.Property(c => c.Defaults).HasConversion(JsonConverter<TaskOptions>(), JsonComparer<TaskOptions>());
            e.HasIndex(c => c.OwnerId);
        });

        builder.Entity<TaskRecord>(e =>
        {
            e.ToTable("Tasks");
            e.HasKey(t => t.Id);
            e.Property(t => t.Status).HasConversion<string>();
            e.Property(t => t.InterfaceProtocol).HasConversion<string>();
            e.Property(t => t.Options).HasConversion(JsonConverter<TaskOptions>(), JsonComparer<TaskOptions>());
            e.HasIndex(t => t.OwnerId);
            e.HasIndex(t => t.Status);
        });

        builder.Entity<ForgottenContainer>(e =>
        {
            e.HasKey(f => f.TaskId);
            e.HasIndex(f => f.ComputingId);
        });

        builder.Entity<ApiToken>(e =>
        {
            e.HasKey(t => t.Id);
            e.HasIndex(t => t.Hash).IsUnique();
            e.HasIndex(t => t.UserId);
        });

        builder.Entity<PlatformSetting>(e => e.HasKey(s => s.Key));

        builder.Entity<Storage>(e =>
        {
            e.HasKey(s => s.Id);
            e.Property(s => s.Kind).HasConversion<string>();
            e.HasIndex(s => s.OwnerId);
            e.HasIndex(s => s.ComputingId);
        });

        builder.Entity<Security.UserKey>(e =>
        {
            e.ToTable("UserKeys");
            e.HasKey(k => k.UserId);
        });

        builder.Entity<Accounts.SignInSession>(e =>
        {
            e.ToTable("SignInSessions");
            e.HasKey(s => s.KeyHash);
            e.HasIndex(s => s.UserId);
            e.HasIndex(s => s.ExpiresAt);
            // A deleted account's sessions go with it.
            e.HasOne<RosettaUser>().WithMany().HasForeignKey(s => s.UserId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<Sharing.ShareLink>(e =>
        {
            e.ToTable("ShareLinks");
            e.HasKey(s => s.Id);
            e.HasIndex(s => s.Hash).IsUnique();
            e.HasIndex(s => s.TaskId);
        });
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // SQLite keeps no time zone: everything is stored as UTC and read back marked as UTC.
        configurationBuilder.Properties<DateTime>().HaveConversion<UtcConverter>();
    }

    private sealed class UtcConverter() : ValueConverter<DateTime, DateTime>(
        v => v.Kind == DateTimeKind.Utc ? v : v.ToUniversalTime(),
        v => DateTime.SpecifyKind(v, DateTimeKind.Utc));

    // JSON columns: small option bags that are always read and written whole.
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    private static ValueConverter<T, string> JsonConverter<T>() where T : new() => new(
        v => JsonSerializer.Serialize(v, JsonOptions),
        s => string.IsNullOrEmpty(s) ? new T() : JsonSerializer.Deserialize<T>(s, JsonOptions) ?? new T());

    private static ValueComparer<T> JsonComparer<T>() => new(
        (a, b) => JsonSerializer.Serialize(a, JsonOptions) == JsonSerializer.Serialize(b, JsonOptions),
        v => JsonSerializer.Serialize(v, JsonOptions).GetHashCode(),
        v => JsonSerializer.Deserialize<T>(JsonSerializer.Serialize(v, JsonOptions), JsonOptions)!);
}

/// <summary>A platform-wide key/value setting (e.g. this installation's instance id).</summary>
public sealed class PlatformSetting
{
    public required string Key { get; set; }
    public required string Value { get; set; }
}
