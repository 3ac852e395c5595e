using Microsoft.Extensions.Primitives;
using Rosetta.App.Proxy;
using Rosetta.Core.Backends;
using Rosetta.Core.Backends.Docker;
using Rosetta.Core.Domain;
using Rosetta.Core.Persistence;
using Rosetta.Core.Security;

namespace Rosetta.Tests.Unit;

public sealed class ProxyAndConverterTests
{
    [Fact]
    public void AContainerFoundAgainIsReachedOnThePortThePlatformPublishedNotTheImagesFirstExposedOne()
    {
        var inspect = new Docker.DotNet.Models.ContainerInspectResponse
        {
            Config = new Docker.DotNet.Models.ContainerConfig
            {
                ExposedPorts = new Dictionary<string, Docker.DotNet.Models.EmptyStruct> { ["80/tcp"] = default, ["443/tcp"] = default, ["8080/tcp"] = default },
            },
            HostConfig = new Docker.DotNet.Models.HostConfig
            {
                PortBindings = new Dictionary<string, IList<Docker.DotNet.Models.PortBinding>> { ["8080/tcp"] = [new() { HostIP = "127.0.0.1" }] },
            },
        };
        Assert.Equal(8080, DockerBackend.InterfacePortOf(inspect));
        inspect.HostConfig.PortBindings = new Dictionary<string, IList<Docker.DotNet.Models.PortBinding>>();
        Assert.Equal(80, DockerBackend.InterfacePortOf(inspect)); // nothing published: the image's first
    }

    [Fact]
    public void PlatformCookiesAreRemovedAndTheInterfacesOwnAreKept()
    {
        var kept = TaskProxyTransformer.WithoutPlatformCookies(new StringValues(
            ["rosetta.auth=secret; _xsrf=abc", ".AspNetCore.Antiforgery.x=y; username-127-0-0-1=zzz; ROSETTA.AF=q"]));
        Assert.Equal("_xsrf=abc; username-127-0-0-1=zzz", kept);
    }

    /// <summary>A client's own forwarding headers reached the task as the proxy's word: any address, claimed.</summary>
    [Fact]
    public async Task TheTaskLearnsWhoAskedFromTheProxyNotFromTheClientsOwnHeaders()
    {
        var ctx = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        ctx.Request.Scheme = "https";
        ctx.Request.Host = new Microsoft.AspNetCore.Http.HostString("rosetta.example.org");
        ctx.Request.Path = "/t/abc/";
        ctx.Connection.RemoteIpAddress = System.Net.IPAddress.Parse("::ffff:192.0.2.7");
        foreach (var (name, value) in new[] { ("X-Forwarded-For", "6.6.6.6"), ("Forwarded", "for=6.6.6.6"), ("X-Real-IP", "6.6.6.6"), ("X-Forwarded-Host", "evil.example") })
            ctx.Request.Headers[name] = value;
        using var proxied = new HttpRequestMessage();
        await new TaskProxyTransformer("/", "/t/abc", authorization: null).TransformRequestAsync(ctx, proxied, "http://172.17.0.2:8080", CancellationToken.None);

        Assert.Equal("192.0.2.7", Assert.Single(proxied.Headers.GetValues("X-Forwarded-For")));
        Assert.Equal("https", Assert.Single(proxied.Headers.GetValues("X-Forwarded-Proto")));
        Assert.Equal("rosetta.example.org", Assert.Single(proxied.Headers.GetValues("X-Forwarded-Host")));
        Assert.False(proxied.Headers.Contains("Forwarded"));
        Assert.False(proxied.Headers.Contains("X-Real-IP"));
        Assert.Equal("http://172.17.0.2:8080/", proxied.RequestUri!.ToString());
    }

