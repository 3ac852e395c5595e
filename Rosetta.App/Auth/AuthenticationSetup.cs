using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Rosetta.Core.Accounts;
using Rosetta.Core.Domain;
using Rosetta.Core.Persistence;

namespace Rosetta.App.Auth;

public static class AuthenticationSetup
{
    /// <summary>The default scheme: a bearer token when the request carries one, else the cookie.</summary>
    public const string CookieOrToken = "CookieOrToken";

    /// <param name="configuration">Rosetta:PublicUrl: an https address gives the platform's cookies the <c>__Host-</c> prefix.</param>
    public static IServiceCollection AddRosettaAuthentication(this IServiceCollection services, IConfiguration configuration)
    {
        var hostOnly = PlatformCookies.HostOnly(configuration);
        services.AddIdentityCore<RosettaUser>(ConfigureIdentity)
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<RosettaDbContext>()
            .AddSignInManager()
            .AddDefaultTokenProviders();

        services.AddAuthentication(o =>
            {
                o.DefaultScheme = CookieOrToken;
                o.DefaultChallengeScheme = CookieOrToken;
            })
            .AddPolicyScheme(CookieOrToken, "Cookie or API token", o => o.ForwardDefaultSelector = ctx =>
                ApiTokenAuthenticationHandler.HasBearer(ctx.Request) ? ApiTokenAuthenticationHandler.SchemeName : IdentityConstants.ApplicationScheme)
            .AddScheme<AuthenticationSchemeOptions, ApiTokenAuthenticationHandler>(ApiTokenAuthenticationHandler.SchemeName, null)
            .AddIdentityCookies();

        services.ConfigureApplicationCookie(o =>
        {
            o.Cookie.Name = PlatformCookies.Named(PlatformCookies.Auth, hostOnly);
            PlatformCookies.Confine(o.Cookie, hostOnly);
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Lax;
            o.LoginPath = "/login";
            o.LogoutPath = "/logout";
            o.AccessDeniedPath = "/forbidden"; // the framework's default, /Account/AccessDenied, is no page here
            o.SlidingExpiration = true;
            o.ExpireTimeSpan = TimeSpan.FromDays(7);
            // Programs get a status code, people get the login page.
            o.Events.OnRedirectToLogin = ctx => Challenge(ctx, StatusCodes.Status401Unauthorized);
            o.Events.OnRedirectToAccessDenied = ctx => Challenge(ctx, StatusCodes.Status403Forbidden);
            o.Events.OnValidatePrincipal = RejectEndedSessions;
        });
        // The cookie names a session kept on the server, which logging out ends for good.
        services.AddSingleton<SessionEnds>();
        services.AddSingleton<SignInSessionStore>();
        services.AddOptions<Microsoft.AspNetCore.Authentication.Cookies.CookieAuthenticationOptions>(IdentityConstants.ApplicationScheme)
            .Configure<SignInSessionStore>((o, store) => o.SessionStore = store);
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = PlatformCookies.Named(PlatformCookies.Antiforgery, hostOnly);
            PlatformCookies.Confine(o.Cookie, hostOnly);
        });
        services.AddAuthorization();
        services.AddCascadingAuthenticationState();
        services.AddHostedService<AdminSeeder>();
        services.AddSingleton<UserAdministration>();
        services.AddSingleton<PrincipalCache>();
        services.AddSingleton<DashboardRequestTokens>();
        services.AddScoped<DashboardApiLinks>();
        services.AddScoped<Microsoft.AspNetCore.Components.Authorization.AuthenticationStateProvider, SessionBoundAuthenticationState>();
        services.AddScoped<DecoyPasswordCheck>();
        return services;
    }

    /// <summary>Password and user-name rules: long passwords rather than character classes.</summary>
    public static void ConfigureIdentity(IdentityOptions o)
    {
        o.Password.RequiredLength = 8;
        o.Password.RequireNonAlphanumeric = false;
        o.Password.RequireUppercase = false;
        o.Password.RequireLowercase = false;
        o.Password.RequireDigit = false;
        o.User.AllowedUserNameCharacters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._@";
        o.Lockout.MaxFailedAccessAttempts = 10;
        o.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(5);
    }

    private static Task Challenge(RedirectContext<Microsoft.AspNetCore.Authentication.Cookies.CookieAuthenticationOptions> ctx, int status)
    {
        if (IsBrowserNavigation(ctx.Request))
        {
            ctx.Response.Redirect(ctx.RedirectUri);
        }
        else
        {
            ctx.Response.StatusCode = status;
        }
        return Task.CompletedTask;
    }

    /// <summary>A person's browser asking for a page (not the API, the hub, or a script's fetch).</summary>
    public static bool IsBrowserNavigation(HttpRequest request)
    {
        var path = request.Path;
        if (path.StartsWithSegments("/api") || path.StartsWithSegments("/hubs")) return false;
        return request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Whether a session still speaks for its account: the account exists, is enabled, and has the
    /// security stamp the session was opened with. Changing the password or the roles renews the stamp,
    /// so a stolen cookie stops working once its owner changes the password. Asked on every cookie
    /// request (proxied ones included), so the answer comes through <see cref="PrincipalCache"/>, which
    /// those account changes invalidate at once.
    /// </summary>
    public static Task<bool> IsCurrentAsync(System.Security.Claims.ClaimsPrincipal session, IServiceProvider services) =>
        session.UserId() is { } userId ? IsCurrentAsync(userId, SecurityStampOf(session, services), services) : Task.FromResult(false);

    /// <summary>The same check for a session kept elsewhere (a task host's): its user and the stamp it was opened with.</summary>
    public static async Task<bool> IsCurrentAsync(string userId, string? securityStamp, IServiceProvider services)
    {
        var account = await ApiTokenAuthenticationHandler.ActivePrincipalAsync(userId, services.GetRequiredService<PrincipalCache>(),
            services.GetRequiredService<UserManager<RosettaUser>>(), services.GetRequiredService<IUserClaimsPrincipalFactory<RosettaUser>>());
        return account is not null && securityStamp is not null && SecurityStampOf(account, services) == securityStamp;
    }

    public static string? SecurityStampOf(System.Security.Claims.ClaimsPrincipal principal, IServiceProvider services) =>
        principal.FindFirst(services.GetRequiredService<Microsoft.Extensions.Options.IOptions<IdentityOptions>>().Value.ClaimsIdentity.SecurityStampClaimType)?.Value;

    private static async Task RejectEndedSessions(Microsoft.AspNetCore.Authentication.Cookies.CookieValidatePrincipalContext ctx)
    {
        if (ctx.Principal?.UserId() is null || await IsCurrentAsync(ctx.Principal, ctx.HttpContext.RequestServices)) return;
        ctx.RejectPrincipal();
        await ctx.HttpContext.SignOutAsync(IdentityConstants.ApplicationScheme);
    }
}

