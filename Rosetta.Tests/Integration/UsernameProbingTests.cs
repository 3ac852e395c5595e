using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Rosetta.App.Auth;
using Rosetta.Core.Domain;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Integration;

/// <summary>
/// Whoever times the login form or the token endpoint must not learn which usernames exist: an
/// unknown or disabled username is refused after the same slow password hash as a wrong password.
/// (Counted, not timed: a timing test on two shared cores would be noise.)
/// </summary>
public sealed class UsernameProbingTests
{
    [Fact]
    public async Task AnUnknownOrDisabledUsernameCostsTheSamePasswordCheckAsAWrongPassword()
    {
        var hasher = new CountingPasswordHasher();
        await using var app = new RosettaAppFactory(services: s => s.AddScoped<IPasswordHasher<RosettaUser>>(_ => hasher));
        var disabled = "user" + Guid.NewGuid().ToString("N")[..8];
        using (await app.NewUserClientAsync(disabled)) { }
        var administration = app.Services.GetRequiredService<UserAdministration>();
        await administration.SetDisabledAsync(new Caller("the admin", IsAdmin: true), (await administration.ListAsync()).Single(u => u.Username == disabled).Id, disabled: true);

        using var anonymous = app.Client();
        foreach (var username in new[] { "admin", "nobody-by-this-name", disabled })
        {
            var before = hasher.Verifications;
            var refused = await anonymous.PostAsJsonAsync("/api/v1/tokens", new { username, password = "not-the-password" });
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.True(hasher.Verifications == before + 1, $"refusing '{username}' on the token endpoint checked {hasher.Verifications - before} passwords, not 1");

            using var browser = new BrowserLikeClient(app.BaseAddress);
            before = hasher.Verifications;
            var page = await browser.PostLoginAsync(app.BaseAddress, username, "not-the-password");
            Assert.Contains("Wrong username or password", await page.Content.ReadAsStringAsync());
            Assert.True(hasher.Verifications == before + 1, $"refusing '{username}' on the login form checked {hasher.Verifications - before} passwords, not 1");
        }
    }

    [Fact]
    public async Task ALockedOutAccountIsRefusedInTheSameWordsAsAnUnknownUsername()
    {
        await using var app = new RosettaAppFactory();
        var username = "user" + Guid.NewGuid().ToString("N")[..8];
        using (await app.NewUserClientAsync(username)) { }
        using var browser = new BrowserLikeClient(app.BaseAddress);

        var unknown = await RefusalOfAsync(await browser.PostLoginAsync(app.BaseAddress, "nobody-by-this-name", "not-the-password"));
        for (var attempt = 1; attempt <= 10; attempt++)
            Assert.Equal(unknown, await RefusalOfAsync(await browser.PostLoginAsync(app.BaseAddress, username, "not-the-password")));

        // Locked now: even the right password is refused, and in words that do not say the account exists.
        var rightPassword = await browser.PostLoginAsync(app.BaseAddress, username, "password-" + username);
        Assert.Equal(unknown, await RefusalOfAsync(rightPassword));
        Assert.Contains("locked for 5 minutes", unknown);
    }

    private static async Task<string> RefusalOfAsync(HttpResponseMessage page)
    {
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var error = System.Text.RegularExpressions.Regex.Match(await page.Content.ReadAsStringAsync(), "<p class=\"auth-error\" role=\"alert\">([^<]*)</p>");
        Assert.True(error.Success, "The login form answered without an error.");
        return error.Groups[1].Value;
    }

    private sealed class CountingPasswordHasher : IPasswordHasher<RosettaUser>
    {
        private readonly PasswordHasher<RosettaUser> _real = new();
        private int _verifications;
        public int Verifications => Volatile.Read(ref _verifications);

        public string HashPassword(RosettaUser user, string password) => _real.HashPassword(user, password);

        public PasswordVerificationResult VerifyHashedPassword(RosettaUser user, string hashedPassword, string providedPassword)
        {
            Interlocked.Increment(ref _verifications);
            return _real.VerifyHashedPassword(user, hashedPassword, providedPassword);
        }
    }
}
