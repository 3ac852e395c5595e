using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Rosetta.Core.Domain;
using Rosetta.Core.Persistence;
using Rosetta.Core.Validation;
using Rosetta.Core.Backends;

namespace Rosetta.Core.Catalogue;

/// <summary>A software entry as a user submits it.</summary>
public sealed record SoftwareDraft(
    string? Id, string? Name, string? Description, string? Image, string? Tag, string? Digest,
    int? InterfacePort, string? InterfaceProtocol, Dictionary<string, string>? Env,
    string? PortEnv, string? SecretEnv, string? ProxyAuthorizationScheme, string? BasePathEnv, string? ViewOnlySecretEnv = null);

/// <summary>The software catalogue: platform-wide entries plus each user's own images.</summary>
public sealed partial class SoftwareService(IDbContextFactory<RosettaDbContext> dbFactory)
{
    public async Task<IReadOnlyList<Software>> ListAsync(Caller caller, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        // Filtered by the database: every page with a task list reads this, and other users' entries are not the caller's to load.
        return await db.Software.AsNoTracking().Where(s => caller.IsAdmin || s.OwnerId == null || s.OwnerId == caller.UserId)
            .OrderBy(s => s.Name).ToListAsync(ct);
    }

    public async Task<Software?> FindAsync(Caller caller, string id, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var software = await db.Software.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id, ct);
        return software is not null && caller.CanUse(software.OwnerId) ? software : null;
    }

    /// <summary>Adds the caller's own software. Admins may add platform-wide software with <paramref name="platformWide"/>.</summary>
    public async Task<Software> AddAsync(Caller caller, SoftwareDraft draft, bool platformWide, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        var software = Validate(draft, errors);
        if (platformWide && !caller.IsAdmin) errors.Add("platformWide", "only administrators can add platform-wide software.");
        CheckProtocolAllowed(caller, software, errors);
        // A bundled entry an admin removed comes back at the next start, unless a user's own took its id meanwhile.
        if (software is not null && !caller.IsAdmin && BundledCatalogue.Software().Any(b => b.Id == software.Id))
            errors.Add("id", $"'{software.Id}' is the id of an entry the platform brings; choose another.");
        if (!errors.IsValid) throw new ValidationException(errors);

        software!.OwnerId = platformWide ? null : caller.UserId;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var write = await db.BeginWriteAsync(ct);
        if (await db.Software.AnyAsync(s => s.Id == software.Id, ct))
            throw new ConflictException($"Software id '{software.Id}' is taken; choose another id.");
        await EnsureNameFreeAsync(db, software.Name, software.OwnerId, exceptId: null, ct);
        db.Software.Add(software);
        await db.SaveChangesAsync(ct);
        await write.CommitAsync(ct);
        return software;
    }

    /// <summary>
    /// Replaces a software entry the caller may edit (their own; platform-wide ones for admins).
    /// The id stays; running tasks keep what they were started with. Null: no such entry (also when it was deleted while
    /// this edit was being made: the row the edit read is gone).
    /// </summary>
    public async Task<Software?> UpdateAsync(Caller caller, string id, SoftwareDraft draft, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var existing = await db.Software.FirstOrDefaultAsync(s => s.Id == id, ct);
        if (existing is null || !CanEdit(caller, existing)) return null;
        var errors = new ValidationErrors();
        if (draft.Id is not null && draft.Id != id) errors.Add("id", "cannot be changed: tasks and links name the software by it. Add a new entry instead.");
        var updated = Validate(draft with { Id = id }, errors);
        CheckProtocolAllowed(caller, updated, errors);
        if (!errors.IsValid) throw new ValidationException(errors);
        var (owner, created) = (existing.OwnerId, existing.CreatedAt);
        await EnsureNameFreeAsync(db, updated!.Name, owner, exceptId: id, ct);
        db.Entry(existing).CurrentValues.SetValues(updated);
        (existing.OwnerId, existing.CreatedAt) = (owner, created); // ownership never changes through an edit
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            return null;
        }
        return existing;
    }

    /// <summary>
    /// Software is picked by name (the catalogue, the new-task wizard): a user's entry may not share its name with another
    /// of theirs or with a platform-wide one, which they see side by side; a platform-wide one not with another platform-wide.
    /// </summary>
    private static async Task EnsureNameFreeAsync(RosettaDbContext db, string name, string? ownerId, string? exceptId, CancellationToken ct)
    {
        var taken = await db.Software.AnyAsync(s => s.Id != exceptId && s.Name == name && (s.OwnerId == null || s.OwnerId == ownerId), ct);
        if (!taken) return;
        throw new ConflictException(ownerId is null
            ? $"The catalogue has platform-wide software named '{name}' already; choose another name."
            : $"Your catalogue has software named '{name}' already (yours or the platform's); choose another name.");
    }

    /// <summary>
    /// A non-HTTP interface is given a port on the platform host that anyone who reaches it may connect to, without the
    /// platform's sign-in: only the image's own server stands in the way. Users add web apps, which the proxy guards;
    /// an admin adds such software (the bundled SSH server asks for the task's password or the user's key).
    /// </summary>
    private static void CheckProtocolAllowed(Caller caller, Software? software, ValidationErrors errors)
    {
        if (software is null || software.InterfaceProtocol == InterfaceProtocol.Http || caller.IsAdmin) return;
        errors.Add("interfaceProtocol", "must be 'http' for your own software: a non-HTTP interface gets a port on the platform host that the " +
            "platform's sign-in does not guard. Ask an admin to add such software.");
    }

    /// <summary>Deletes a software entry the caller may edit. False: no such entry.</summary>
    public async Task<bool> DeleteAsync(Caller caller, string id, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var write = await db.BeginWriteAsync(ct);
        var existing = await db.Software.FirstOrDefaultAsync(s => s.Id == id, ct);
        if (existing is null || !CanEdit(caller, existing)) return false;
        if (await db.Tasks.AnyAsync(t => t.SoftwareId == id && !TaskStateExtensions.FinalStates.Contains(t.Status), ct))
            throw new ConflictException($"'{existing.Name}' has tasks that still run; stop them first.");
        db.Software.Remove(existing);
        await db.SaveChangesAsync(ct);
        await write.CommitAsync(ct);
        return true;
    }

    /// <summary>Owners edit their own entries; only admins edit platform-wide ones.</summary>
    public static bool CanEdit(Caller caller, Software software) =>
        software.OwnerId is null ? caller.IsAdmin : caller.CanSee(software.OwnerId);

    /// <summary>Checks a draft; returns the entity when it is valid.</summary>
    public static Software? Validate(SoftwareDraft draft, ValidationErrors errors)
    {
        var name = draft.Name?.Trim();
        TextRules.DisplayName(errors, "name", name);
        var id = string.IsNullOrEmpty(draft.Id) ? SlugFrom(name) : draft.Id;
        // Without an id and a name there is nothing to derive one from: the name's error says it.
        if (!string.IsNullOrEmpty(draft.Id) || !string.IsNullOrWhiteSpace(name)) TextRules.Slug(errors, "id", id);
        if (draft.Description is { Length: > 2000 }) errors.Add("description", "use at most 2000 characters.");

        if (string.IsNullOrWhiteSpace(draft.Image)) errors.Add("image", "is required, e.g. rosetta/jupyter or quay.io/org/app.");
        else if (draft.Image.Length > 255) errors.Add("image", $"is {draft.Image.Length} characters long; an image repository has at most 255.");
        else if (!ImagePattern().IsMatch(draft.Image))
            errors.Add("image", "is not a valid image repository: lower-case letters, digits, '.', '_', '-' and '/', optionally a registry host:port first (no tag here; use 'tag').");
        else if (RegistryProblem(draft.Image) is { } problem) errors.Add("image", problem);
        var tag = string.IsNullOrEmpty(draft.Tag) ? "latest" : draft.Tag;
        if (!TagPattern().IsMatch(tag)) errors.Add("tag", "is not a valid tag: up to 128 letters, digits, '_', '.' or '-'.");
        if (!string.IsNullOrEmpty(draft.Digest) && !DigestPattern().IsMatch(draft.Digest))
            errors.Add("digest", "must look like sha256: followed by 64 hexadecimal characters.");

        if (draft.InterfacePort is not { } port) errors.Add("interfacePort", "is required: the port the interface listens on inside the container.");
        else if (port is < 1 or > 65535) errors.Add("interfacePort", "must be between 1 and 65535.");

        var protocol = InterfaceProtocol.Http;
        if (draft.InterfaceProtocol is { } p && !EnumNames.TryParse(p, out protocol))
            errors.Add("interfaceProtocol", "must be 'http' or 'ssh'.");

        // The variables the platform sets are its own: a fixed value would lose to them, or (the port) win and break the probe.
        var managed = new[] { ("portEnv", draft.PortEnv), ("secretEnv", draft.SecretEnv), ("basePathEnv", draft.BasePathEnv), ("viewOnlySecretEnv", draft.ViewOnlySecretEnv) };
        TextRules.Environment(errors, "env", draft.Env, managed.Select(m => m.Item2).OfType<string>().Append(ContainerSpecFactory.StoragesEnv).ToHashSet(StringComparer.Ordinal));
        foreach (var (field, value) in managed)
        {
            if (value is not null && !TextRules.IsEnvName(value)) errors.Add(field, "must be a variable name: letters, digits and '_', not starting with a digit.");
        }
        // One variable for two things: the port would be the interface secret (and the secret shown in the program's error), or the path.
        foreach (var (field, value) in managed.Take(3))
        {
            if (value is null) continue;
            if (value == ContainerSpecFactory.StoragesEnv)
                errors.Add(field, $"cannot be {ContainerSpecFactory.StoragesEnv}: the platform sets it to the task's storage folders.");
            else if (managed.Take(3).FirstOrDefault(m => m.Item1 != field && m.Item2 == value) is { Item1: { } other })
                errors.Add(field, $"must be a variable of its own: {other} is '{value}' too, and each one is set to something else.");
        }
        if (draft.ProxyAuthorizationScheme is { } scheme && !SchemePattern().IsMatch(scheme))
            errors.Add("proxyAuthorizationScheme", "must be one word, such as 'token' or 'Bearer'.");
        if (draft.ProxyAuthorizationScheme is not null && draft.SecretEnv is null)
            errors.Add("proxyAuthorizationScheme", "needs secretEnv: the proxy can only send a secret the container received.");
        if (draft.ViewOnlySecretEnv is not null && draft.ProxyAuthorizationScheme != Software.VncAuthorization)
            errors.Add("viewOnlySecretEnv", $"is for VNC desktops only: set proxyAuthorizationScheme to '{Software.VncAuthorization}' (and secretEnv), or leave it empty.");
        else if (draft.ViewOnlySecretEnv is { } viewOnly && new[] { draft.SecretEnv, draft.PortEnv, draft.BasePathEnv, ContainerSpecFactory.StoragesEnv }.Contains(viewOnly))
            errors.Add("viewOnlySecretEnv", "must be a variable of its own, not secretEnv, portEnv, basePathEnv or ROSETTA_STORAGES: the view-only password is a second password.");

        if (!errors.IsValid) return null;
        return new Software
        {
            Id = id!, Name = name!, Description = draft.Description?.Trim() ?? "", Image = draft.Image!, Tag = tag,
            Digest = string.IsNullOrEmpty(draft.Digest) ? null : draft.Digest, InterfacePort = draft.InterfacePort!.Value,
            InterfaceProtocol = protocol, Env = draft.Env ?? new(), PortEnv = draft.PortEnv, SecretEnv = draft.SecretEnv,
            ProxyAuthorizationScheme = draft.ProxyAuthorizationScheme, BasePathEnv = draft.BasePathEnv,
            ViewOnlySecretEnv = draft.ViewOnlySecretEnv,
        };
    }

    private static string? SlugFrom(string? name)
    {
        if (string.IsNullOrWhiteSpace(name)) return null;
        var slug = NonSlug().Replace(name.ToLowerInvariant(), "-").Trim('-');
        if (slug.Length == 0 || !char.IsAsciiLetterLower(slug[0])) slug = "sw-" + slug;
        slug = slug.Length > 33 ? slug[..33].TrimEnd('-') : slug;
        return $"{slug}-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3))}";
    }

    [GeneratedRegex("[^a-z0-9]+")]
    private static partial Regex NonSlug();

    /// <summary>
    /// The part before the first '/' is a registry only when it looks like one (a '.', a port or
    /// localhost), as the engines read it; otherwise it belongs to the repository, which is lower-case.
    /// </summary>
    private static string? RegistryProblem(string image)
    {
        var slash = image.IndexOf('/');
        if (slash < 0) return null;
        var first = image[..slash];
        var colon = first.IndexOf(':');
        if (colon >= 0 && int.Parse(first[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture) is < 1 or > 65535)
            return $"names the registry port {first[(colon + 1)..]}; a port is between 1 and 65535.";
        if (colon < 0 && !first.Contains('.') && first != "localhost" && first.Any(char.IsAsciiLetterUpper))
            return $"'{first}' is not a registry (no '.', port or localhost), so it is part of the repository name, which is lower-case.";
        return null;
    }

    // Docker's reference grammar, simplified: [registry[:port]/]path(/path)* in lower case.
    [GeneratedRegex(@"^([a-zA-Z0-9][a-zA-Z0-9.-]*(:[0-9]{1,5})?/)?[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*\z")]
    private static partial Regex ImagePattern();

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\z")]
    private static partial Regex TagPattern();

    [GeneratedRegex("^sha256:[a-f0-9]{64}\\z")]
    private static partial Regex DigestPattern();

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_-]{0,31}\\z")]
    private static partial Regex SchemePattern();
}
