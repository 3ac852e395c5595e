using Microsoft.AspNetCore.Identity;

namespace Rosetta.Core.Domain;

/// <summary>A platform user (ASP.NET Core Identity's store schema plus our own fields).</summary>
public sealed class RosettaUser : IdentityUser
{
    public bool IsDisabled { get; set; }
    public DateTime CreatedAt { get; set; } = DateTime.UtcNow;
}

/// <summary>A personal API token. Only its SHA-256 hash is stored; the token is shown once.</summary>
public sealed class ApiToken
{
    public required string Id { get; set; }
    public required string UserId { get; set; }
    public required string Name { get; set; }
    public required string Hash { get; set; }
    /// <summary>First characters of the token, so a user can tell tokens apart in lists.</summary>
    public required string Prefix { get; set; }
    public DateTime CreatedAt { get; set; } = DateTime.UtcNow;
    public DateTime? LastUsedAt { get; set; }
    public DateTime? RevokedAt { get; set; }
}

/// <summary>Role names.</summary>
public static class Roles
{
    public const string Admin = "admin";
}