    [Fact]
    public async Task InPathModeATaskCannotClaimTheOriginWithAServiceWorkerClearTheDashboardsDataOrKeepItsPopups()
    {
        async Task<Microsoft.AspNetCore.Http.IHeaderDictionary> ForwardedAsync(string forwardedPrefix)
        {
            var ctx = new Microsoft.AspNetCore.Http.DefaultHttpContext();
            using var answer = new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = new ByteArrayContent([]) };
            answer.Headers.TryAddWithoutValidation("Service-Worker-Allowed", "/");
            answer.Headers.TryAddWithoutValidation("Clear-Site-Data", "\"cookies\", \"storage\"");
            answer.Headers.TryAddWithoutValidation("Cross-Origin-Opener-Policy", "same-origin");
            answer.Headers.TryAddWithoutValidation("Cross-Origin-Opener-Policy-Report-Only", "same-origin");
            answer.Headers.TryAddWithoutValidation("X-Own", "kept");
            await new TaskProxyTransformer("/", forwardedPrefix, authorization: null).TransformResponseAsync(ctx, answer, CancellationToken.None);
            return ctx.Response.Headers;
        }
        var pathMode = await ForwardedAsync("/t/abc");
        Assert.False(pathMode.ContainsKey("Service-Worker-Allowed"));
        Assert.False(pathMode.ContainsKey("Clear-Site-Data"));
        Assert.False(pathMode.ContainsKey("Cross-Origin-Opener-Policy")); // the same policy as the dashboard's would keep a popup scriptable
        Assert.False(pathMode.ContainsKey("Cross-Origin-Opener-Policy-Report-Only"));
        Assert.Equal("kept", pathMode["X-Own"].ToString());
        // On a task host of its own, the origin is the task's.
        Assert.Equal("/", (await ForwardedAsync(""))["Service-Worker-Allowed"].ToString());
    }

    [Fact]
    public async Task ASecretIsBlankedWhereverItStandsInAPageWhateverItsReadsLookLike()
    {
        const string page = "<body data-jupyter-api-token=\"s3cr3t\">s3cr3ts3cr3t and s3cr3 s3cr3t</body>s3cr3";
        const string blanked = "<body data-jupyter-api-token=\"\"> and s3cr3 </body>s3cr3";
        // Every read size: a secret split between two reads (or more) is found all the same.
        for (var chunk = 1; chunk <= page.Length + 1; chunk++)
            Assert.Equal(blanked, await ScrubbedAsync(page, "s3cr3t", chunk));
        Assert.Equal("nothing here", await ScrubbedAsync("nothing here", "s3cr3t", 4));
        Assert.Equal("", await ScrubbedAsync("", "s3cr3t", 4));
    }

    [Fact]
    public async Task ALargePageIsScrubbedToo()
    {
        // Once, pages over 8 MiB went through as they were.
        var filler = new string('x', 9 << 20);
        Assert.Equal(filler + filler, await ScrubbedAsync(filler + "s3cr3t" + filler, "s3cr3t", 64 * 1024));
    }

    private static async Task<string> ScrubbedAsync(string page, string secret, int chunk)
    {
        using var from = new MemoryStream(System.Text.Encoding.ASCII.GetBytes(page));
        using var to = new MemoryStream();
        await PageSecretScrubber.ScrubAsync(from, to, System.Text.Encoding.ASCII.GetBytes(secret), CancellationToken.None, chunk);
        return System.Text.Encoding.ASCII.GetString(to.ToArray());
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080", null, false, false)]
    [InlineData("http://localhost:8080", null, false, false)]
    [InlineData("http://[::1]:8080", null, false, false)]
    [InlineData("https://0.0.0.0:443", null, false, false)]
    [InlineData("http://0.0.0.0:8080", null, false, true)]
    [InlineData("http://*:8080", null, false, true)]
    [InlineData("http://10.0.0.5:8080", null, false, true)]
    [InlineData("http://0.0.0.0:8080", "https://rosetta.example.org", false, false)] // behind a TLS proxy
    [InlineData("http://127.0.0.1:8080", "http://rosetta.example.org", false, true)]
    [InlineData("http://0.0.0.0:8080", null, true, false)] // tasks on their own host names
    public void PlainHttpBeyondTheLoopbackInPathModeIsWarnedAbout(string listening, string? publicUrl, bool taskHosts, bool warned) =>
        Assert.Equal(warned, Rosetta.App.Hosting.PathModeExposure.Warning([listening], publicUrl, taskHosts) is not null);

    [Fact]
    public void ATaskSetsCookiesOnlyForItself()
    {
        StringValues fromTask = new([
            "rosetta.auth=attacker; Path=/api/v1/storages", "__Host-rosetta.af=x; Path=/; Secure", ".AspNetCore.Identity.Application=y",
            "_xsrf=abc; Path=/t/abc/; HttpOnly", "wide=1; Domain=example.org; Path=/", "deep=2; Path=/t/abc/tree", "sibling=3; Path=/t/abcd/",
            "not a cookie",
        ]);
        // Path mode: everything stays under the task's own /t/{id}/.
        Assert.Equal(["_xsrf=abc; path=/t/abc/; httponly", "wide=1; path=/t/abc/", "deep=2; path=/t/abc/tree", "sibling=3; path=/t/abc/"],
            TaskProxyTransformer.ConfinedCookies(fromTask, "/t/abc").Select(c => c!).ToArray());
        // A task host is an origin of its own: paths are the task's business, parent domains are not.
        Assert.Equal(["_xsrf=abc; path=/t/abc/; httponly", "wide=1; path=/", "deep=2; path=/t/abc/tree", "sibling=3; path=/t/abcd/"],
            TaskProxyTransformer.ConfinedCookies(fromTask, "").Select(c => c!).ToArray());
    }

    [Fact]
    public void SpecCarriesLabelsEnvironmentSecretAndLimits()
    {
        var jupyter = BundledCatalogue.Software().Single(s => s.Id == "jupyter");
        var task = new TaskRecord
        {
            Id = "0123456789abcdef", OwnerId = "u", Name = "nb", SoftwareId = "jupyter", ComputingId = "local",
            Options = new TaskOptions { Cpus = 1.5, Memory = "1G", Env = new() { ["MY"] = "value with spaces" } },
        };
        var spec = ContainerSpecFactory.Create(task, jupyter, "inst1", "s3cret");
        Assert.Equal("rosetta-0123456789abcdef", spec.Name);
        Assert.Equal("rosetta/jupyter:latest", spec.Image);
        Assert.Equal("0123456789abcdef", spec.Labels["rosetta.task"]);
        Assert.Equal("inst1", spec.Labels["rosetta.instance"]);
        Assert.Equal("/t/0123456789abcdef/", spec.Env["BASE_URL"]);
        Assert.Equal("s3cret", spec.Env["JUPYTER_TOKEN"]);

        var create = DockerContainerConverter.ToCreateParameters(spec);
        Assert.Equal(1_500_000_000, create.HostConfig!.NanoCPUs);
        Assert.Equal(1L << 30, create.HostConfig.Memory);
        Assert.Contains("MY=value with spaces", create.Env);
        var binding = Assert.Single(create.HostConfig.PortBindings!["8888/tcp"]);
        Assert.Equal("127.0.0.1", binding.HostIP);
        Assert.Equal("", binding.HostPort);
    }

    [Fact]
    public void ADesktopGetsAViewOnlyPasswordOfItsOwnWhoseFirstEightCharactersAreNotTheSecrets()
    {
        var desktop = BundledCatalogue.Software().Single(s => s.Id == "desktop");
        var task = new TaskRecord { Id = "0123456789abcdef", OwnerId = "u", Name = "d", SoftwareId = "desktop", ComputingId = "local", HasViewOnlyPassword = true };
        var secret = TaskSecrets.Generate();
        var env = ContainerSpecFactory.Create(task, desktop, "inst1", secret).Env;
        Assert.Equal(secret, env["VNC_PASSWORD"]);
        var viewOnly = env["VNC_VIEW_ONLY_PASSWORD"];
        Assert.Equal(16, viewOnly.Length);
        Assert.NotEqual(secret[..8], viewOnly[..8]); // VNC reads 8 characters and tries the full password first
        Assert.Equal(viewOnly, TaskSecrets.ViewOnlyOf(secret)); // what the proxy logs guests in with
        Assert.NotEqual(viewOnly, TaskSecrets.ViewOnlyOf(TaskSecrets.Generate()));
        Assert.Matches("^[A-Za-z0-9_-]{16}$", viewOnly);

        // A task made before (or of software without the variable) gets no second password.
        task.HasViewOnlyPassword = false;
        Assert.False(ContainerSpecFactory.Create(task, desktop, "inst1", secret).Env.ContainsKey("VNC_VIEW_ONLY_PASSWORD"));
    }

    [Fact]
    public void PinnedDigestIsWhatRuns()
    {
        var software = new Software { Id = "x", Name = "x", Image = "quay.io/org/app", Tag = "1.0", Digest = "sha256:" + new string('a', 64) };
        Assert.Equal("quay.io/org/app@sha256:" + new string('a', 64), software.ImageReference);
    }

    [Theory]
    [InlineData("rosetta/hello:latest", "rosetta/hello", "latest")]
    [InlineData("localhost:5000/app", "localhost:5000/app", "latest")]
    [InlineData("localhost:5000/app:2", "localhost:5000/app", "2")]
    [InlineData("app@sha256:abc", "app", "sha256:abc")]
    public void ImageReferencesSplitIntoRepositoryAndTag(string reference, string repository, string tag) =>
        Assert.Equal((repository, tag), DockerBackend.SplitReference(reference));
}
