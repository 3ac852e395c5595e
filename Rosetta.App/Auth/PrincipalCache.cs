using System.Collections.Concurrent;
using System.Security.Claims;

namespace Rosetta.App.Auth;

/// <summary>
/// Claims of API-token users, kept briefly so a busy client (every proxied request carries its token)
/// does not cost several database queries per request. Account changes (disable, admin role)
/// invalidate the entry at once.
/// </summary>
public sealed class PrincipalCache
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(30);
    private readonly ConcurrentDictionary<string, (ClaimsPrincipal Principal, DateTime Until)> _entries = new();

    public async Task<ClaimsPrincipal?> GetOrCreateAsync(string userId, Func<Task<ClaimsPrincipal?>> create)
    {
        if (_entries.TryGetValue(userId, out var entry) && entry.Until > DateTime.UtcNow) return entry.Principal;
        var principal = await create();
        if (principal is null) _entries.TryRemove(userId, out _);
        else _entries[userId] = (principal, DateTime.UtcNow + Lifetime);
        return principal;
    }

    public void Invalidate(string userId) => _entries.TryRemove(userId, out _);
}
