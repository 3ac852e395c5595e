using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rosetta.App.Auth;
using Rosetta.Core.Persistence;
using Rosetta.Tests.Components;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Unit;

/// <summary>Dashboard sessions kept on the server: named by a key only the cookie holds, ended for good when removed.</summary>
public sealed class SignInSessionStoreTests
{
    private static AuthenticationTicket TicketFor(string userId, string name, DateTimeOffset expires) => new(
        new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, userId), new Claim(ClaimTypes.Name, name)], "Identity.Application")),
        new AuthenticationProperties { ExpiresUtc = expires }, "Identity.Application");

    private static SignInSessionStore Store(DashboardTestContext ctx, SessionEnds ends, TimeProvider time, IDataProtectionProvider? keys = null) =>
        new(ctx.Services.GetRequiredService<IDbContextFactory<RosettaDbContext>>(), keys ?? Keys, ends, time);

    private static readonly IDataProtectionProvider Keys = new EphemeralDataProtectionProvider();

    [Fact]
    public async Task ASessionIsNamedByItsIdElsewhereKeptEncryptedAndEndedForGoodWhenRemoved()
    {
        await using var ctx = new DashboardTestContext();
        var ends = new SessionEnds();
        var store = Store(ctx, ends, TimeProvider.System);
        var key = await store.StoreAsync(TicketFor(DashboardTestContext.UserId, "alice", DateTimeOffset.UtcNow.AddDays(7)));

        var ticket = await store.RetrieveAsync(key);
        Assert.Equal(DashboardTestContext.UserId, ticket!.Principal.UserId());
        var id = ticket.Principal.SessionId()!;
        Assert.NotEqual(key, id); // what the principal (and everything it opens) carries is not the cookie's key
        Assert.True(await store.IsLiveAsync(id, DashboardTestContext.UserId));
        Assert.False(await store.IsLiveAsync(id, "user-2")); // live, but not as someone else
        await using (var db = await ctx.Services.GetRequiredService<IDbContextFactory<RosettaDbContext>>().CreateDbContextAsync())
        {
            var row = await db.SignInSessions.SingleAsync();
            Assert.Equal(id, row.KeyHash);
            Assert.DoesNotContain("alice", System.Text.Encoding.UTF8.GetString(row.Ticket));
        }
        var held = ends.EndOf(id);

        await store.RemoveAsync(key);

        Assert.True(held.IsCancellationRequested);
        Assert.True(ends.EndOf(id).IsCancellationRequested); // a connection checked just before ties itself to an ended token
        Assert.Null(await store.RetrieveAsync(key));
        Assert.False(await store.IsLiveAsync(id, DashboardTestContext.UserId));
    }

    [Fact]
    public async Task ARenewalForSomeoneElseEndsTheSessionInsteadOfPassingItOn()
    {
        await using var ctx = new DashboardTestContext();
        await ctx.EnsureUserAsync("user-2", "bob");
        var ends = new SessionEnds();
        var store = Store(ctx, ends, TimeProvider.System);
        var key = await store.StoreAsync(TicketFor(DashboardTestContext.UserId, "alice", DateTimeOffset.UtcNow.AddDays(7)));
        var id = (await store.RetrieveAsync(key))!.Principal.SessionId()!;
        var alices = ends.EndOf(id);

        await store.RenewAsync(key, TicketFor(DashboardTestContext.UserId, "alice", DateTimeOffset.UtcNow.AddDays(8))); // a sliding renewal
        Assert.False(alices.IsCancellationRequested);
        Assert.Equal(DashboardTestContext.UserId, (await store.RetrieveAsync(key))!.Principal.UserId());

        await store.RenewAsync(key, TicketFor("user-2", "bob", DateTimeOffset.UtcNow.AddDays(7)));
        Assert.True(alices.IsCancellationRequested);
        Assert.Null(await store.RetrieveAsync(key)); // whoever holds the key is signed out, not signed in as bob
    }

    [Fact]
    public async Task AnExpiredSessionOrOneWrittenWithOtherKeysIsNoSessionAndExpiredOnesAreDeletedEndingWhatTheyHeld()
    {
        await using var ctx = new DashboardTestContext();
        var clock = new MovableClock();
        var ends = new SessionEnds();
        var store = Store(ctx, ends, clock);
        var key = await store.StoreAsync(TicketFor(DashboardTestContext.UserId, "alice", clock.GetUtcNow().AddDays(7)));
        Assert.NotNull(await store.RetrieveAsync(key));
        var held = ends.EndOf((await store.RetrieveAsync(key))!.Principal.SessionId()!); // a WebSocket it opened
        Assert.Null(await Store(ctx, new SessionEnds(), clock, new EphemeralDataProtectionProvider()).RetrieveAsync(key)); // the key ring was lost

        clock.Offset = TimeSpan.FromDays(7) + TimeSpan.FromMinutes(1);
        Assert.Null(await store.RetrieveAsync(key));
        await store.StoreAsync(TicketFor(DashboardTestContext.UserId, "alice", clock.GetUtcNow().AddDays(7)));
        await using var db = await ctx.Services.GetRequiredService<IDbContextFactory<RosettaDbContext>>().CreateDbContextAsync();
        Assert.Equal(1, await db.SignInSessions.CountAsync()); // the expired one went with the new sign-in
        Assert.True(held.IsCancellationRequested); // and what it held open with it
    }
}
