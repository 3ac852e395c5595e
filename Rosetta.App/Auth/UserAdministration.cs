using Microsoft.AspNetCore.Identity;
using Rosetta.Core.Accounts;
using Rosetta.Core.Domain;
using Rosetta.Core.Validation;

namespace Rosetta.App.Auth;

/// <summary>No user has the id asked for (a 404 in the API).</summary>
public sealed class UnknownUserException() : Exception("No user has this id.");

/// <summary>A user as the admin page and the users API show them; <see cref="ActiveTasks"/>: their tasks that have not ended.</summary>
public sealed record UserSummary(string Id, string Username, bool Admin, bool Disabled, DateTime CreatedAt, int ActiveTasks);

/// <summary>A deleted user, where their folders on the platform host are now, and those left as they were (not theirs alone).</summary>
public sealed record DeletedUser(string Username, IReadOnlyList<string> FoldersSetAside, IReadOnlyList<Rosetta.Core.Storages.UserFolder> FoldersLeft);

/// <summary>
/// User management for interactive pages and the API. Identity's UserManager is scoped to one
/// DbContext; a Blazor circuit lives for hours, so every operation gets its own scope here
/// instead of sharing one context across the circuit.
/// </summary>
public sealed class UserAdministration(IServiceScopeFactory scopes, PrincipalCache principals, AccountEnds accountEnds, AccountRemoval removal,
    Rosetta.Core.Monitoring.TaskMonitor monitor, SignInSessionStore sessions)
{
    public async Task<IReadOnlyList<UserSummary>> ListAsync()
    {
        using var scope = scopes.CreateScope();
        var users = Users(scope);
        var admins = (await users.GetUsersInRoleAsync(Roles.Admin)).Select(u => u.Id).ToHashSet();
        var active = monitor.ActiveTasksByOwner();
        return users.Users.OrderBy(u => u.UserName).AsEnumerable()
            .Select(u => new UserSummary(u.Id, u.UserName!, admins.Contains(u.Id), u.IsDisabled, u.CreatedAt, active.GetValueOrDefault(u.Id))).ToList();
    }

    /// <summary>Creates a user. Invalid input → <see cref="ValidationException"/>; a taken name → <see cref="ConflictException"/>.</summary>
    public const int MaxUsernameLength = 64;

    public async Task<UserSummary> CreateAsync(string? username, string? password, bool admin)
    {
        var errors = new ValidationErrors();
        username = username?.Trim();
        if (string.IsNullOrEmpty(username)) errors.Add("username", "is required.");
        // The name becomes a folder ($USER in storage paths): '.' and '..' never can, nor can a very long one.
        else if (username is "." or "..") errors.Add("username", "cannot be '.' or '..'.");
        else if (username.Length > MaxUsernameLength) errors.Add("username", $"is {username.Length} characters long; use at most {MaxUsernameLength}.");
        else if (!TextRules.IsWellFormed(username)) errors.Add("username", TextRules.BrokenCharacter);
        if (string.IsNullOrEmpty(password)) errors.Add("password", "is required.");
        else if (!TextRules.IsWellFormed(password)) errors.Add("password", TextRules.BrokenCharacter);
        if (!errors.IsValid) throw new ValidationException(errors);

        using var scope = scopes.CreateScope();
        var users = Users(scope);
        if (await users.FindByNameAsync(username!) is not null) throw new ConflictException($"A user named '{username}' exists already.");
        var user = new RosettaUser { UserName = username! };
        IdentityResult created;
        try
        {
            created = await users.CreateAsync(user, password!);
        }
        catch (Microsoft.EntityFrameworkCore.DbUpdateException)
        {
            if (await users.FindByNameAsync(username!) is null) throw;
            created = IdentityResult.Failed(new IdentityErrorDescriber().DuplicateUserName(username!)); // its unique index refused the second
        }
        // Made by a request at the same time, between the check above and this one: a conflict as well, not a bad request.
        if (created.Errors.Any(e => e.Code == nameof(IdentityErrorDescriber.DuplicateUserName)))
            throw new ConflictException($"A user named '{username}' exists already.");
        ThrowIfFailed(created);
        if (admin) await users.AddToRoleAsync(user, Roles.Admin);
        return new UserSummary(user.Id, user.UserName, admin, false, user.CreatedAt, ActiveTasks: 0);
    }

    public async Task SetDisabledAsync(Caller caller, string userId, bool disabled)
    {
        if (userId == caller.UserId) throw new ConflictException("You cannot disable your own account.");
        using var scope = scopes.CreateScope();
        var users = Users(scope);
        var user = await users.FindByIdAsync(userId) ?? throw new ConflictException("No such user.");
        user.IsDisabled = disabled;
        ThrowIfFailed(await users.UpdateAsync(user));
        // A new security stamp ends the user's browser sessions at their next validation.
        if (disabled) await users.UpdateSecurityStampAsync(user);
        principals.Invalidate(userId);
        // What is open already (interface WebSockets, hub connections, dashboard circuits) ends too.
        if (disabled) accountEnds.End(userId);
        else accountEnds.Resume(userId);
    }

    public async Task SetAdminAsync(Caller caller, string userId, bool admin)
    {
        if (userId == caller.UserId && !admin) throw new ConflictException("You cannot remove your own admin role.");
        using var scope = scopes.CreateScope();
        var users = Users(scope);
        var user = await users.FindByIdAsync(userId) ?? throw new ConflictException("No such user.");
        ThrowIfFailed(admin ? await users.AddToRoleAsync(user, Roles.Admin) : await users.RemoveFromRoleAsync(user, Roles.Admin));
        // Browser sessions carry the roles they were opened with: a new stamp ends them (and open tabs at
        // their next check), so a demoted admin is not one for the rest of a 7-day cookie.
        await users.UpdateSecurityStampAsync(user);
        principals.Invalidate(userId);
        await sessions.EndAllOfAsync(userId);
    }

    /// <summary>
    /// Changes the caller's own password. Every session of the account ends at once with what it holds open, the one the
    /// change is made in too: a stolen cookie is a copy of that very session.
    /// </summary>
    public async Task ChangePasswordAsync(string userId, string? current, string? next)
    {
        var errors = new ValidationErrors();
        if (string.IsNullOrEmpty(current)) errors.Add("current", "is required.");
        if (string.IsNullOrEmpty(next)) errors.Add("next", "is required.");
        else if (!TextRules.IsWellFormed(next)) errors.Add("next", TextRules.BrokenCharacter); // stored as '�', it could never be typed again
        if (!errors.IsValid) throw new ValidationException(errors);
        using var scope = scopes.CreateScope();
        var users = Users(scope);
        var user = await users.FindByIdAsync(userId) ?? throw new ConflictException("No such user.");
        var result = await users.ChangePasswordAsync(user, current!, next!);
        if (!result.Succeeded)
        {
            var failed = new ValidationErrors();
            foreach (var error in result.Errors)
                failed.Add(error.Code == "PasswordMismatch" ? "current" : "next", error.Code == "PasswordMismatch" ? "is not your current password." : error.Description);
            throw new ValidationException(failed);
        }
        principals.Invalidate(userId); // its new security stamp ends the sessions opened with the old password
        await sessions.EndAllOfAsync(userId);
    }

    /// <summary>
    /// An admin gives a user who lost their password a new one (there is no e-mail to reset it by). As
    /// with a change of their own, every session opened with the old one ends; a lockout from wrong
    /// guesses is lifted, since the next attempt is the user's with the password just handed over. API
    /// tokens stay, as with a change of their own (their scripts go on); disabling the account ends those too.
    /// </summary>
    public async Task ResetPasswordAsync(Caller caller, string userId, string? password)
    {
        if (userId == caller.UserId) throw new ConflictException("Change your own password on the Account page; it asks for the current one.");
        if (string.IsNullOrEmpty(password) || !TextRules.IsWellFormed(password))
        {
            var missing = new ValidationErrors();
            missing.Add("password", string.IsNullOrEmpty(password) ? "is required." : TextRules.BrokenCharacter);
            throw new ValidationException(missing);
        }
        using var scope = scopes.CreateScope();
        var users = Users(scope);
        var user = await users.FindByIdAsync(userId) ?? throw new UnknownUserException();
        // Through a reset token: the new password is checked against the rules before the old one goes.
        var reset = await users.ResetPasswordAsync(user, await users.GeneratePasswordResetTokenAsync(user), password);
        if (!reset.Succeeded)
        {
            // The form has one field: every refusal goes on it (a concurrency failure too, said as such).
            var refused = new ValidationErrors();
            foreach (var error in reset.Errors) refused.Add("password", error.Description);
            throw new ValidationException(refused);
        }
        await users.SetLockoutEndDateAsync(user, null);
        await users.ResetAccessFailedCountAsync(user);
        principals.Invalidate(userId);
        await sessions.EndAllOfAsync(userId);
    }

    /// <summary>
    /// Deletes a user and what is theirs (see <see cref="AccountRemoval"/>), once none of their tasks
    /// runs. The account is disabled first, so nothing of theirs starts meanwhile and what they have
    /// open ends; a deletion that fails half-way leaves it disabled, to be deleted again. It runs to
    /// its end once begun (an admin leaving the page does not cut it short), one deletion at a time.
    /// </summary>
    /// <exception cref="UnknownUserException">No such user (or deleted meanwhile).</exception>
    /// <exception cref="ConflictException">The caller's own account, some of the user's tasks still run, or something of theirs refuses to go.</exception>
    public async Task<DeletedUser> DeleteAsync(Caller caller, string userId)
    {
        if (userId == caller.UserId) throw new ConflictException("You cannot delete your own account.");
        await _deleting.WaitAsync();
        try
        {
            using var scope = scopes.CreateScope();
            var users = Users(scope);
            var user = await users.FindByIdAsync(userId) ?? throw new UnknownUserException();
            removal.EnsureNothingRuns(userId, user.UserName!);
            if (!user.IsDisabled)
            {
                user.IsDisabled = true;
                ThrowIfFailed(await users.UpdateAsync(user));
            }
            // A new stamp ends their browser sessions; it also makes the user current for the delete below.
            await users.UpdateSecurityStampAsync(user);
            principals.Invalidate(userId);
            accountEnds.End(userId); // for good: the id is never used again
            var removed = await removal.RemoveAsync(userId, user.UserName!, CancellationToken.None);
            ThrowIfFailed(await users.DeleteAsync(user));
            return new DeletedUser(user.UserName!, removed.FoldersSetAside, removed.FoldersLeft);
        }
        finally
        {
            _deleting.Release();
        }
    }

    private readonly SemaphoreSlim _deleting = new(1, 1);

    private static UserManager<RosettaUser> Users(IServiceScope scope) => scope.ServiceProvider.GetRequiredService<UserManager<RosettaUser>>();

    private static void ThrowIfFailed(IdentityResult result)
    {
        if (result.Succeeded) return;
        var errors = new ValidationErrors();
        foreach (var error in result.Errors)
        {
            // Identity's own words ("can only contain letters or digits") leave out the other characters it takes.
            var message = error.Code == nameof(IdentityErrorDescriber.InvalidUserName)
                ? "may use only ASCII letters (a-z, A-Z), digits and '-', '.', '_' or '@' (no spaces, accents or '/')." : error.Description;
            errors.Add(error.Code.Contains("Password") ? "password" : "username", message);
        }
        throw new ValidationException(errors);
    }
}
