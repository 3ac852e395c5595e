using Rosetta.Core.Backends;
using Rosetta.Core.Domain;
using Rosetta.Core.Storages;
using Rosetta.Core.Validation;

namespace Rosetta.App.Components.Model;

/// <summary>
/// The storage errors a page shows as a message instead of failing: the same cases the API answers
/// with a 4xx (or a 503 for an unreachable SFTP host), worded by Core.
/// </summary>
public static class StorageRefusals
{
    public static bool IsRefusal(Exception e) =>
        e is ValidationException or ConflictException or StorageEntryNotFoundException or ReadOnlyStorageException
            or StorageLimitException or StorageAccessDeniedException or OwnerOnlyException or BackendUnavailableException or IOException;

    /// <summary>The refusal as a sentence; Core's field messages ("is required.") get their subject.</summary>
    public static string Describe(Exception e) =>
        e is ValidationException v ? string.Join(" ", v.Errors.ToDictionary().SelectMany(kv => kv.Value.Select(m => WithSubject(kv.Key, m)))) : e.Message;

    // "is required." needs its subject; a message that is a sentence already ("The storage's root …") does not.
    private static string WithSubject(string field, string message) =>
        message.Length > 0 && char.IsLower(message[0]) ? $"{Subject(field)} {message}" : message;

    private static string Subject(string field) => field switch
    {
        "name" => "The name",
        "filename" => "The file's name",
        "path" => "The path",
        "from" => "What to move or copy",
        "to" => "The destination",
        _ => $"'{field}'",
    };
}
