namespace Rosetta.Core.Domain;

/// <summary>
/// Who is asking. Every Core service call that reads or changes a user's objects takes one, so
/// ownership is checked in one place whichever door (API, page, hub) the request came through.
/// </summary>
public sealed record Caller(string UserId, bool IsAdmin)
{
    /// <summary>Owners see their own objects, admins everything.</summary>
    public bool CanSee(string? ownerId) => IsAdmin || ownerId == UserId;

    /// <summary>Platform-wide objects (no owner) are visible to everyone.</summary>
    public bool CanUse(string? ownerId) => ownerId is null || CanSee(ownerId);

    /// <summary>
    /// Whether the caller may act through a computing resource's login (start tasks, open its files): a
    /// platform-wide one's, or their own. A user's resource logs in with that user's SSH key, as them, so not
    /// even an admin acts through it; admins still see it, and stop and delete what runs there.
    /// </summary>
    public bool CanActThrough(ComputingResource computing) => computing.OwnerId is null || computing.OwnerId == UserId;
}

/// <summary>
/// The caller sees the object (an admin sees everything) but only its owner may do this, e.g. log in
/// to the owner's session or hand it to someone else.
/// </summary>
public sealed class OwnerOnlyException(string message) : Exception(message);

/// <summary>The request conflicts with the object's state (e.g. deleting a running task).</summary>
public sealed class ConflictException(string message) : Exception(message);
