using System.Net.Http.Json;
using Microsoft.Playwright;
using Rosetta.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Rosetta.Tests.EndToEnd;

/// <summary>
/// The New Task wizard's Slurm job options in a real Chromium, down to the job the real cluster
/// runs: what a person types becomes the job's partition, CPUs, memory, time limit and account.
/// </summary>
[Collection("slurm")]
public sealed class SlurmWizardBrowserTests(SlurmPlatformFixture platform) : IAsyncLifetime
{
    private readonly BrowserFixture _browser = new();
    private RosettaAppFactory App => platform.App;

    public Task InitializeAsync() => _browser.InitializeAsync();
    public Task DisposeAsync() => _browser.DisposeAsync();

    [Fact]
    public async Task TheWizardsSlurmOptionsBecomeTheJobsPartitionCpusMemoryTimeLimitAndAccount()
    {
        var username = "e2eslurm" + Guid.NewGuid().ToString("N")[..6];
        using (var admin = App.Client(await App.AdminTokenAsync()))
            (await admin.PostAsJsonAsync("/api/v1/users", new { username, password = "password-e2e" })).EnsureSuccessStatusCode();
        using var api = App.Client(await App.TokenAsync(username, "password-e2e"));

        await using var context = await _browser.Browser.NewContextAsync(new() { BaseURL = App.BaseAddress.ToString(), ViewportSize = new() { Width = 1366, Height = 900 } });
        var page = await context.NewPageAsync();
        await DashboardBrowserTests.LogInAsync(page, username, "password-e2e");

        await page.ClickAsync("[data-test=new-task]");
        await Expect(page.Locator("[data-test=software-hello]")).ToBeVisibleAsync();
        await DashboardBrowserTests.WaitForCircuitAsync(page);
        await page.ClickAsync("[data-test=software-hello]");
        // The local engine has no Slurm options; the cluster does.
        await page.ClickAsync("[data-test=computing-local]");
        await Expect(page.Locator("[data-test=cpus]").First).ToBeVisibleAsync();
        await Expect(page.Locator("[data-test=partition]")).ToHaveCountAsync(0);
        await page.Locator(".mud-chip", new() { HasTextString = "2. Computing" }).ClickAsync();
        await page.ClickAsync("[data-test=computing-demo-slurm]");

        await Field(page, "name").FillAsync("e2e slurm job");
        await Field(page, "cpus").FillAsync("1");
        await Field(page, "memory").FillAsync("256M");
        await Field(page, "walltime").FillAsync("00:01:30");
        await Field(page, "partition").FillAsync("short");
        await Field(page, "account").FillAsync("rosetta-e2e");
        // The same rules as the API, as the person types.
        await Field(page, "gpus").FillAsync("-1");
        await Expect(page.GetByText("must be between 0 and 64")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-test=next]")).ToBeDisabledAsync();
        await Field(page, "gpus").FillAsync(""); // the demo node has none
        await Expect(page.GetByText("must be between 0 and 64")).ToHaveCountAsync(0);
        await page.ClickAsync("[data-test=next]");
        await Expect(page.Locator("[data-test=summary]")).ToContainTextAsync("partition short, account rosetta-e2e, no GPUs");
        await page.ClickAsync("[data-test=start]");

        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/tasks/[0-9a-f]{16}$"));
        var taskId = page.Url[^16..];
        try
        {
            await Expect(page.Locator(".status-chip").First).ToHaveAttributeAsync("data-status", "running", new() { Timeout = 90_000 });
            var job = (await SlurmCluster.RunAsync("scontrol", "show", "job", "-o", await SlurmCluster.JobOfTaskAsync(taskId))).Output;
            Assert.Contains("Partition=short", job);
            Assert.Contains("Account=rosetta-e2e", job);
            Assert.Contains("NumCPUs=1 ", job);
            Assert.Contains("MinMemoryNode=256M", job);
            Assert.Contains("TimeLimit=00:02:00", job); // Slurm counts whole minutes: 1:30 is rounded up
            Assert.Contains($"JobName=rosetta-{taskId}", job);
        }
        finally
        {
            await TaskApi.StopAndDeleteAsync(api, taskId);
        }
    }

    private static ILocator Field(IPage page, string name) => page.Locator($"input[data-test={name}], [data-test={name}] input").First;
}