/// <summary>Names of the cookies the platform sets; the proxy removes exactly these before forwarding.</summary>
public static class PlatformCookies
{
    public const string Prefix = "rosetta.";
    public const string Auth = "rosetta.auth";
    public const string Antiforgery = "rosetta.af";

    /// <summary>The browser's prefix for a cookie that is Secure, has the path '/' and no Domain, and that no other host can set or shadow.</summary>
    public const string HostPrefix = "__Host-";

    /// <summary>
    /// Whether the session and antiforgery cookies are <c>__Host-</c> cookies: when the platform is served over
    /// https (<see cref="Hosting.PublicUrlScheme"/>). Then a sibling host (another task's, under task hosts) can set
    /// no cookie of that name for a parent domain, nor a script one of a longer path, that the browser would send
    /// instead. Over plain http a browser refuses Secure cookies (but on localhost), so the names stay as they are.
    /// </summary>
    public static bool HostOnly(IConfiguration configuration) => Hosting.PublicUrlScheme.IsHttps(configuration);

    public static string Named(string name, bool hostOnly) => hostOnly ? HostPrefix + name : name;

    /// <summary>What a <c>__Host-</c> cookie must be; nothing changes otherwise.</summary>
    public static void Confine(CookieBuilder cookie, bool hostOnly)
    {
        if (!hostOnly) return;
        cookie.SecurePolicy = CookieSecurePolicy.Always;
        cookie.Path = "/";
        cookie.Domain = null;
    }

    /// <summary>The <c>name=value</c> parts of a request's Cookie headers, each with its name.</summary>
    public static IEnumerable<(string Name, string Part)> Parts(Microsoft.Extensions.Primitives.StringValues cookieHeaders) =>
        cookieHeaders.SelectMany(h => (h ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Select(part => (part.Split('=', 2)[0].Trim(), part));
}
