using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Configuration;
using Rosetta.App.Hosting;
using Rosetta.App.Proxy;

namespace Rosetta.Tests.Unit;

/// <summary>A problem page's way on (<see cref="HtmlProblemPages.OpenInNewTab"/>): an http(s) link in a new tab, nothing else.</summary>
public sealed class HtmlProblemPagesTests
{
    [Theory]
    [InlineData("https://rosetta.example.org/t/abc/?x=<y>\"", "<a href=\"https://rosetta.example.org/t/abc/?x=%3Cy%3E%22\" target=\"_blank\" rel=\"noopener\" data-open-in-new-tab>Open it in its own tab</a>")]
    [InlineData("javascript:alert(1)", null)]
    [InlineData("/t/abc/", null)]
    public async Task TheWayOnIsAnHttpLinkInANewTab(string address, string? link)
    {
        var ctx = new DefaultHttpContext();
        ctx.Request.Headers["Sec-Fetch-Dest"] = "iframe";
        ctx.Response.Body = new MemoryStream();
        var problem = new ProblemDetails { Status = 403, Title = "Open this task in its own tab", Detail = "Why." };
        problem.Extensions[HtmlProblemPages.OpenInNewTab] = address;
        var pages = new HtmlProblemPages(new TaskHostNames(new ConfigurationBuilder().Build()));
        var context = new ProblemDetailsContext { HttpContext = ctx, ProblemDetails = problem };
        Assert.True(pages.CanWrite(context));

        await pages.WriteAsync(context);
        var html = System.Text.Encoding.UTF8.GetString(((MemoryStream)ctx.Response.Body).ToArray());
        if (link is null) Assert.DoesNotContain("data-open-in-new-tab", html);
        else Assert.Contains(link, html);
        Assert.DoesNotContain("javascript:", html);
    }
}
