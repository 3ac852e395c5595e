using Microsoft.Extensions.DependencyInjection;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Integration;

/// <summary>The REST API's contract: authentication, validation (400 with a field and a message), errors as problem+json.</summary>
[Collection("platform")]
public sealed class ApiTests(PlatformFixture platform)
{
    private RosettaAppFactory App => platform.App;

    /// <summary>The list filters by status; a status that is none is a 400 saying which there are, not every task.</summary>
    [Fact]
    public async Task TasksAreListedByStatusAndAnUnknownStatusIsRefused()
    {
        using var client = await App.NewUserClientAsync();
        var id = (string)(await TaskApi.StartAsync(client, new { software = "hello", computing = "local" }))["id"]!;
        try
        {
            await TaskApi.WaitForStatusAsync(client, id, "running");
            Assert.Equal(id, (string?)Assert.Single((await client.GetFromJsonAsync<JsonArray>("/api/v1/tasks?status=queued,running"))!)!["id"]);
            Assert.Empty((await client.GetFromJsonAsync<JsonArray>("/api/v1/tasks?status=exited"))!);
            var refused = await client.GetAsync("/api/v1/tasks?status=bogus");
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains("'bogus' is no task status", (string?)(await TaskApi.ProblemAsync(refused))["errors"]!["status"]![0]);

            // An admin's list is their own tasks too, as the contract says; every user's only when asked, and only for admins.
            using var admin = App.Client(await App.AdminTokenAsync());
            Assert.DoesNotContain((await admin.GetFromJsonAsync<JsonArray>("/api/v1/tasks"))!, t => (string?)t!["id"] == id);
            Assert.Contains((await admin.GetFromJsonAsync<JsonArray>("/api/v1/tasks?all=true&status=running"))!, t => (string?)t!["id"] == id);
            Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/api/v1/tasks?all=true")).StatusCode);
        }
        finally
        {
            await TaskApi.StopAndDeleteAsync(client, id);
        }
    }

    [Fact]
    public async Task WrongPasswordGets401AndNoToken()
    {
        using var client = App.Client();
        var response = await client.PostAsJsonAsync("/api/v1/tokens", new { username = "admin", password = "wrong" });
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var problem = await TaskApi.ProblemAsync(response);
        Assert.Contains("wrong", (string?)problem["detail"]);
    }

