using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Rosetta.Core.Domain;
using Rosetta.Core.Persistence;
using Rosetta.Core.Validation;

namespace Rosetta.Core.Security;

/// <summary>
/// Personal API tokens. A token is 32 random bytes shown once; the database keeps only its SHA-256
/// (enough for a high-entropy secret: there is nothing to brute-force), so a leaked database does
/// not leak usable tokens.
/// </summary>
public sealed class ApiTokenService(IDbContextFactory<RosettaDbContext> dbFactory)
{
    public const string Prefix = "rst_";

    /// <summary>
    /// How long a validated token is trusted without asking the database again: every proxied request
    /// of an API client carries its token, and a query each time would dominate the proxy's latency.
    /// Revocation through this service takes effect at once regardless.
    /// </summary>
    public static readonly TimeSpan ValidationCacheTime = TimeSpan.FromSeconds(30);

    /// <summary>Validated tokens by hash.</summary>
    private readonly ShortLivedCache<string, ValidToken> _validated = new(ValidationCacheTime);

    /// <summary>A valid token: whose it is, and which (for <see cref="EndOf"/>).</summary>
    public sealed record ValidToken(string UserId, string TokenId);

    /// <summary>Per token, cancelled when it is revoked; kept cancelled, so a request let in just before still ends.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, CancellationTokenSource> _ends = new(StringComparer.Ordinal);

    /// <summary>
    /// Cancelled when the token is revoked. A request is let in once; what it keeps open after (a followed log, a
    /// task interface's WebSocket) ties itself to this, so it does not outlive the token.
    /// </summary>
    public CancellationToken EndOf(string tokenId) => _ends.GetOrAdd(tokenId, _ => new CancellationTokenSource()).Token;

    public sealed record Issued(ApiToken Token, string Secret);

    public async Task<Issued> IssueAsync(string userId, string? name, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        TextRules.DisplayName(errors, "name", name, required: false);
        if (!errors.IsValid) throw new ValidationException(errors);

        var secret = Prefix + TaskSecrets.Base64Url(RandomNumberGenerator.GetBytes(32));
        var token = new ApiToken
        {
            Id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)),
            UserId = userId,
            Name = string.IsNullOrWhiteSpace(name) ? "API token" : name.Trim(),
            Hash = TaskSecrets.HashOf(secret),
            Prefix = secret[..(Prefix.Length + 6)],
        };
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        db.ApiTokens.Add(token);
        await db.SaveChangesAsync(ct);
        return new Issued(token, secret);
    }

    /// <summary>Whose token it is and which, or null for an unknown or revoked token.</summary>
    public async Task<ValidToken?> ValidateAsync(string secret, CancellationToken ct)
    {
        if (!secret.StartsWith(Prefix, StringComparison.Ordinal) || secret.Length > 200) return null;
        var hash = TaskSecrets.HashOf(secret);
        var valid = await _validated.GetOrCreateAsync(hash, async () =>
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var token = await db.ApiTokens.FirstOrDefaultAsync(t => t.Hash == hash && t.RevokedAt == null, ct);
            if (token is null) return null;
            // Record use at most once a minute: a busy client must not turn every call into a write.
            if (token.LastUsedAt is null || DateTime.UtcNow - token.LastUsedAt > TimeSpan.FromMinutes(1))
            {
                token.LastUsedAt = DateTime.UtcNow;
                await db.SaveChangesAsync(ct);
            }
            return new ValidToken(token.UserId, token.Id);
        });
        return valid;
    }

    public async Task<IReadOnlyList<ApiToken>> ListAsync(string userId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.ApiTokens.AsNoTracking().Where(t => t.UserId == userId && t.RevokedAt == null)
            .OrderByDescending(t => t.CreatedAt).ToListAsync(ct);
    }

    /// <summary>Revokes one of the user's tokens; false when there is no such token.</summary>
    public async Task<bool> RevokeAsync(string userId, string tokenId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var updated = await db.ApiTokens.Where(t => t.Id == tokenId && t.UserId == userId && t.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, DateTime.UtcNow), ct);
        _validated.InvalidateWhere(valid => valid.TokenId == tokenId);
        if (updated > 0) await _ends.GetOrAdd(tokenId, _ => new CancellationTokenSource()).CancelAsync();
        return updated > 0;
    }

    /// <summary>Deletes every token of a user whose account goes (the tokens name a user id that will not exist).</summary>
    public async Task ForgetAllAsync(string userId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.ApiTokens.Where(t => t.UserId == userId).ExecuteDeleteAsync(ct);
        _validated.InvalidateWhere(valid => valid.UserId == userId);
    }

}
