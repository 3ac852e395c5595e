using System.Security.Claims;
using Rosetta.Core.Security;

namespace Rosetta.App.Auth;

/// <summary>
/// Claims of API-token users, browser sessions and task-host sessions, kept briefly so a busy client (every proxied
/// request carries its token) does not cost several database queries per request. Account changes
/// (disable, admin role, password) invalidate the entry at once.
/// </summary>
public sealed class PrincipalCache
{
    private readonly ShortLivedCache<string, ClaimsPrincipal> _entries = new(TimeSpan.FromSeconds(30));

    public Task<ClaimsPrincipal?> GetOrCreateAsync(string userId, Func<Task<ClaimsPrincipal?>> create) =>
        _entries.GetOrCreateAsync(userId, create);

    public void Invalidate(string userId) => _entries.Invalidate(userId);
}
