using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;

namespace Rosetta.App.Auth;

public static class AccountEndpoints
{
    /// <summary>Log-out (a form POST, protected by the antiforgery token of the form).</summary>
    public static void MapAccountEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/logout", async (HttpContext ctx) =>
        {
            await ctx.SignOutAsync(IdentityConstants.ApplicationScheme);
            return Results.LocalRedirect("/login");
        }).RequireAuthorization().ExcludeFromDescription();
    }
}
