using System.Net;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Integration;

/// <summary>
/// What a person sees when a page load meets a problem (an unknown task address, a dead share link, a
/// mistyped page): a readable page; API clients and scripts keep getting problem+json.
/// </summary>
[Collection("platform")]
public sealed class BrowserProblemPageTests(PlatformFixture platform)
{
    private static HttpRequestMessage PageLoad(string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8");
        request.Headers.Add("Sec-Fetch-Dest", "document");
        return request;
    }

    [Fact]
    public async Task AUserOpeningTheAdminPageIsToldItIsForAdministrators()
    {
        var name = "na" + Guid.NewGuid().ToString("N")[..8];
        (await platform.App.NewUserClientAsync(name)).Dispose();
        using var browser = new BrowserLikeClient(platform.App.BaseAddress);
        await browser.LogInAsync(platform.App.BaseAddress, name, "password-" + name);

        var admin = await browser.NavigateAsync(new Uri(platform.App.BaseAddress, "/admin"));
        Assert.Equal(HttpStatusCode.Redirect, admin.StatusCode);
        var location = admin.Headers.Location!.OriginalString;
        Assert.StartsWith("/forbidden", new Uri(platform.App.BaseAddress, location).AbsolutePath);
        var page = await browser.NavigateAsync(new Uri(platform.App.BaseAddress, location));
        Assert.Equal(HttpStatusCode.Forbidden, page.StatusCode);
        Assert.Contains("This page is for administrators, and your account is not one", await page.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("/t/nosuchtask0000/", "You have no task with this address.")]
    [InlineData("/s/not-a-share-link", "This share link is unknown, expired or revoked.")]
    public async Task APageLoadThatMeetsAProblemGetsAReadablePage(string path, string detail)
    {
        using var client = platform.App.Client(await platform.App.AdminTokenAsync());
        var page = await client.SendAsync(PageLoad(path));
        Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<h1", html);
        Assert.Contains(detail, html);
        Assert.Contains("""<a href="/" target="_top">Open the dashboard</a>""", html);

        // A script's request (no page load) for the same address: the problem as JSON.
        var fetched = await client.GetAsync(path);
        Assert.Equal(HttpStatusCode.NotFound, fetched.StatusCode);
        Assert.Equal("application/problem+json", fetched.Content.Headers.ContentType?.MediaType);
        Assert.Contains(detail, (string?)(await TaskApi.ProblemAsync(fetched))["detail"]);
    }

    [Fact]
    public async Task TheApiAnswersJsonEvenToAPageLoad()
    {
        using var client = platform.App.Client(await platform.App.AdminTokenAsync());
        var page = await client.SendAsync(PageLoad("/api/v1/tasks/nosuchtask0000"));
        Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
        Assert.Equal("application/problem+json", page.Content.Headers.ContentType?.MediaType);
    }
}
