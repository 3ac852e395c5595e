using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;

namespace Rosetta.App.Auth;

public static class AccountEndpoints
{
    /// <summary>Log-out (a form POST, protected by the antiforgery token of the form).</summary>
    public static void MapAccountEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/logout", async (HttpContext ctx, Microsoft.AspNetCore.Antiforgery.IAntiforgery antiforgery) =>
        {
            // The endpoint binds no form, so the antiforgery middleware alone would not refuse a post without the token.
            if (!await antiforgery.IsRequestValidAsync(ctx))
                return Results.Problem(statusCode: 400, title: "Not logged out.", detail: "Log out with the dashboard's own Log out button.");
            await ctx.SignOutAsync(IdentityConstants.ApplicationScheme);
            return Results.LocalRedirect("/login");
        }).RequireAuthorization().DisableAntiforgery().ExcludeFromDescription();
    }
}
