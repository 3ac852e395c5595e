using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;
using Rosetta.Core.Domain;

namespace Rosetta.App.Auth;

/// <summary>
/// Refusing an unknown or disabled username must take as long as refusing a wrong password, which
/// costs a deliberately slow hash: answering at once would tell anyone timing the login form or the
/// token endpoint which usernames exist. This spends the same hash on a password nobody has.
/// </summary>
public sealed class DecoyPasswordCheck(IPasswordHasher<RosettaUser> hasher)
{
    private static readonly RosettaUser Nobody = new() { UserName = "nobody" };
    private static string? _decoyHash;

    public void Spend(string? password)
    {
        var decoy = _decoyHash ??= hasher.HashPassword(Nobody, Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)));
        hasher.VerifyHashedPassword(Nobody, decoy, password ?? "");
    }
}
