namespace Rosetta.Core.Validation;

/// <summary>
/// Reads a value the API takes by name ("docker", "ssh"). <see cref="Enum.TryParse{TEnum}(string, bool, out TEnum)"/> also
/// takes numbers ("7", "-1") and comma lists ("podman,apptainer"), which give values no name has: stored, shown as
/// "7", and failing later with a 500 where the value is used.
/// </summary>
public static class EnumNames
{
    /// <summary>True when <paramref name="text"/> is one of the names of <typeparamref name="TEnum"/>, in any case.</summary>
    public static bool TryParse<TEnum>(string? text, out TEnum value) where TEnum : struct, Enum
    {
        foreach (var candidate in Enum.GetValues<TEnum>())
        {
            if (!string.Equals(candidate.ToString(), text, StringComparison.OrdinalIgnoreCase)) continue;
            value = candidate;
            return true;
        }
        value = default;
        return false;
    }
}
