using System.Text.RegularExpressions;
using Rosetta.Core.Domain;
using Rosetta.Core.Validation;

namespace Rosetta.Core.Storages;

/// <summary>A storage as a client submits it.</summary>
public sealed record StorageDraft(
    string? Id, string? Name, string? Kind, string? Computing, string? BasePath, string? BindPath,
    bool? ReadOnly, bool? Browsable, bool? PlatformWide, bool? Bound = null);

/// <summary>The shape rules of a storage's paths, checked before anything is stored.</summary>
public static partial class StorageRules
{
    public const string UserVariable = "$USER";
    public const string SshUserVariable = "$SSH_USER";
    /// <summary>The login's home folder on the computing resource, as its SFTP server reports it; only at the start of an sftp storage's path.</summary>
    public const string HomeVariable = "$HOME";

    // Top-level folders of a container that a bind must never hide.
    private static readonly HashSet<string> ReservedBindRoots = ["bin", "boot", "dev", "etc", "lib", "lib32", "lib64", "proc", "run", "sbin", "sys", "usr"];

    /// <summary>
    /// An absolute folder (or, for sftp, one in the login's <c>$HOME</c>), variables allowed; no ':' or ','
    /// (the engines' bind syntax), no '.' or '..'.
    /// </summary>
    public static void BasePath(ValidationErrors errors, string? value, StorageKind kind)
    {
        const string field = "basePath";
        if (string.IsNullOrEmpty(value)) { errors.Add(field, "is required: an absolute folder such as /data/$USER."); return; }
        var inHome = UsesHome(value);
        if (inHome && kind == StorageKind.Local) { errors.Add(field, "$HOME exists only for sftp storages: the login's home on the computing resource."); return; }
        if (value.Length > 1024 || (value[0] != '/' && !inHome))
        {
            errors.Add(field, "must be an absolute path (starting with '/'), or for sftp one starting with $HOME, at most 1024 characters.");
            return;
        }
        if (value.Any(char.IsControl)) { errors.Add(field, "contains a control character."); return; }
        if (value.IndexOfAny([':', ',', '\\']) >= 0) { errors.Add(field, "cannot contain ':', ',' or '\\' (the container engines' bind syntax)."); return; }
        if (value.Split('/').Any(s => s is "." or "..")) { errors.Add(field, "cannot contain '.' or '..' segments."); return; }
        if (value.TrimEnd('/').Contains("//", StringComparison.Ordinal)) { errors.Add(field, "cannot contain '//': write each folder once, as in /data/$USER."); return; }
        if (value.Trim('/').Length == 0) { errors.Add(field, "cannot be '/', the whole host: choose a folder such as /data/$USER."); return; }
        if (kind == StorageKind.Local && !value.Contains('$') && File.Exists(value)) { errors.Add(field, "is a file on the platform host; choose a folder."); return; }
        var rest = (inHome ? value[HomeVariable.Length..] : value).Replace(SshUserVariable, "").Replace(UserVariable, "");
        if (rest.Contains(HomeVariable, StringComparison.Ordinal)) errors.Add(field, "can hold $HOME only at its start, as in $HOME/data.");
        else if (rest.Contains('$')) errors.Add(field, "knows only the variables $USER (the platform user), $SSH_USER (the login on the computing resource) and, at its start, $HOME (the login's home there).");
        else if (kind == StorageKind.Local && value.Contains(SshUserVariable)) errors.Add(field, "$SSH_USER exists only for sftp storages.");
    }

    /// <summary>An absolute path inside the container, plain characters only, not hiding a system folder.</summary>
    public static void BindPath(ValidationErrors errors, string? value)
    {
        const string field = "bindPath";
        if (string.IsNullOrEmpty(value)) { errors.Add(field, "is required: where tasks see the storage, e.g. /storages/data."); return; }
        if (!BindPattern().IsMatch(value) || value.Split('/').Any(s => s is "." or ".."))
        {
            errors.Add(field, "must be an absolute path of letters, digits, '.', '_' and '-' segments, e.g. /storages/data.");
            return;
        }
        if (ReservedBindRoots.Contains(value.Split('/')[1])) errors.Add(field, $"would hide the container's own /{value.Split('/')[1]}; choose a path such as /storages/….");
    }

