using System.Text.RegularExpressions;
using Rosetta.Core.Domain;
using Rosetta.Core.Validation;

namespace Rosetta.Core.Storages;

/// <summary>A storage as a client submits it.</summary>
public sealed record StorageDraft(
    string? Id, string? Name, string? Kind, string? Computing, string? BasePath, string? BindPath,
    bool? ReadOnly, bool? Browsable, bool? PlatformWide);

/// <summary>The shape rules of a storage's paths, checked before anything is stored.</summary>
public static partial class StorageRules
{
    public const string UserVariable = "$USER";
    public const string SshUserVariable = "$SSH_USER";

    // Top-level folders of a container that a bind must never hide.
    private static readonly HashSet<string> ReservedBindRoots = ["bin", "boot", "dev", "etc", "lib", "lib32", "lib64", "proc", "run", "sbin", "sys", "usr"];

    /// <summary>An absolute folder, variables allowed; no ':' or ',' (the engines' bind syntax), no '.' or '..'.</summary>
    public static void BasePath(ValidationErrors errors, string? value, StorageKind kind)
    {
        const string field = "basePath";
        if (string.IsNullOrEmpty(value)) { errors.Add(field, "is required: an absolute folder such as /data/$USER."); return; }
        if (value.Length > 1024 || value[0] != '/') { errors.Add(field, "must be an absolute path (starting with '/'), at most 1024 characters."); return; }
        if (value.Any(char.IsControl)) { errors.Add(field, "contains a control character."); return; }
        if (value.IndexOfAny([':', ',', '\\']) >= 0) { errors.Add(field, "cannot contain ':', ',' or '\\' (the container engines' bind syntax)."); return; }
        if (value.Split('/').Any(s => s is "." or "..")) { errors.Add(field, "cannot contain '.' or '..' segments."); return; }
        if (value.Trim('/').Length == 0) { errors.Add(field, "cannot be '/', the whole host: choose a folder such as /data/$USER."); return; }
        if (kind == StorageKind.Local && !value.Contains('$') && File.Exists(value)) { errors.Add(field, "is a file on the platform host; choose a folder."); return; }
        var rest = value.Replace(SshUserVariable, "").Replace(UserVariable, "");
        if (rest.Contains('$')) errors.Add(field, "knows only the variables $USER (the platform user) and $SSH_USER (the login on the computing resource).");
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

    /// <summary>
    /// The base path with its variables replaced. A user name that is not a plain single path
    /// segment (Identity allows '.', so '..' is possible) is refused rather than substituted.
    /// </summary>
    public static string Substitute(string basePath, string platformUser, string? sshUser)
    {
        if (basePath.Contains(UserVariable)) CheckSegmentValue(platformUser, "user name");
        if (basePath.Contains(SshUserVariable))
        {
            if (string.IsNullOrEmpty(sshUser)) throw ValidationException.For("basePath", "uses $SSH_USER but the computing resource has no login name.");
            CheckSegmentValue(sshUser, "login name");
        }
        var resolved = basePath.Replace(SshUserVariable, sshUser ?? "").Replace(UserVariable, platformUser);
        return resolved.Length > 1 ? resolved.TrimEnd('/') : resolved;
    }

    private static void CheckSegmentValue(string value, string what)
    {
        if (value is "." or ".." || !SegmentValuePattern().IsMatch(value))
            throw ValidationException.For("basePath", $"The {what} '{value}' cannot be used as a folder name in a storage path.");
    }

    [GeneratedRegex(@"^(/[A-Za-z0-9._-]+)+\z")]
    private static partial Regex BindPattern();

    [GeneratedRegex(@"^[A-Za-z0-9._@+-]{1,128}\z")]
    private static partial Regex SegmentValuePattern();
}