    [Theory]
    [InlineData("/api/v1/tasks")]
    [InlineData("/api/v1/software")]
    [InlineData("/api/v1/computing")]
    public async Task ApiWithoutTokenGets401(string path)
    {
        using var client = App.Client();
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync(path)).StatusCode);
        using var forged = App.Client("rst_not-a-real-token");
        Assert.Equal(HttpStatusCode.Unauthorized, (await forged.GetAsync(path)).StatusCode);
    }

    [Fact]
    public async Task RevokedTokenStopsWorking()
    {
        using var anonymous = App.Client();
        var issued = await (await anonymous.PostAsJsonAsync("/api/v1/tokens",
            new { username = "admin", password = RosettaAppFactory.AdminPassword, name = "short-lived" })).Content.ReadFromJsonAsync<JsonObject>();
        using var client = App.Client((string)issued!["token"]!);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/tasks")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v1/tokens/{issued["id"]}")).StatusCode);
        var refused = await client.GetAsync("/api/v1/tasks");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        // Not just "authenticate": the token it sent is what is wrong.
        Assert.StartsWith("The Bearer token was not accepted", (string?)(await TaskApi.ProblemAsync(refused))["detail"]);
    }

    [Fact]
    public async Task CatalogueIsSeeded()
    {
        using var client = await App.NewUserClientAsync();
        var software = await client.GetFromJsonAsync<JsonArray>("/api/v1/software");
        var ids = software!.Select(s => (string?)s!["id"]).ToList();
        Assert.Superset(new HashSet<string?> { "hello", "jupyter", "desktop", "ssh" }, ids.ToHashSet());
        var ssh = software!.Single(s => (string?)s!["id"] == "ssh")!;
        Assert.Equal("ssh", (string?)ssh["interfaceProtocol"]);

        var computing = (await client.GetFromJsonAsync<JsonArray>("/api/v1/computing"))!;
        var local = computing.Single(c => (string?)c!["id"] == "local")!;
        Assert.Equal("local", (string?)local["kind"]);
        Assert.Equal("available", (string?)local["state"]);
    }

    [Fact]
    public async Task DuplicateUserGets409AndNonAdminCannotCreateUsers()
    {
        using var admin = App.Client(await App.AdminTokenAsync());
        var name = "dup" + Guid.NewGuid().ToString("N")[..6];
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/v1/users", new { username = name, password = "password-123" })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PostAsJsonAsync("/api/v1/users", new { username = name, password = "password-123" })).StatusCode);
        var weak = await admin.PostAsJsonAsync("/api/v1/users", new { username = name + "x", password = "short" });
        Assert.Equal(HttpStatusCode.BadRequest, weak.StatusCode);
        Assert.NotNull((await TaskApi.ProblemAsync(weak))["errors"]!["password"]);

        using var user = await App.NewUserClientAsync();
        Assert.Equal(HttpStatusCode.Forbidden, (await user.PostAsJsonAsync("/api/v1/users", new { username = "evil", password = "password-123" })).StatusCode);

        // The same name asked for by several requests at once: one is made, the others are told it exists (not a 400 or a 500).
        var raced = "race" + Guid.NewGuid().ToString("N")[..6];
        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => admin.PostAsJsonAsync("/api/v1/users", new { username = raced, password = "password-123" })));
        Assert.Equal(1, answers.Count(a => a.StatusCode == HttpStatusCode.Created));
        Assert.All(answers.Where(a => a.StatusCode != HttpStatusCode.Created), a => Assert.Equal(HttpStatusCode.Conflict, a.StatusCode));
    }

    /// <summary>
    /// Software and storages are picked by name: a user's may not share one with another of theirs or with a
    /// platform-wide one shown beside it (409, and nothing added); another user's of that name is no matter.
    /// </summary>
    [Fact]
    public async Task NamesOfOnesOwnSoftwareAndStoragesAreTheirsOnce()
    {
        using var owner = await App.NewUserClientAsync();
        using var other = await App.NewUserClientAsync();
        Assert.Equal(HttpStatusCode.Created, (await owner.PostAsJsonAsync("/api/v1/software", new { name = "My app", image = "rosetta/hello", interfacePort = 8080 })).StatusCode);
        var twice = await owner.PostAsJsonAsync("/api/v1/software", new { name = "My app", image = "rosetta/hello", interfacePort = 8081 });
        Assert.Equal(HttpStatusCode.Conflict, twice.StatusCode);
        Assert.Contains("has software named 'My app' already", (string?)(await TaskApi.ProblemAsync(twice))["detail"]);
        Assert.Equal(HttpStatusCode.Conflict, (await owner.PostAsJsonAsync("/api/v1/software", new { name = "Jupyter Notebook", image = "rosetta/hello", interfacePort = 8080 })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await other.PostAsJsonAsync("/api/v1/software", new { name = "My app", image = "rosetta/hello", interfacePort = 8080 })).StatusCode);
        var second = await owner.PostAsJsonAsync("/api/v1/software", new { name = "My other app", image = "rosetta/hello", interfacePort = 8080 });
        var secondId = (string)(await second.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
        Assert.Equal(HttpStatusCode.Conflict, (await owner.PutAsJsonAsync($"/api/v1/software/{secondId}", new { name = "My app", image = "rosetta/hello", interfacePort = 8080 })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await owner.PutAsJsonAsync($"/api/v1/software/{secondId}", new { name = "My other app", image = "rosetta/hello", interfacePort = 8082 })).StatusCode);
        Assert.Single((await owner.GetFromJsonAsync<JsonArray>("/api/v1/software"))!, s => (string?)s!["name"] == "My app");

        // Storages likewise: the platform's "Personal" is beside every user's own.
        var computing = await owner.PostAsJsonAsync("/api/v1/computing", new { name = "Workstation", kind = "ssh", host = "127.0.0.1", port = 2222, username = "demo" });
        var computingId = (string)(await computing.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
        var storage = await owner.PostAsJsonAsync("/api/v1/storages", new { name = "Personal", kind = "sftp", computing = computingId, basePath = "/tmp/x", bindPath = "/storages/x" });
        Assert.Equal(HttpStatusCode.Conflict, storage.StatusCode);
        Assert.Contains("storage named 'Personal' already", (string?)(await TaskApi.ProblemAsync(storage))["detail"]);
    }

    /// <summary>What a 201 names in its Location answers a GET with the object made (it was a 405 for tokens and users).</summary>
    [Fact]
    public async Task ANewTokensAndANewUsersLocationAnswers()
    {
        using var admin = App.Client(await App.AdminTokenAsync());
        var name = "loc" + Guid.NewGuid().ToString("N")[..6];
        var user = await admin.PostAsJsonAsync("/api/v1/users", new { username = name, password = "password-123" });
        var userId = (string)(await user.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
        var shownUser = await admin.GetFromJsonAsync<JsonObject>(user.Headers.Location!);
        Assert.Equal(name, (string?)shownUser!["username"]);
        Assert.Equal(userId, (string?)shownUser["id"]);

        using var anonymous = App.Client();
        var token = await anonymous.PostAsJsonAsync("/api/v1/tokens", new { username = name, password = "password-123", name = "script" });
        var issued = (await token.Content.ReadFromJsonAsync<JsonObject>())!;
        using var asUser = App.Client((string)issued["token"]!);
        var shownToken = await asUser.GetFromJsonAsync<JsonObject>(token.Headers.Location!);
        Assert.Equal((string?)issued["id"], (string?)shownToken!["id"]);
        Assert.Null(shownToken["token"]); // never the secret again
        // Another user's token is not theirs to look at.
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync(token.Headers.Location!)).StatusCode);
    }

    /// <summary>An edit racing a deletion of the same software entry: a 200 or a 404, never a 500.</summary>
    [Fact]
    public async Task ASoftwareEditRacingItsDeletionIsAnsweredNotFailed()
    {
        using var owner = await App.NewUserClientAsync();
        for (var round = 0; round < 10; round++)
        {
            var created = await owner.PostAsJsonAsync("/api/v1/software", new { name = $"racing {round}", image = "rosetta/hello", interfacePort = 8080 });
            var id = (string)(await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
            var edit = owner.PutAsJsonAsync($"/api/v1/software/{id}", new { name = $"edited {round}", image = "rosetta/hello", interfacePort = 8081 });
            var delete = owner.DeleteAsync($"/api/v1/software/{id}");
            await Task.WhenAll(edit, delete);
            Assert.Contains((await edit).StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.NotFound });
            Assert.Equal(HttpStatusCode.NoContent, (await delete).StatusCode);
        }
    }

    public static TheoryData<string, string> BadTaskRequests => new()
    {
        { """{"software":"nope","computing":"local"}""", "software" },
        { """{"software":"hello","computing":"mars"}""", "computing" },
        { """{"computing":"local"}""", "software" },
        { """{"software":"hello","computing":"local","options":{"cpus":-1}}""", "options.cpus" },
        { """{"software":"hello","computing":"local","options":{"cpus":100000}}""", "options.cpus" },
        { """{"software":"hello","computing":"local","options":{"memory":"lots"}}""", "options.memory" },
        { """{"software":"hello","computing":"local","options":{"memory":"1k"}}""", "options.memory" },
        { """{"software":"hello","computing":"local","options":{"memory":"99999T"}}""", "options.memory" },
        { """{"software":"hello","computing":"local","options":{"walltime":"forever"}}""", "options.walltime" },
        { """{"software":"hello","computing":"local","options":{"partition":"debug"}}""", "options.partition" },
        { """{"software":"hello","computing":"local","options":{"env":{"1BAD":"x"}}}""", "options.env.1BAD" },
        { """{"software":"hello","computing":"local","options":{"env":{"A=B":"x"}}}""", "options.env.A=B" },
        { """{"software":"hello","computing":"local","options":{"env":{"OK":"nul\u0000byte"}}}""", "options.env.OK" },
        { """{"software":"jupyter","computing":"local","options":{"env":{"JUPYTER_TOKEN":"mine"}}}""", "options.env.JUPYTER_TOKEN" },
        { """{"software":"hello","computing":"local","name":"line\nbreak"}""", "name" },
    };

    [Theory]
    [MemberData(nameof(BadTaskRequests))]
    public async Task InvalidTaskRequestGets400NamingTheFieldAndCreatesNothing(string body, string field)
    {
        using var client = await App.NewUserClientAsync();
        var response = await client.PostAsync("/api/v1/tasks", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await TaskApi.ProblemAsync(response);
        var errors = problem["errors"]!.AsObject();
        Assert.True(errors.ContainsKey(field), $"expected an error on '{field}', got {problem.ToJsonString()}");
        Assert.False(string.IsNullOrWhiteSpace((string?)errors[field]![0]));
        Assert.Empty((await client.GetFromJsonAsync<JsonArray>("/api/v1/tasks"))!);
    }

    [Theory]
    [InlineData("{not json", "not valid JSON")]
    [InlineData("""{"software":"hello","computing":"local","colour":"red"}""", "Unknown field 'colour'")]
    [InlineData("""{"software":"hello","computing":"local","options":{"bogus":1}}""", "Unknown field 'options.bogus'")]
    [InlineData("""{"software":"hello","computing":"local","options":{"cpus":"1"}}""", "at 'options.cpus' has the wrong type: expected a number")]
    [InlineData("""{"software":"hello","computing":"local","options":{"cpus":"two"}}""", "expected a number")]
    [InlineData("""{"software":"hello","computing":"local","options":{"memory":2}}""", "expected a string")]
    [InlineData("", "A JSON body is required")]
    [InlineData("""{"software":"hello","computing":"local","name":"x","name":"y"}""", "The field 'name' is given twice; give it once.")]
    [InlineData("""{"software":"hello","computing":"local","options":{"env":{"A":"1","A":"2"}}}""", "'options.env.A' is given twice")]
    [InlineData("""{"software":"hello","computing":"local","name":"a\uD800b"}""", "at 'name' is not valid Unicode")]
    [InlineData("""{"software":"hello","computing":"local","name":5}""", "at 'name' has the wrong type: expected a string")]
    [InlineData("""{"software":"hello","computing":"local","options":{"walltime":"٠١:٠٠:٠٠"}}""", "walltime")]
    public async Task MalformedBodyGets400WithAReadableMessage(string body, string expected)
    {
        using var client = await App.NewUserClientAsync();
        var response = await client.PostAsync("/api/v1/tasks", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await TaskApi.ProblemAsync(response);
        Assert.Contains(expected, (string?)problem["detail"]);
        Assert.DoesNotContain("System.", (string?)problem["detail"]);
    }

    [Theory]
    [InlineData("a")]
    [InlineData("Ωμέγα ノート 📓")]
    public async Task NamesInAnyAlphabetAreAcceptedButOverlongOnesAreNot(string name)
    {
        using var client = await App.NewUserClientAsync();
        var tooLong = await client.PostAsJsonAsync("/api/v1/tasks", new { name = new string('x', 101), software = "hello", computing = "local" });
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
        Assert.Contains("at most 100", (await TaskApi.ProblemAsync(tooLong))["errors"]!["name"]![0]!.ToString());

        var task = await TaskApi.StartAsync(client, new { name, software = "hello", computing = "local" });
        Assert.Equal(name, (string?)task["name"]);
        await TaskApi.StopAndDeleteAsync(client, (string)task["id"]!);
    }

    [Fact]
    public async Task InvalidSoftwareGets400AndValidSoftwareIsListedForItsOwnerOnly()
    {
        using var owner = await App.NewUserClientAsync();
        using var other = await App.NewUserClientAsync();
        var bad = await owner.PostAsJsonAsync("/api/v1/software", new { name = "Bad", image = "UPPER/Case;rm -rf", interfacePort = 70000, digest = "md5:1" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var errors = (await TaskApi.ProblemAsync(bad))["errors"]!.AsObject();
        Assert.True(errors.ContainsKey("image") && errors.ContainsKey("interfacePort") && errors.ContainsKey("digest"), errors.ToJsonString());
        // Well-formed to the pattern, refused by every engine at pull time (or read as an option): said now instead.
        foreach (var image in new[] { "UPPER/case", "localhost:99999/x", "registry.example.org:0/x", "-ufoo/bar", "-h.x/y" })
        {
            var refused = await owner.PostAsJsonAsync("/api/v1/software", new { name = "Bad", image, interfacePort = 8080 });
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.NotNull((await TaskApi.ProblemAsync(refused))["errors"]!["image"]);
        }
        var overlong = await owner.PostAsJsonAsync("/api/v1/software", new { name = "Bad", image = new string('a', 400), interfacePort = 8080 });
        Assert.Equal("is 400 characters long; an image repository has at most 255.", (string?)(await TaskApi.ProblemAsync(overlong))["errors"]!["image"]![0]);
        foreach (var image in new[] { "Registry.Example.org/team/app", "localhost:5000/app", "quay.io/org/app" })
            Assert.Equal(HttpStatusCode.Created, (await owner.PostAsJsonAsync("/api/v1/software", new { name = "Fine " + image, image, interfacePort = 8080 })).StatusCode);

        // A view-only password is a second VNC password: only for a VNC desktop, and not the first one's variable.
        var notVnc = await owner.PostAsJsonAsync("/api/v1/software", new { name = "Bad", image = "rosetta/hello", interfacePort = 8080, secretEnv = "TOKEN", proxyAuthorizationScheme = "token", viewOnlySecretEnv = "VIEW" });
        Assert.Contains("VNC desktops only", (string?)(await TaskApi.ProblemAsync(notVnc))["errors"]!["viewOnlySecretEnv"]![0]);
        var same = await owner.PostAsJsonAsync("/api/v1/software", new { name = "Bad", image = "rosetta/desktop", interfacePort = 8590, secretEnv = "PW", proxyAuthorizationScheme = "vnc", viewOnlySecretEnv = "PW" });
        Assert.Contains("must be a variable of its own", (string?)(await TaskApi.ProblemAsync(same))["errors"]!["viewOnlySecretEnv"]![0]);
        var badName = await owner.PostAsJsonAsync("/api/v1/software", new { name = "Bad", image = "rosetta/desktop", interfacePort = 8590, secretEnv = "PW", proxyAuthorizationScheme = "vnc", viewOnlySecretEnv = "1 VIEW" });
        Assert.NotNull((await TaskApi.ProblemAsync(badName))["errors"]!["viewOnlySecretEnv"]);
        var desktop = await owner.PostAsJsonAsync("/api/v1/software", new { name = "My desktop", image = "rosetta/desktop", interfacePort = 8590, secretEnv = "PW", proxyAuthorizationScheme = "vnc", viewOnlySecretEnv = "VIEW_PW" });
        Assert.Equal(HttpStatusCode.Created, desktop.StatusCode);
        Assert.Equal("VIEW_PW", (string?)(await desktop.Content.ReadFromJsonAsync<JsonObject>())!["viewOnlySecretEnv"]);

        // The variables the platform sets are its own: not shared between two of its purposes, not fixed by the software.
        var portIsSecret = await owner.PostAsJsonAsync("/api/v1/software", new { name = "Bad", image = "rosetta/hello", interfacePort = 8080, portEnv = "PORT", secretEnv = "PORT" });
        Assert.Contains("must be a variable of its own: portEnv is 'PORT' too", (string?)(await TaskApi.ProblemAsync(portIsSecret))["errors"]!["secretEnv"]![0]);
        var pathIsSecret = await owner.PostAsJsonAsync("/api/v1/software", new { name = "Bad", image = "rosetta/hello", interfacePort = 8080, basePathEnv = "X", secretEnv = "X" });
        Assert.NotNull((await TaskApi.ProblemAsync(pathIsSecret))["errors"]!["basePathEnv"]);
        var fixedPort = await owner.PostAsJsonAsync("/api/v1/software", new
        {
            name = "Bad", image = "rosetta/hello", interfacePort = 8080, portEnv = "PORT", env = new Dictionary<string, string> { ["PORT"] = "1234", ["ROSETTA_STORAGES"] = "/x", ["OTHER"] = "fine" },
        });
        var fixedErrors = (await TaskApi.ProblemAsync(fixedPort))["errors"]!.AsObject();
        Assert.Contains("set by the platform", (string?)fixedErrors["env.PORT"]![0]);
        Assert.NotNull(fixedErrors["env.ROSETTA_STORAGES"]);
        Assert.False(fixedErrors.ContainsKey("env.OTHER"));

        var good = await owner.PostAsJsonAsync("/api/v1/software", new { name = "My web app", image = "rosetta/hello", tag = "latest", interfacePort = 8080 });
        Assert.Equal(HttpStatusCode.Created, good.StatusCode);
        var id = (string)(await good.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
        Assert.Contains((await owner.GetFromJsonAsync<JsonArray>("/api/v1/software"))!, s => (string?)s!["id"] == id);
        Assert.DoesNotContain((await other.GetFromJsonAsync<JsonArray>("/api/v1/software"))!, s => (string?)s!["id"] == id);
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/api/v1/software/{id}")).StatusCode);
        var stolen = await other.PostAsJsonAsync("/api/v1/tasks", new { software = id, computing = "local" });
        Assert.Equal(HttpStatusCode.BadRequest, stolen.StatusCode);
    }

    [Fact]
    public async Task ComputingIsValidatedAndOwned()
    {
        var ownerName = "user" + Guid.NewGuid().ToString("N")[..8];
        using var owner = await App.NewUserClientAsync(ownerName);
        using var other = await App.NewUserClientAsync();
        var bad = await owner.PostAsJsonAsync("/api/v1/computing", new { name = "x", kind = "local", host = "bad host;", port = 0, username = "-rf", engine = "lxc" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var errors = (await TaskApi.ProblemAsync(bad))["errors"]!.AsObject();
        foreach (var field in new[] { "kind", "host", "port", "username", "engine" }) Assert.True(errors.ContainsKey(field), errors.ToJsonString());
        // Names only: .NET's enum parsing takes numbers and comma lists too, which were stored and failed later with a 500.
        foreach (var (kind, engine) in new[] { ("2", "7"), ("ssh, slurm", "podman,apptainer"), ("-1", "-1") })
        {
            var odd = await owner.PostAsJsonAsync("/api/v1/computing", new { name = "x", kind, host = "h.example", username = "u", engine });
            Assert.Equal(HttpStatusCode.BadRequest, odd.StatusCode);
            errors = (await TaskApi.ProblemAsync(odd))["errors"]!.AsObject();
            Assert.Equal(["engine", "kind"], errors.Select(e => e.Key).Order());
        }
        var oddProtocol = await owner.PostAsJsonAsync("/api/v1/software", new { name = "Odd", image = "busybox:1.36", interfacePort = 8080, interfaceProtocol = "7" });
        Assert.Equal(HttpStatusCode.BadRequest, oddProtocol.StatusCode);
        Assert.Contains("interfaceProtocol", (await TaskApi.ProblemAsync(oddProtocol))["errors"]!.AsObject().Select(e => e.Key));
        // The ids of what the platform brings (seeded when missing) are not a user's to take.
        var bundledId = await owner.PostAsJsonAsync("/api/v1/software", new { id = "jupyter", name = "Mine", image = "rosetta/hello", interfacePort = 8080 });
        Assert.Equal("'jupyter' is the id of an entry the platform brings; choose another.", (string?)(await TaskApi.ProblemAsync(bundledId))["errors"]!["id"]![0]);
        var demoId = await owner.PostAsJsonAsync("/api/v1/computing", new { id = "demo-slurm", name = "Mine", kind = "ssh", host = "h.example", username = "u" });
        Assert.Equal("'demo-slurm' is the id of a resource the platform brings; choose another.", (string?)(await TaskApi.ProblemAsync(demoId))["errors"]!["id"]![0]);
        // A non-HTTP interface gets a port on the platform host that its sign-in does not guard: an admin's to add.
        var ownSsh = await owner.PostAsJsonAsync("/api/v1/software", new { name = "My sshd", image = "rosetta/ssh", interfacePort = 22, interfaceProtocol = "ssh" });
        Assert.Equal(HttpStatusCode.BadRequest, ownSsh.StatusCode);
        Assert.Contains("must be 'http' for your own software", (string?)(await TaskApi.ProblemAsync(ownSsh))["errors"]!["interfaceProtocol"]![0]);
        // Such an entry saved before that rule does not start either.
        var ownerId = (await App.Services.GetRequiredService<Rosetta.App.Auth.UserAdministration>().ListAsync()).Single(u => u.Username == ownerName).Id;
        var legacy = "legacy-ssh-" + Guid.NewGuid().ToString("N")[..6];
        await using (var db = await App.Services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<Rosetta.Core.Persistence.RosettaDbContext>>().CreateDbContextAsync())
        {
            db.Software.Add(new Rosetta.Core.Domain.Software { Id = legacy, Name = "Legacy sshd", Image = "rosetta/ssh", InterfacePort = 22, InterfaceProtocol = Rosetta.Core.Domain.InterfaceProtocol.Ssh, OwnerId = ownerId });
            await db.SaveChangesAsync();
        }
        var legacyStart = await owner.PostAsJsonAsync("/api/v1/tasks", new { software = legacy, computing = "local" });
        Assert.Equal(HttpStatusCode.BadRequest, legacyStart.StatusCode);
        Assert.Contains("only software an admin added may have", (string?)(await TaskApi.ProblemAsync(legacyStart))["errors"]!["software"]![0]);
        using (var admin = App.Client(await App.AdminTokenAsync()))
        {
            var adminsSsh = await admin.PostAsJsonAsync("/api/v1/software", new { name = "Admin's sshd", image = "rosetta/ssh", interfacePort = 22, interfaceProtocol = "ssh" });
            Assert.Equal(HttpStatusCode.Created, adminsSsh.StatusCode);
            Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/software/{(string)(await adminsSsh.Content.ReadFromJsonAsync<JsonObject>())!["id"]!}")).StatusCode);
        }

        // A resource's defaults follow the rules of a task's options: a job would otherwise carry them to sbatch.
        var badDefaults = await owner.PostAsJsonAsync("/api/v1/computing", new
        {
            name = "Cluster", kind = "slurm", host = "127.0.0.1", username = "demo",
            defaults = new { cpus = -1, memory = "2X", walltime = "99:99:99", partition = "a;b", gpus = 65, env = new { A = "b" } },
        });
        Assert.Equal(HttpStatusCode.BadRequest, badDefaults.StatusCode);
        errors = (await TaskApi.ProblemAsync(badDefaults))["errors"]!.AsObject();
        foreach (var field in new[] { "cpus", "memory", "walltime", "partition", "gpus", "env" }) Assert.True(errors.ContainsKey($"defaults.{field}"), errors.ToJsonString());

        var created = await owner.PostAsJsonAsync("/api/v1/computing", new { name = "Workstation", kind = "ssh", host = "127.0.0.1", port = 2222, username = "demo", engine = "docker" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (string)(await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
        Assert.DoesNotContain((await other.GetFromJsonAsync<JsonArray>("/api/v1/computing"))!, c => (string?)c!["id"] == id);
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/api/v1/computing/{id}")).StatusCode);
    }

    [Fact]
    public async Task OpenApiDocumentDescribesTheTaskCalls()
    {
        using var client = App.Client();
        var doc = await client.GetFromJsonAsync<JsonObject>("/openapi/v1.json");
        var paths = doc!["paths"]!.AsObject();
        Assert.True(paths.ContainsKey("/api/v1/tasks"));
        Assert.True(paths.ContainsKey("/api/v1/tasks/{id}/stop"));
        Assert.True(paths.ContainsKey("/api/v1/tokens"));
        Assert.True(paths.ContainsKey("/healthz"));

        // How to authenticate: a Bearer scheme required everywhere, lifted where no token is needed.
        Assert.Equal("bearer", (string?)doc["components"]!["securitySchemes"]!["bearer"]!["scheme"]);
        Assert.True(doc["security"]!.AsArray()[0]!.AsObject().ContainsKey("bearer"));
        Assert.Empty(paths["/api/v1/tokens"]!["post"]!["security"]!.AsArray());
        Assert.Empty(paths["/healthz"]!["get"]!["security"]!.AsArray());
        Assert.NotNull(paths["/api/v1/tasks"]!["get"]!["responses"]!["401"]);

        // Numbers are numbers (no string alternative), statuses are the contract's, and a task needs no name.
        var schemas = doc["components"]!["schemas"]!;
        string[] contractStatuses = ["created", "queued", "starting", "running", "stopping", "stopped", "exited", "failed"];
        var statuses = schemas["TaskDto"]!["properties"]!["status"]!["enum"]!.AsArray().Select(s => (string)s!);
        Assert.Equal(contractStatuses.Order(), statuses.Order());
        Assert.DoesNotContain("string", schemas["SoftwareDto"]!["properties"]!["interfacePort"]!.ToJsonString());
        Assert.DoesNotContain("name", schemas["NewTask"]!["required"]?.AsArray().Select(r => (string?)r) ?? []);
    }

    [Fact]
    public async Task TheDashboardCannotBeFramed()
    {
        using var client = App.Client();
        var login = await client.GetAsync("/login");
        Assert.Equal("DENY", login.Headers.GetValues("X-Frame-Options").Single());
        // Exactly one frame-ancestors directive: a browser obeys the first and ignores the rest, and Blazor
        // adds its own 'self' to every page, which would let a task's page (same origin in path mode) frame it.
        var frameAncestors = login.Headers.GetValues("Content-Security-Policy").Single().Split(';', StringSplitOptions.TrimEntries)
            .Where(d => d.StartsWith("frame-ancestors", StringComparison.OrdinalIgnoreCase));
        Assert.Equal("frame-ancestors 'none'", Assert.Single(frameAncestors));
    }

    /// <summary>
    /// In path mode a task's page shares the dashboard's origin. Its scripts can send requests with the
    /// visitor's cookie, but the dashboard's pages answer them as to a signed-out visitor (they hold the
    /// links' tokens and the circuit's descriptors), and a window they open on the dashboard is cut off.
    /// </summary>
    [Fact]
    public async Task ATaskPagesScriptsCannotReadTheDashboardsPages()
    {
        var name = "rd" + Guid.NewGuid().ToString("N")[..8];
        (await App.NewUserClientAsync(name)).Dispose();
        using var browser = new BrowserLikeClient(App.BaseAddress);
        await browser.LogInAsync(App.BaseAddress, name, "password-" + name);
        var page = new Uri(App.BaseAddress, "/account");

        var navigation = await browser.NavigateAsync(page, ("Sec-Fetch-Dest", "document"), ("Sec-Fetch-Mode", "navigate"));
        Assert.Equal(HttpStatusCode.OK, navigation.StatusCode);
        Assert.Contains(name, await navigation.Content.ReadAsStringAsync());
        Assert.Equal("same-origin", navigation.Headers.GetValues("Cross-Origin-Opener-Policy").Single());
        Assert.Equal(HttpStatusCode.OK, (await browser.NavigateAsync(page)).StatusCode); // browsers without fetch metadata

        foreach (var (destination, mode) in new[] { ("empty", "cors"), ("empty", "same-origin"), ("iframe", "navigate"), ("image", "no-cors") })
        {
            var read = await browser.NavigateAsync(page, ("Sec-Fetch-Dest", destination), ("Sec-Fetch-Mode", mode));
            Assert.NotEqual(HttpStatusCode.OK, read.StatusCode);
            Assert.DoesNotContain(name, await read.Content.ReadAsStringAsync());
        }

        // Nor slip a session of its own next to the visitor's (document.cookie, a longer path goes first).
        var session = browser.Cookies.GetAllCookies().Single(c => c.Name == "rosetta.auth");
        var planted = new HttpRequestMessage(HttpMethod.Get, page);
        planted.Headers.Add("Cookie", $"rosetta.auth=someone-elses; rosetta.auth={session.Value}");
        planted.Headers.Accept.ParseAdd("text/html");
        using (var bare = new HttpClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = App.BaseAddress })
        {
            Assert.Equal(HttpStatusCode.Redirect, (await bare.SendAsync(planted)).StatusCode);
            // The answer expires the planted cookie, by the address as sent: a name that is not ASCII, or a ';'
            // that would add attributes of its own (a Max-Age for the real cookie), adds no path from there on.
            var odd = new HttpRequestMessage(HttpMethod.Get, new Uri(App.BaseAddress + "tasks/donn%C3%A9es;Path=/;Max-Age=9999/x", new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true }));
            odd.Headers.Add("Cookie", $"rosetta.auth=someone-elses; rosetta.auth={session.Value}");
            odd.Headers.Accept.ParseAdd("text/html");
            var expired = await bare.SendAsync(odd);
            Assert.True((int)expired.StatusCode < 500, $"{expired.StatusCode}"); // no such page: a 404, never a 500
            var setCookies = expired.Headers.GetValues("Set-Cookie").Where(c => c.StartsWith("rosetta.auth=;", StringComparison.Ordinal)).ToList();
            static string PathOf(string setCookie) => setCookie.Split(';').Select(a => a.Trim()).Single(a => a.StartsWith("path=", StringComparison.OrdinalIgnoreCase))[5..];
            Assert.Equal(["/tasks", "/tasks/"], setCookies.Select(PathOf).Order()); // never "/", the real cookie's own
            Assert.All(setCookies, c =>
            {
                Assert.Contains("expires=Thu, 01 Jan 1970", c);
                Assert.DoesNotContain("max-age", c, StringComparison.OrdinalIgnoreCase);
            });
            // Under a host name, one planted for a parent domain (a sibling task host's) goes too, at '/' as well.
            var named = new HttpRequestMessage(HttpMethod.Get, page);
            named.Headers.Host = "dash.example.org";
            named.Headers.Add("Cookie", $"rosetta.auth=someone-elses; rosetta.auth={session.Value}");
            var domains = (await bare.SendAsync(named)).Headers.GetValues("Set-Cookie").Where(c => c.StartsWith("rosetta.auth=;", StringComparison.Ordinal)).ToList();
            Assert.Contains(domains, c => c.Contains("domain=example.org", StringComparison.OrdinalIgnoreCase) && PathOf(c) == "/");
            Assert.Contains(domains, c => c.Contains("domain=dash.example.org", StringComparison.OrdinalIgnoreCase) && PathOf(c) == "/");
            Assert.DoesNotContain(domains, c => !c.Contains("domain=", StringComparison.OrdinalIgnoreCase) && PathOf(c) == "/");
            var single = new HttpRequestMessage(HttpMethod.Get, page);
            single.Headers.Add("Cookie", $"rosetta.auth={session.Value}");
            Assert.Equal(HttpStatusCode.OK, (await bare.SendAsync(single)).StatusCode);
        }

        // Nor log the visitor out with a form of its own: the log-out form's antiforgery token is the dashboard's.
        var logout = new HttpRequestMessage(HttpMethod.Post, new Uri(App.BaseAddress, "/logout")) { Content = new FormUrlEncodedContent([]) };
        logout.Headers.Add("Origin", App.BaseAddress.GetLeftPart(UriPartial.Authority));
        Assert.Equal(HttpStatusCode.BadRequest, (await browser.SendAsync(logout)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.NavigateAsync(page)).StatusCode);
    }

    [Fact]
    public async Task WithTheDashboardsCookieOnlyTheDashboardsOwnPagesChangeThingsOrOpenWebSockets()
    {
        // A task's page on a sibling host name is the same site: the SameSite=Lax cookie goes along.
        var name = "co" + Guid.NewGuid().ToString("N")[..8];
        (await App.NewUserClientAsync(name)).Dispose();
        using var browser = new BrowserLikeClient(App.BaseAddress);
        await browser.LogInAsync(App.BaseAddress, name, "password-" + name);
        var dashboardToken = await App.DashboardTokenAsync(name);
        var own = App.BaseAddress.GetLeftPart(UriPartial.Authority);
        var foreign = $"http://t1.tasks.localhost:{App.BaseAddress.Port}";

        async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? origin, bool withToken = true)
        {
            var request = new HttpRequestMessage(method, new Uri(App.BaseAddress, withToken ? $"{path}?dashboardToken={dashboardToken}" : path));
            if (origin is not null) request.Headers.Add("Origin", origin);
            return await browser.SendAsync(request);
        }
        async Task<string> KeyAsync() => await (await SendAsync(HttpMethod.Get, "/api/v1/account/public-key", foreign)).Content.ReadAsStringAsync();

        var key = await KeyAsync(); // reads are not refused
        Assert.Contains("ssh-", key);
        var refused = await SendAsync(HttpMethod.Post, "/api/v1/account/public-key/rotate", foreign);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("Bearer", (string?)(await TaskApi.ProblemAsync(refused))["detail"]);
        Assert.Equal(key, await KeyAsync());
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(HttpMethod.Post, "/api/v1/tasks/0123456789abcdef/stop", foreign)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Post, "/api/v1/tasks/0123456789abcdef/stop", own)).StatusCode);

        // In path mode a task's page is the dashboard's own origin: its scripts send the cookie with the
        // dashboard's Origin, but hold no dashboard token, and without one the cookie opens nothing in the API.
        foreach (var (method, path) in new[] { (HttpMethod.Post, "/api/v1/account/public-key/rotate"), (HttpMethod.Get, "/api/v1/account/public-key"), (HttpMethod.Get, "/api/v1/tasks") })
        {
            var bare = await SendAsync(method, path, own, withToken: false);
            Assert.Equal(HttpStatusCode.Unauthorized, bare.StatusCode);
            Assert.Contains("dashboard's session", (string?)(await TaskApi.ProblemAsync(bare))["detail"]);
        }
        var forged = new HttpRequestMessage(HttpMethod.Get, new Uri(App.BaseAddress, "/api/v1/tasks?dashboardToken=" + dashboardToken[..^6] + "AAAAAA"));
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.SendAsync(forged)).StatusCode);
        Assert.Equal(key, await KeyAsync());
        Assert.True((await SendAsync(HttpMethod.Post, "/api/v1/account/public-key/rotate", own)).IsSuccessStatusCode);
        Assert.NotEqual(key, await KeyAsync());
        // Another user's token does not go with this session.
        var otherName = "co" + Guid.NewGuid().ToString("N")[..8];
        (await App.NewUserClientAsync(otherName)).Dispose();
        var otherToken = new HttpRequestMessage(HttpMethod.Get, new Uri(App.BaseAddress, "/api/v1/tasks?dashboardToken=" + await App.DashboardTokenAsync(otherName)));
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.SendAsync(otherToken)).StatusCode);

        // The live task hub, the same way.
        async Task ConnectHubAsync(string origin, bool withToken = true)
        {
            using var socket = new System.Net.WebSockets.ClientWebSocket();
            socket.Options.SetRequestHeader("Origin", origin);
            var query = withToken ? $"?dashboardToken={dashboardToken}" : "";
            await socket.ConnectAsync(new Uri($"ws://{App.BaseAddress.Authority}/hubs/tasks{query}"), new HttpMessageInvoker(browser.Handler, disposeHandler: false), CancellationToken.None);
            await socket.CloseOutputAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        }
        await Assert.ThrowsAsync<System.Net.WebSockets.WebSocketException>(() => ConnectHubAsync(foreign));
        await Assert.ThrowsAsync<System.Net.WebSockets.WebSocketException>(() => ConnectHubAsync(own, withToken: false));
        await ConnectHubAsync(own);
    }

    [Fact]
    public async Task ChangingThePasswordEndsEverySessionOpenedWithTheOldOne()
    {
        var name = "pw" + Guid.NewGuid().ToString("N")[..8];
        (await App.NewUserClientAsync(name)).Dispose();
        using var laptop = new BrowserLikeClient(App.BaseAddress);
        using var stolen = new BrowserLikeClient(App.BaseAddress);
        foreach (var session in new[] { laptop, stolen }) await session.LogInAsync(App.BaseAddress, name, "password-" + name);
        var page = new Uri(App.BaseAddress, "/account"); // a signed-in page: 200, or the way to the login page (302)
        Assert.Equal(HttpStatusCode.OK, (await stolen.NavigateAsync(page)).StatusCode);

        using (var scope = App.Services.CreateScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<Rosetta.Core.Domain.RosettaUser>>();
            var user = (await users.FindByNameAsync(name))!;
            await App.Services.GetRequiredService<Rosetta.App.Auth.UserAdministration>().ChangePasswordAsync(user.Id, "password-" + name, "another-" + name);
        }

        foreach (var session in new[] { laptop, stolen })
            Assert.Equal(HttpStatusCode.Redirect, (await session.NavigateAsync(page)).StatusCode);
        using var again = new BrowserLikeClient(App.BaseAddress);
        await again.LogInAsync(App.BaseAddress, name, "another-" + name);
        Assert.Equal(HttpStatusCode.OK, (await again.NavigateAsync(page)).StatusCode);
    }

    [Fact]
    public async Task AnAdminGivesAUserWhoLostTheirPasswordANewOne_EndingTheirSessionsAndLiftingALockout()
    {
        var name = "lost" + Guid.NewGuid().ToString("N")[..8];
        (await App.NewUserClientAsync(name)).Dispose();
        var id = (await App.Services.GetRequiredService<Rosetta.App.Auth.UserAdministration>().ListAsync()).Single(u => u.Username == name).Id;
        using var browser = new BrowserLikeClient(App.BaseAddress);
        await browser.LogInAsync(App.BaseAddress, name, "password-" + name);
        var page = new Uri(App.BaseAddress, "/account");
        Assert.Equal(HttpStatusCode.OK, (await browser.NavigateAsync(page)).StatusCode);
        // Ten wrong guesses lock the account (someone tried; the user forgot).
        using var anonymous = App.CreateClient();
        for (var i = 0; i < 10; i++) await anonymous.PostAsJsonAsync("/api/v1/tokens", new { username = name, password = "wrong-guess" });
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsJsonAsync("/api/v1/tokens", new { username = name, password = "password-" + name })).StatusCode);

        using var admin = App.Client(await App.AdminTokenAsync());
        var refused = await admin.PostAsJsonAsync($"/api/v1/users/{id}/password", new { password = "short" });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("at least 8", (string?)(await TaskApi.ProblemAsync(refused))["errors"]!["password"]![0]);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PostAsJsonAsync($"/api/v1/users/{id}/password", new { })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsJsonAsync("/api/v1/users/no-such-id/password", new { password = "long-enough-1" })).StatusCode);
        var adminId = (await App.Services.GetRequiredService<Rosetta.App.Auth.UserAdministration>().ListAsync()).Single(u => u.Username == "admin").Id;
        var own = await admin.PostAsJsonAsync($"/api/v1/users/{adminId}/password", new { password = "long-enough-1" });
        Assert.Equal(HttpStatusCode.Conflict, own.StatusCode);
        Assert.Contains("Account page", (string?)(await TaskApi.ProblemAsync(own))["detail"]);
        using (var other = await App.NewUserClientAsync())
            Assert.Equal(HttpStatusCode.Forbidden, (await other.PostAsJsonAsync($"/api/v1/users/{id}/password", new { password = "long-enough-1" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.NavigateAsync(page)).StatusCode); // nothing changed yet

        Assert.Equal(HttpStatusCode.NoContent, (await admin.PostAsJsonAsync($"/api/v1/users/{id}/password", new { password = "handed-over-" + name })).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await browser.NavigateAsync(page)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsJsonAsync("/api/v1/tokens", new { username = name, password = "password-" + name })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await anonymous.PostAsJsonAsync("/api/v1/tokens", new { username = name, password = "handed-over-" + name })).StatusCode);
    }

    [Fact]
    public async Task ComputingResourcesAndSoftwareAreRemovedByTheirOwnersOnceNothingDependsOnThem()
    {
        var ownerName = "rm" + Guid.NewGuid().ToString("N")[..8];
        using var owner = await App.NewUserClientAsync(ownerName);
        using var other = await App.NewUserClientAsync();
        using var admin = App.Client(await App.AdminTokenAsync());
        var database = App.Services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<Rosetta.Core.Persistence.RosettaDbContext>>();
        var created = await owner.PostAsJsonAsync("/api/v1/computing", new { name = "Old box", kind = "ssh", host = "127.0.0.1", port = 1, username = "demo" });
        var computing = (string)(await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
        // One name per owner: the wizard picks resources by name.
        var twice = await owner.PostAsJsonAsync("/api/v1/computing", new { name = "Old box", kind = "ssh", host = "127.0.0.2", port = 22, username = "demo" });
        Assert.Equal(HttpStatusCode.Conflict, twice.StatusCode);
        Assert.Contains("named 'Old box'", (string?)(await TaskApi.ProblemAsync(twice))["detail"]);
        Assert.Equal(HttpStatusCode.Created, (await other.PostAsJsonAsync("/api/v1/computing", new { name = "Old box", kind = "ssh", host = "127.0.0.1", port = 1, username = "demo" })).StatusCode);

        // Not the local engine; not someone else's; platform-wide ones only by admins.
        var local = await admin.DeleteAsync("/api/v1/computing/local");
        Assert.Equal(HttpStatusCode.Conflict, local.StatusCode);
        Assert.Contains("part of the platform", (string?)(await TaskApi.ProblemAsync(local))["detail"]);
        Assert.Equal(HttpStatusCode.NotFound, (await other.DeleteAsync($"/api/v1/computing/{computing}")).StatusCode);
        var wide = (string)(await (await admin.PostAsJsonAsync("/api/v1/computing", new { name = "Shared box", kind = "ssh", host = "127.0.0.1", port = 1, username = "demo" }))
            .Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
        await using (var db = await database.CreateDbContextAsync())
        {
            (await db.Computing.FindAsync(wide))!.OwnerId = null; // as a platform-wide resource, which comes with no home storage
            db.Storages.RemoveRange(db.Storages.Where(s => s.ComputingId == wide));
            await db.SaveChangesAsync();
        }
        Assert.Equal(HttpStatusCode.Forbidden, (await owner.DeleteAsync($"/api/v1/computing/{wide}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/computing/{wide}")).StatusCode);

        // Not while it holds a storage.
        var storage = await owner.PostAsJsonAsync("/api/v1/storages", new { name = "Box data", kind = "sftp", computing, basePath = "/data", bindPath = "/storages/box" });
        Assert.Equal(HttpStatusCode.Created, storage.StatusCode);
        var withStorage = await owner.DeleteAsync($"/api/v1/computing/{computing}");
        Assert.Equal(HttpStatusCode.Conflict, withStorage.StatusCode);
        var blocking = (string?)(await TaskApi.ProblemAsync(withStorage))["detail"];
        Assert.Contains("holds the storage 'Box data';", blocking);
        Assert.DoesNotContain("Home on", blocking); // the home storage it came with goes with it
        Assert.Equal(HttpStatusCode.NoContent, (await owner.DeleteAsync($"/api/v1/storages/{(string)(await storage.Content.ReadFromJsonAsync<JsonObject>())!["id"]!}")).StatusCode);

        // Not while a task of it is kept (its logs and leftovers on the host go when the task is deleted).
        var ownerId = (await App.Services.GetRequiredService<Rosetta.App.Auth.UserAdministration>().ListAsync()).Single(u => u.Username == ownerName).Id;
        await using (var db = await database.CreateDbContextAsync())
        {
            db.Tasks.Add(new Rosetta.Core.Domain.TaskRecord { Id = "0123456789abcdee", OwnerId = ownerId, Name = "ended", SoftwareId = "hello", ComputingId = computing, Status = Rosetta.Core.Domain.TaskState.Exited });
            await db.SaveChangesAsync();
        }
        var withTask = await owner.DeleteAsync($"/api/v1/computing/{computing}");
        Assert.Equal(HttpStatusCode.Conflict, withTask.StatusCode);
        Assert.Contains("has 1 task", (string?)(await TaskApi.ProblemAsync(withTask))["detail"]);
        await using (var db = await database.CreateDbContextAsync())
        {
            db.Tasks.Remove((await db.Tasks.FindAsync("0123456789abcdee"))!);
            await db.SaveChangesAsync();
        }
        Assert.Equal(HttpStatusCode.NoContent, (await owner.DeleteAsync($"/api/v1/computing/{computing}")).StatusCode);
        Assert.DoesNotContain((await owner.GetFromJsonAsync<JsonArray>("/api/v1/storages"))!, s => (string?)s!["computing"] == computing);
        Assert.Equal(HttpStatusCode.NotFound, (await owner.GetAsync($"/api/v1/computing/{computing}")).StatusCode);

        // Software: the owner edits and removes their own entry; others see nothing, platform-wide ones are the admins'.
        var software = (string)(await (await owner.PostAsJsonAsync("/api/v1/software", new { name = "My app", image = "rosetta/hello", interfacePort = 8080 }))
            .Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
        var edited = await owner.PutAsJsonAsync($"/api/v1/software/{software}", new { name = "My app v2", image = "rosetta/hello", interfacePort = 8081 });
        Assert.Equal(HttpStatusCode.OK, edited.StatusCode);
        Assert.Equal(8081, (int)(await edited.Content.ReadFromJsonAsync<JsonObject>())!["interfacePort"]!);
        var renamed = await owner.PutAsJsonAsync($"/api/v1/software/{software}", new { id = "another-id", name = "My app v3", image = "rosetta/hello", interfacePort = 8081 });
        Assert.Equal(HttpStatusCode.BadRequest, renamed.StatusCode); // it was ignored without a word
        Assert.Contains("cannot be changed", await renamed.Content.ReadAsStringAsync());
        Assert.Equal("My app v2", (string?)(await owner.GetFromJsonAsync<JsonObject>($"/api/v1/software/{software}"))!["name"]);
        Assert.Equal(HttpStatusCode.NotFound, (await other.DeleteAsync($"/api/v1/software/{software}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await owner.DeleteAsync("/api/v1/software/jupyter")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await owner.PutAsJsonAsync("/api/v1/software/jupyter", new { name = "Mine", image = "x/y", interfacePort = 1 })).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await owner.DeleteAsync($"/api/v1/software/{software}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await owner.GetAsync($"/api/v1/software/{software}")).StatusCode);
    }

    /// <summary>What the user can fix in the request is answered first, before the resource is reached (which may take a while, or fail).</summary>
    [Fact]
    public async Task InvalidOptionsAre400EvenOnAResourceThatCannotBeReached()
    {
        using var owner = await App.NewUserClientAsync();
        var created = await owner.PostAsJsonAsync("/api/v1/computing", new { name = "Nowhere", kind = "ssh", host = "127.0.0.1", port = 1, username = "demo" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var computing = (string)(await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
        var response = await owner.PostAsJsonAsync("/api/v1/tasks", new { software = "hello", computing, options = new { memory = "2X" } });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.NotNull((await TaskApi.ProblemAsync(response))["errors"]!["options.memory"]);
        var valid = await owner.PostAsJsonAsync("/api/v1/tasks", new { software = "hello", computing, options = new { memory = "1G" } });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, valid.StatusCode);
    }

    /// <summary>What a client can get wrong around the body rather than in it: the charset, the field types of other calls, query parameters.</summary>
    [Fact]
    public async Task CharsetsFieldTypesAndQueryParametersGetAnswersThatSayWhatToFix()
    {
        using var anonymous = App.Client();
        var ebcdic = await anonymous.PostAsync("/api/v1/tokens", Json("""{"username":"admin","password":"x"}""", "application/json; charset=ebcdic"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, ebcdic.StatusCode);
        Assert.Contains("UTF-8", (string?)(await TaskApi.ProblemAsync(ebcdic))["detail"]);
        var quoted = await anonymous.PostAsync("/api/v1/tokens", Json($$"""{"username":"admin","password":"{{RosettaAppFactory.AdminPassword}}"}""", "application/json; charset=\"UTF-8\""));
        Assert.Equal(HttpStatusCode.Created, quoted.StatusCode);
        // No token: that is what the caller must fix first, whatever the charset.
        var noToken = await anonymous.PostAsync("/api/v1/tasks", Json("{}", "application/json; charset=ebcdic"));
        Assert.Equal(HttpStatusCode.Unauthorized, noToken.StatusCode);
        Assert.Contains("Bearer", (string?)(await TaskApi.ProblemAsync(noToken))["detail"]);

        Assert.Contains("expected a string", await DetailAsync(await anonymous.PostAsync("/api/v1/tokens", Json("""{"username":1,"password":"x"}"""))));
        using var admin = App.Client(await App.AdminTokenAsync());
        Assert.Contains("expected true or false", await DetailAsync(await admin.PostAsync("/api/v1/users", Json("""{"username":"u1","password":"password-1","admin":"yes"}"""))));
        Assert.Contains("expected a whole number", await DetailAsync(await admin.PostAsync("/api/v1/software", Json("""{"name":"x","image":"x","interfacePort":"abc"}"""))));
        // A number written as a string is a wrong type too (the web defaults would read it).
        Assert.Contains("expected a whole number", await DetailAsync(await admin.PostAsync("/api/v1/software", Json("""{"name":"x","image":"x","interfacePort":"8080"}"""))));
        // Missing credentials say which field; they are not "wrong credentials".
        Assert.Contains("password", await DetailAsync(await anonymous.PostAsync("/api/v1/tokens", Json("""{"username":"admin"}"""))));
        var neither = await DetailAsync(await anonymous.PostAsync("/api/v1/tokens", Json("{}")));
        Assert.Contains("username", neither);
        Assert.Contains("password", neither);
        Assert.Contains("cannot be '.' or '..'", await DetailAsync(await admin.PostAsync("/api/v1/users", Json("""{"username":"..","password":"password-1"}"""))));
        Assert.Contains("'-', '.', '_' or '@'", await DetailAsync(await admin.PostAsync("/api/v1/users", Json("""{"username":"x y/z","password":"password-1"}"""))));
        Assert.DoesNotContain("id:", await DetailAsync(await admin.PostAsync("/api/v1/software", Json("{}"))));

        var task = (string)(await TaskApi.StartAsync(admin, new { software = "hello", computing = "local" }))["id"]!;
        try
        {
            Assert.Equal("'tail' must be a whole number, not 'abc'.", await DetailAsync(await admin.GetAsync($"/api/v1/tasks/{task}/logs?tail=abc")));
            Assert.StartsWith("'tail' is too large", await DetailAsync(await admin.GetAsync($"/api/v1/tasks/{task}/logs?tail=99999999999")));
            Assert.Equal("'follow' must be true or false, not 'yes'.", await DetailAsync(await admin.GetAsync($"/api/v1/tasks/{task}/logs?follow=yes")));
            Assert.Contains("is given 2 times", await DetailAsync(await admin.PutAsync("/api/v1/storages/personal/files?path=a&path=b", new ByteArrayContent([1]))));
            // Binding would join the two as "1,2" and complain about a value nobody sent.
            Assert.Equal("tail: is given 2 times; give it once.", await DetailAsync(await admin.GetAsync($"/api/v1/tasks/{task}/logs?tail=1&tail=2")));
        }
        finally
        {
            await TaskApi.StopAndDeleteAsync(admin, task);
        }

        static StringContent Json(string body, string contentType = "application/json") =>
            new(body, new System.Net.Http.Headers.MediaTypeHeaderValue("application/json")) { Headers = { ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType) } };

        static async Task<string> DetailAsync(HttpResponseMessage response)
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            return (string?)(await TaskApi.ProblemAsync(response))["detail"] ?? "";
        }
    }

    [Fact]
    public async Task HealthzAnswersWhenReady()
    {
        using var client = App.Client();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/healthz"))).StatusCode);
    }

    [Fact]
    public async Task EveryGetAnswersHeadWithTheSameStatusAndHeaders_EvenAFollowedLog()
    {
        using var admin = App.Client(await App.AdminTokenAsync());
        using var anonymous = App.Client();
        var task = (string)(await TaskApi.StartAsync(admin, new { software = "hello", computing = "local" }))["id"]!;
        try
        {
            await TaskApi.WaitForStatusAsync(admin, task, "running");
            foreach (var path in new[] { "/api/v1/tasks", $"/api/v1/tasks/{task}", "/api/v1/software", $"/api/v1/tasks/{task}/logs?follow=true" })
            {
                using var get = await admin.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);
                // A followed log never ends for GET; HEAD answers at once (the client's timeout would fail this).
                using var head = await admin.SendAsync(new HttpRequestMessage(HttpMethod.Head, path));
                Assert.Equal(HttpStatusCode.OK, head.StatusCode);
                Assert.Equal(get.Content.Headers.ContentType?.MediaType, head.Content.Headers.ContentType?.MediaType);
            }
            // The same rules as GET: anonymous is refused, another's or no task is not found.
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/api/v1/tasks"))).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await admin.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/api/v1/tasks/nosuchtask"))).StatusCode);
            // HEAD is not listed as operations of its own; a POST-only path does not run for it.
            var document = await anonymous.GetStringAsync("/openapi/v1.json");
            Assert.DoesNotContain("\"head\"", document);
            Assert.False((await admin.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/api/v1/tasks/{task}/stop"))).IsSuccessStatusCode);
            Assert.Equal("running", (string?)(await admin.GetFromJsonAsync<JsonObject>($"/api/v1/tasks/{task}"))!["status"]);
        }
        finally
        {
            await TaskApi.StopAndDeleteAsync(admin, task);
        }
    }

    [Fact]
    public async Task ABodyOverTheLimitIsRefusedWithTheLimit()
    {
        using var admin = App.Client(await App.AdminTokenAsync());
        var huge = "{\"name\":\"" + new string('x', 31_000_000) + "\"}";
        // As curl sends a large body: the answer comes before the body is sent.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/software") { Content = new StringContent(huge, Encoding.UTF8, "application/json") };
        request.Headers.ExpectContinue = true;
        var response = await admin.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("at most 30,000,000 bytes", (string?)(await TaskApi.ProblemAsync(response))["detail"]);
    }
}