    /// <summary>Whether the path starts in the login's home: <c>$HOME</c> alone or followed by '/'.</summary>
    public static bool UsesHome(string basePath) =>
        basePath.StartsWith(HomeVariable, StringComparison.Ordinal) && (basePath.Length == HomeVariable.Length || basePath[HomeVariable.Length] == '/');

    /// <summary>
    /// The base path with its variables replaced. A user name that is not a plain single path
    /// segment (Identity allows '.', so '..' is possible) is refused rather than substituted;
    /// <paramref name="home"/> is needed only by a path that <see cref="UsesHome"/>.
    /// </summary>
    public static string Substitute(string basePath, string platformUser, string? sshUser, string? home = null)
    {
        var inHome = UsesHome(basePath);
        if (inHome && home is null) throw new InvalidOperationException($"The login's home folder is needed to resolve {basePath}.");
        // The home is the host's answer, taken as it is: only the rest of the path holds the platform's variables.
        var rest = inHome ? basePath[HomeVariable.Length..] : basePath;
        if (rest.Contains(UserVariable)) CheckSegmentValue(platformUser, "user name");
        if (rest.Contains(SshUserVariable))
        {
            if (string.IsNullOrEmpty(sshUser)) throw ValidationException.For("basePath", "uses $SSH_USER but the computing resource has no login name.");
            CheckSegmentValue(sshUser, "login name");
        }
        var resolved = rest.Replace(SshUserVariable, sshUser ?? "").Replace(UserVariable, platformUser);
        if (inHome) resolved = home!.TrimEnd('/') + resolved;
        return resolved.Length > 1 ? resolved.TrimEnd('/') : resolved;
    }

    /// <summary>
    /// Why the home folder an SFTP server reported cannot stand for <c>$HOME</c>; null when it can. The
    /// server's answer reaches the container engine's bind syntax, so it is held to a base path's rules.
    /// </summary>
    public static string? HomeProblem(string home)
    {
        if (home.Length is 0 or > 1024 || home[0] != '/') return "it is not an absolute path";
        if (home.Trim('/').Length == 0) return "it is '/', the whole host";
        if (home.Any(char.IsControl) || home.IndexOfAny([':', ',', '\\']) >= 0) return "it holds a control character, ':', ',' or '\\' (the container engines' bind syntax)";
        if (home.Split('/').Any(s => s is "." or "..")) return "it holds '.' or '..' segments";
        return null;
    }

    private static void CheckSegmentValue(string value, string what)
    {
        if (value is "." or ".." || !SegmentValuePattern().IsMatch(value))
            throw ValidationException.For("basePath", $"The {what} '{value}' cannot be used as a folder name in a storage path.");
    }

    [GeneratedRegex(@"^(/[A-Za-z0-9._-]+)+\z")]
    private static partial Regex BindPattern();

    /// <summary>
    /// Whether a segment of a base path can be this segment of a folder: the same, or, with <c>$USER</c> in it,
    /// the same with some name that <see cref="Substitute"/> would put there.
    /// </summary>
    public static bool SegmentCanBe(string pattern, string segment)
    {
        if (pattern == segment) return true;
        if (!pattern.Contains(UserVariable, StringComparison.Ordinal)) return false;
        var anyName = Regex.Escape(pattern).Replace(Regex.Escape(UserVariable), SegmentValue);
        return Regex.IsMatch(segment, $"^{anyName}\\z");
    }

    /// <summary>What a user or login name may be to stand for a variable in a path: one plain segment.</summary>
    private const string SegmentValue = "[A-Za-z0-9._@+-]{1,128}";

    [GeneratedRegex("^" + SegmentValue + @"\z")]
    private static partial Regex SegmentValuePattern();
}
