using System.Security.Cryptography;

namespace Rosetta.Core.Tasks;

/// <summary>Task identifiers: 16 random lower-case hex characters, safe in URLs, names and labels.</summary>
public static class TaskIds
{
    public static string New() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    public static bool IsWellFormed(string? id) =>
        id is { Length: 16 } && id.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');
}
