using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Utilities;
using Org.BouncyCastle.Security;
using Rosetta.Core.Persistence;

namespace Rosetta.Core.Security;

/// <summary>A user's SSH key pair, with which the platform logs into the user's own computing resources.</summary>
public sealed class UserKey
{
    public required string UserId { get; set; }
    /// <summary>One OpenSSH line: <c>ssh-ed25519 AAAA… rosetta:username</c>.</summary>
    public required string PublicKey { get; set; }
    /// <summary>The OpenSSH private key, encrypted with Data Protection.</summary>
    public required string ProtectedPrivateKey { get; set; }
    public DateTime CreatedAt { get; set; } = DateTime.UtcNow;
}

/// <summary>
/// Per-user ed25519 key pairs: made on first need, private half encrypted at rest, rotatable.
/// Users put the public half in <c>~/.ssh/authorized_keys</c> on their hosts.
/// </summary>
public sealed class UserKeyService(IDbContextFactory<RosettaDbContext> dbFactory, IDataProtectionProvider protection)
{
    private readonly IDataProtector _protector = protection.CreateProtector("Rosetta.UserKeys.v1");

    public async Task<string> PublicKeyAsync(string userId, string userName, CancellationToken ct) =>
        (await GetOrCreateAsync(userId, userName, ct)).PublicKey;

    /// <summary>The decrypted OpenSSH private key (for the SSH backends only; never shown).</summary>
    public async Task<string> PrivateKeyAsync(string userId, string userName, CancellationToken ct) =>
        _protector.Unprotect((await GetOrCreateAsync(userId, userName, ct)).ProtectedPrivateKey);

    /// <summary>Replaces the user's key pair; hosts that trusted the old public key no longer accept the platform.</summary>
    public async Task<string> RotateAsync(string userId, string userName, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.Set<UserKey>().Where(k => k.UserId == userId).ExecuteDeleteAsync(ct);
        return (await GetOrCreateAsync(userId, userName, ct)).PublicKey;
    }

    /// <summary>Deletes the user's key pair, as their account goes.</summary>
    public async Task ForgetAsync(string userId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.Set<UserKey>().Where(k => k.UserId == userId).ExecuteDeleteAsync(ct);
    }

    private async Task<UserKey> GetOrCreateAsync(string userId, string userName, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (await db.Set<UserKey>().AsNoTracking().FirstOrDefaultAsync(k => k.UserId == userId, ct) is { } existing) return existing;
        var (publicKey, privateKey) = Generate($"rosetta:{userName}");
        var key = new UserKey { UserId = userId, PublicKey = publicKey, ProtectedPrivateKey = _protector.Protect(privateKey) };
        db.Set<UserKey>().Add(key);
        try
        {
            await db.SaveChangesAsync(ct);
            return key;
        }
        catch (DbUpdateException)
        {
            // Created concurrently by another request: use that one.
            await using var again = await dbFactory.CreateDbContextAsync(ct);
            return await again.Set<UserKey>().AsNoTracking().FirstAsync(k => k.UserId == userId, ct);
        }
    }

    /// <summary>A new ed25519 pair as an OpenSSH public line and an unencrypted OpenSSH private key file.</summary>
    public static (string PublicKey, string PrivateKey) Generate(string comment)
    {
        var generator = new Ed25519KeyPairGenerator();
        generator.Init(new Ed25519KeyGenerationParameters(new SecureRandom()));
        var pair = generator.GenerateKeyPair();
        var publicBlob = OpenSshPublicKeyUtilities.EncodePublicKey((Ed25519PublicKeyParameters)pair.Public);
        var privateBlob = OpenSshPrivateKeyUtilities.EncodePrivateKey((Ed25519PrivateKeyParameters)pair.Private);
        var body = Convert.ToBase64String(privateBlob);
        var lines = Enumerable.Range(0, (body.Length + 69) / 70).Select(i => body.Substring(i * 70, Math.Min(70, body.Length - i * 70)));
        var privateKey = "-----BEGIN OPENSSH PRIVATE KEY-----\n" + string.Join('\n', lines) + "\n-----END OPENSSH PRIVATE KEY-----\n";
        return ($"ssh-ed25519 {Convert.ToBase64String(publicBlob)} {comment}", privateKey);
    }
}
