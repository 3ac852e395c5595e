using System.Net;
using System.Net.Http.Headers;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Integration;

/// <summary>
/// Served over https (Rosetta:PublicUrl), the session and antiforgery cookies are <c>__Host-</c> cookies: Secure,
/// path '/', no Domain, so neither a sibling host (another task's, under task hosts) nor a script can set one the
/// browser would send in their place. A cookie of the plain name is then no session at all.
/// </summary>
public sealed class HostOnlyCookieTests
{
    [Fact]
    public async Task OverHttpsTheSignInCookiesAreHostOnlyAndThePlainNameSignsNobodyIn()
    {
        // Behind a TLS proxy: the app itself listens on plain http on loopback.
        await using var app = new RosettaAppFactory(settings: new Dictionary<string, string?> { ["Rosetta:PublicUrl"] = "https://rosetta.example.org" });
        using var http = new HttpClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = app.BaseAddress };

        var form = await http.SendAsync(Navigation("/login"));
        var antiforgery = HostOnlyCookie(form, "__Host-rosetta.af");
        var login = new HttpRequestMessage(HttpMethod.Post, "/login")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["_handler"] = "login",
                ["__RequestVerificationToken"] = BrowserLikeClient.AntiforgeryToken(await form.Content.ReadAsStringAsync()),
                ["Input.Username"] = "admin",
                ["Input.Password"] = RosettaAppFactory.AdminPassword,
            }),
        };
        login.Headers.Add("Cookie", antiforgery);
        // From a page of the app's own plain address (an SSH tunnel to its port): its own origin, not another site's.
        login.Headers.Add("Origin", app.BaseAddress.GetLeftPart(UriPartial.Authority));
        var signedIn = await http.SendAsync(login);
        Assert.True(signedIn.StatusCode == HttpStatusCode.Redirect, $"{signedIn.StatusCode}: {await signedIn.Content.ReadAsStringAsync()}");
        var session = HostOnlyCookie(signedIn, "__Host-rosetta.auth");
        Assert.DoesNotContain(signedIn.Headers.GetValues("Set-Cookie"), c => c.StartsWith("rosetta.", StringComparison.Ordinal));

        // A page on plain http under the public host name (anyone on the way can serve one) is another origin.
        var spoofed = new HttpRequestMessage(HttpMethod.Post, "/logout") { Content = new FormUrlEncodedContent([]) };
        spoofed.Headers.Host = "rosetta.example.org";
        spoofed.Headers.Add("Origin", "http://rosetta.example.org");
        spoofed.Headers.Add("Cookie", antiforgery);
        var refusedOrigin = await http.SendAsync(spoofed);
        Assert.Equal(HttpStatusCode.Forbidden, refusedOrigin.StatusCode);
        Assert.Contains("Cross-origin request refused", await refusedOrigin.Content.ReadAsStringAsync());

        var account = Navigation("/account");
        account.Headers.Add("Cookie", session);
        var page = await http.SendAsync(account);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("admin", await page.Content.ReadAsStringAsync());

        var plain = Navigation("/account");
        plain.Headers.Add("Cookie", session.Replace("__Host-rosetta.auth=", "rosetta.auth=", StringComparison.Ordinal));
        var refused = await http.SendAsync(plain);
        Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
        var toLogin = new Uri(app.BaseAddress, refused.Headers.Location!);
        Assert.Equal("/login", toLogin.AbsolutePath);
        Assert.Equal("https", toLogin.Scheme); // the proxy in front speaks https: redirects stay on it
    }

    [Fact]
    public async Task OverPlainHttpTheCookiesKeepTheirNames()
    {
        await using var app = new RosettaAppFactory();
        using var http = new HttpClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = app.BaseAddress };
        var form = await http.SendAsync(Navigation("/login"));
        var antiforgery = Assert.Single(form.Headers.GetValues("Set-Cookie"), c => c.Contains("rosetta.af", StringComparison.Ordinal));
        Assert.StartsWith("rosetta.af=", antiforgery);
        Assert.DoesNotContain("secure", antiforgery, StringComparison.OrdinalIgnoreCase);
    }

    private static HttpRequestMessage Navigation(string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/html"));
        request.Headers.Add("Sec-Fetch-Dest", "document");
        return request;
    }

    /// <summary>The cookie a response sets under that name, checked to be what a <c>__Host-</c> cookie must be; its <c>name=value</c>.</summary>
    private static string HostOnlyCookie(HttpResponseMessage response, string name)
    {
        Assert.True(response.Headers.Contains("Set-Cookie"), $"{response.RequestMessage?.RequestUri} answered {(int)response.StatusCode} without setting {name}: {response.Headers}");
        var header = Assert.Single(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith(name + "=", StringComparison.Ordinal));
        var attributes = header.Split(';').Skip(1).Select(a => a.Trim().ToLowerInvariant()).ToList();
        Assert.Contains("secure", attributes);
        Assert.Contains("path=/", attributes);
        Assert.Contains("httponly", attributes);
        Assert.DoesNotContain(attributes, a => a.StartsWith("domain=", StringComparison.Ordinal));
        return header.Split(';')[0];
    }
}
