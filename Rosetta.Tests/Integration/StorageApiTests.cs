using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Rosetta.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Rosetta.Tests.Integration;

/// <summary>
/// <c>/api/v1/storages</c> through the real app: every file operation on the seeded personal folder,
/// path traversal in every spelling, links planted from outside, another user's storage, read-only
/// storages, the upload limit, the quota and an upload cut off halfway.
/// </summary>
public sealed class StorageApiTests(StorageFixture fixture) : IClassFixture<StorageFixture>
{
    private RosettaAppFactory App => fixture.App;

    private async Task<(HttpClient Client, string Name)> NewUserAsync()
    {
        var name = "st" + Guid.NewGuid().ToString("N")[..8];
        return (await App.NewUserClientAsync(name), name);
    }

    private string PersonalFolder(string user) => Path.Combine(fixture.StorageRoot, "users", user);

    [Fact]
    public async Task AFileAsDeepAsTheSystemAllowsIsUploadedListedAndDownloadedThroughItsLongAddress()
    {
        var (client, name) = await NewUserAsync();
        // Names of 84 three-byte characters (252 bytes, a name holds 255), as many as fit in the system's limit.
        var rootBytes = Encoding.UTF8.GetByteCount(PersonalFolder(name));
        var segment = new string('日', 84);
        var folders = new List<string>();
        while (rootBytes + 1 + Encoding.UTF8.GetByteCount(string.Join('/', [.. folders, segment, "f.txt"])) < Rosetta.Core.Storages.StoragePath.MaxPathLength)
            folders.Add(segment);
        var folder = string.Join('/', folders);
        var path = $"{folder}/f.txt";
        var made = await StorageApi.PostJsonAsync(client, "personal", "folders", new { path = folder });
        Assert.True(made.IsSuccessStatusCode, await made.Content.ReadAsStringAsync());
        // Escaped, each character takes 9: the address is longer than the 8 KB request line web servers allow by default.
        Assert.True(Uri.EscapeDataString(path).Length > 8 * 1024);

        var content = Encoding.UTF8.GetBytes("deep down, and still here");
        await StorageApi.UploadAsync(client, "personal", path, content);
        Assert.Equal(["f.txt"], await StorageApi.NamesAsync(client, "personal", folder));
        await StorageApi.AssertDownloadAsync(client, "personal", path, content);
    }

    [Fact]
    public async Task AnUploadIsTheBodysBytesWhateverItsContentTypeSaysButMultipartGoesToPost()
    {
        var (client, name) = await NewUserAsync();
        // What curl --data-binary, a text editor's client and a JSON tool would send.
        foreach (var type in new[] { "application/x-www-form-urlencoded", "text/plain; charset=utf-8", "application/json", "application/json; charset=utf-16", "application/octet-stream" })
        {
            var bytes = Encoding.UTF8.GetBytes($"a=1&b=2 {{\"sent as\": \"{type}\"}}");
            var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = MediaTypeHeaderValue.Parse(type);
            var file = "typed-" + type.Split('/', ';')[1] + ".txt";
            var response = await client.PutAsync($"/api/v1/storages/personal/files?path={file}", content);
            Assert.True(response.StatusCode == HttpStatusCode.Created, $"{type}: {await response.Content.ReadAsStringAsync()}");
            Assert.Equal(bytes, await File.ReadAllBytesAsync(Path.Combine(PersonalFolder(name), file)));
        }

        using var form = new MultipartFormDataContent { { new ByteArrayContent([1, 2, 3]), "file", "f.bin" } };
        var multipart = await client.PutAsync("/api/v1/storages/personal/files?path=f.bin", form);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, multipart.StatusCode);
        Assert.Contains("with POST /api/v1/storages/personal/files?path=FOLDER", (string?)(await TaskApi.ProblemAsync(multipart))["detail"]);
        Assert.False(File.Exists(Path.Combine(PersonalFolder(name), "f.bin")));
    }

    /// <summary>
    /// No new name reads as another: "evil" + U+202E + "txt.exe" would list as "evilexe.txt" to everyone sharing the
    /// storage. One a task made is listed and can be renamed.
    /// </summary>
    [Fact]
    public async Task NewNamesWithTextDirectionOverridesAreRefusedAndATasksOneCanBeRenamed()
    {
        var (client, name) = await NewUserAsync();
        const string spoofed = "evil\u202Etxt.exe";
        var upload = await StorageApi.PutAsync(client, "personal", spoofed, "x"u8.ToArray());
        Assert.Equal(HttpStatusCode.BadRequest, upload.StatusCode);
        Assert.Contains("text-direction overrides", await upload.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, (await StorageApi.PostJsonAsync(client, "personal", "folders", new { path = "dir/" + spoofed })).StatusCode);
        await StorageApi.UploadAsync(client, "personal", "plain.txt", "x"u8.ToArray());
        Assert.Equal(HttpStatusCode.BadRequest, (await StorageApi.PostJsonAsync(client, "personal", "move", new { from = "plain.txt", to = spoofed })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await StorageApi.PostJsonAsync(client, "personal", "copy", new { from = "plain.txt", to = spoofed })).StatusCode);
        Assert.Equal(["plain.txt"], await StorageApi.NamesAsync(client, "personal"));

        await File.WriteAllTextAsync(Path.Combine(PersonalFolder(name), spoofed), "a task's");
        Assert.Contains(spoofed, await StorageApi.NamesAsync(client, "personal"));
        Assert.True((await StorageApi.PostJsonAsync(client, "personal", "move", new { from = spoofed, to = "renamed.exe" })).IsSuccessStatusCode);
        Assert.Equal(["plain.txt", "renamed.exe"], await StorageApi.NamesAsync(client, "personal"));
    }

    [Fact]
    public async Task HeadOfADownloadGivesItsHeaders()
    {
        var (client, name) = await NewUserAsync();
        Directory.CreateDirectory(Path.Combine(PersonalFolder(name), "folder"));
        await File.WriteAllBytesAsync(Path.Combine(PersonalFolder(name), "folder", "data.bin"), new byte[100_000]);

        using var file = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/api/v1/storages/personal/download?path=folder/data.bin"));
        Assert.Equal(HttpStatusCode.OK, file.StatusCode);
        Assert.Equal(100_000, file.Content.Headers.ContentLength);
        Assert.Equal("bytes", file.Headers.AcceptRanges.Single());
        Assert.Equal("data.bin", file.Content.Headers.ContentDisposition?.FileNameStar ?? file.Content.Headers.ContentDisposition?.FileName);

        using var folder = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/api/v1/storages/personal/download?path=folder"));
        Assert.Equal(HttpStatusCode.OK, folder.StatusCode);
        Assert.Equal("application/zip", folder.Content.Headers.ContentType?.MediaType);
        Assert.Equal("folder.zip", folder.Content.Headers.ContentDisposition?.FileNameStar);
        // A folder's zip is named as a file is, UTF-8 in filename* (a MIME encoded-word alone was saved literally by curl -OJ).
        Directory.CreateDirectory(Path.Combine(PersonalFolder(name), "données"));
        using var accented = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/api/v1/storages/personal/download?path=" + Uri.EscapeDataString("données")));
        Assert.Equal(HttpStatusCode.OK, accented.StatusCode);
        Assert.Equal("attachment", accented.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("données.zip", accented.Content.Headers.ContentDisposition?.FileNameStar);

        // The same rules as GET: nothing is there, or the path is hostile.
        using var missing = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/api/v1/storages/personal/download?path=nothing"));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var hostile = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/api/v1/storages/personal/download?path=../x"));
        Assert.Equal(HttpStatusCode.BadRequest, hostile.StatusCode);
    }

    [Fact]
    public async Task SeededStoragesAreListedWithTheirBindPaths()
    {
        var (client, _) = await NewUserAsync();
        var storages = (await client.GetFromJsonAsync<JsonArray>("/api/v1/storages"))!;
        var personal = storages.Single(s => (string?)s!["id"] == "personal")!;
        Assert.Equal("/storages/personal", (string?)personal["bindPath"]);
        Assert.Equal("local", (string?)personal["kind"]);
        Assert.Equal("local", (string?)personal["computing"]);
        Assert.True((bool)personal["platformWide"]!);
        Assert.Contains(storages, s => (string?)s!["id"] == "shared");
    }

    [Fact]
    public async Task EveryOperationDoesWhatItSaysAndStaysInTheUsersOwnFolder()
    {
        var (client, name) = await NewUserAsync();
        var content = Encoding.UTF8.GetBytes("spectrum 1\nspectrum 2\n");
        Assert.Equal(HttpStatusCode.Created, (await StorageApi.PostJsonAsync(client, "personal", "folders", new { path = "runs/2026" })).StatusCode);
        await StorageApi.UploadAsync(client, "personal", "runs/2026/data.txt", content);
        Assert.Equal(content, File.ReadAllBytes(Path.Combine(PersonalFolder(name), "runs/2026/data.txt")));

        var listed = await StorageApi.ListAsync(client, "personal", "runs/2026");
        var entry = listed.Single()!;
        Assert.Equal("runs/2026/data.txt", (string?)entry["path"]);
        Assert.Equal("file", (string?)entry["kind"]);
        Assert.Equal(content.Length, (long)entry["size"]!);

        Assert.Equal(content, await client.GetByteArrayAsync("/api/v1/storages/personal/download?path=runs/2026/data.txt"));
        await StorageApi.AssertDownloadAsync(client, "personal", "runs/2026/data.txt", content);

        Assert.Equal(HttpStatusCode.Created, (await StorageApi.PostJsonAsync(client, "personal", "copy", new { from = "runs", to = "runs-copy" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await StorageApi.PostJsonAsync(client, "personal", "move", new { from = "runs-copy/2026/data.txt", to = "renamed.txt" })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await StorageApi.PostJsonAsync(client, "personal", "move", new { from = "runs", to = "renamed.txt" })).StatusCode);
        Assert.Equal(["runs", "runs-copy", "renamed.txt"], await StorageApi.NamesAsync(client, "personal"));

        // A folder downloads as a zip archive with its tree.
        var zipBytes = await client.GetByteArrayAsync("/api/v1/storages/personal/download?path=runs");
        using (var zip = new ZipArchive(new MemoryStream(zipBytes)))
        {
            var file = zip.GetEntry("2026/data.txt")!;
            using var reader = new StreamReader(file.Open());
            Assert.Equal("spectrum 1\nspectrum 2\n", await reader.ReadToEndAsync());
        }

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync("/api/v1/storages/personal/files?path=runs")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync("/api/v1/storages/personal/files?path=runs")).StatusCode);
        Assert.Equal(["runs-copy", "renamed.txt"], await StorageApi.NamesAsync(client, "personal"));

        // Sorting: by size, largest first, folders still first.
        await StorageApi.UploadAsync(client, "personal", "big.bin", new byte[1000]);
        Assert.Equal(["runs-copy", "big.bin", "renamed.txt"],
            (await client.GetFromJsonAsync<JsonObject>("/api/v1/storages/personal/files?sort=size&order=desc"))!["entries"]!.AsArray().Select(e => (string)e!["name"]!));

        // Someone else's personal folder is their own.
        var (other, _) = await NewUserAsync();
        Assert.Empty(await StorageApi.ListAsync(other, "personal"));
    }

    [Fact]
    public async Task MultipartUploadsStoreEachFileAndRefuseNamesWithSlashes()
    {
        var (client, name) = await NewUserAsync();
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent("one"u8.ToArray()), "files", "one.txt" },
            { new ByteArrayContent("two"u8.ToArray()), "files", "two.txt" },
        };
        var response = await client.PostAsync("/api/v1/storages/personal/files", form);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(["one.txt", "two.txt"], await StorageApi.NamesAsync(client, "personal"));

        foreach (var hostile in new[] { "../escape.txt", "sub/escape.txt", ".." })
        {
            using var bad = new MultipartFormDataContent();
            var part = new ByteArrayContent("x"u8.ToArray());
            part.Headers.ContentDisposition = new ContentDispositionHeaderValue("form-data") { Name = "\"files\"", FileName = $"\"{hostile}\"" };
            bad.Add(part);
            var refused = await client.PostAsync("/api/v1/storages/personal/files", bad);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.NotNull((await TaskApi.ProblemAsync(refused))["errors"]!["filename"]);
        }
        Assert.False(File.Exists(Path.Combine(PersonalFolder(name), "..", "escape.txt")));
        Assert.Equal(["one.txt", "two.txt"], await StorageApi.NamesAsync(client, "personal"));

        // The same name twice in one upload: the first part is kept, the second does not replace it.
        using var twice = new MultipartFormDataContent
        {
            { new ByteArrayContent("first"u8.ToArray()), "files", "same.txt" },
            { new ByteArrayContent("second"u8.ToArray()), "files", "same.txt" },
        };
        var duplicate = await client.PostAsync("/api/v1/storages/personal/files", twice);
        Assert.Equal(HttpStatusCode.BadRequest, duplicate.StatusCode);
        Assert.Contains("sent twice", (string)(await TaskApi.ProblemAsync(duplicate))["errors"]!["filename"]![0]!);
        Assert.Equal("first", await File.ReadAllTextAsync(Path.Combine(PersonalFolder(name), "same.txt")));
    }

    [Theory]
    [InlineData("..")]
    [InlineData("../x")]
    [InlineData("..%2F..%2Fetc")]
    [InlineData("%2e%2e%2f%2e%2e%2fx")]
    [InlineData("%2E%2E/x")]
    [InlineData("a/../../x")]
    [InlineData("/etc/passwd")]
    [InlineData("%2Fetc%2Fpasswd")]
    [InlineData("a%00b")]
    [InlineData("a%0Ab")]
    [InlineData("a%1Bb")]
    [InlineData("a%5C..%5Cb")]
    public async Task TraversalInEverySpellingIsA400AndWritesNothing(string rawPath)
    {
        var (client, name) = await NewUserAsync();
        var before = Entries();
        var requests = new Func<Task<HttpResponseMessage>>[]
        {
            () => client.GetAsync($"/api/v1/storages/personal/files?path={rawPath}"),
            () => client.GetAsync($"/api/v1/storages/personal/download?path={rawPath}"),
            () => client.PutAsync($"/api/v1/storages/personal/files?path={rawPath}", new ByteArrayContent("x"u8.ToArray())),
            () => client.DeleteAsync($"/api/v1/storages/personal/files?path={rawPath}"),
        };
        foreach (var request in requests)
        {
            var response = await request();
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.NotNull((await TaskApi.ProblemAsync(response))["errors"]!["path"]);
        }
        var moved = await StorageApi.PostJsonAsync(client, "personal", "folders", new { path = Uri.UnescapeDataString(rawPath) });
        Assert.Equal(HttpStatusCode.BadRequest, moved.StatusCode);
        // Nothing anywhere in the data directory: the path is refused before the storage is even opened
        // (which would make the user's own folder on first use).
        var added = Entries().Except(before).Where(e => !e.EndsWith("-wal") && !e.EndsWith("-shm")).ToList();
        Assert.Empty(added);
    }

    private HashSet<string> Entries() => Directory.GetFileSystemEntries(App.DataDirectory, "*", SearchOption.AllDirectories).ToHashSet();

    [Fact]
    public async Task AnEncodedTraversalIsDecodedOnceSoADoubleEncodedOneIsJustAName()
    {
        var (client, name) = await NewUserAsync();
        var put = await client.PutAsync("/api/v1/storages/personal/files?path=%252e%252e%252fx", new ByteArrayContent("x"u8.ToArray()));
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.True(File.Exists(Path.Combine(PersonalFolder(name), "%2e%2e%2fx")));
    }

    [Fact]
    public async Task LinksPlantedInTheFolderNeverLeadOut()
    {
        var (client, name) = await NewUserAsync();
        await StorageApi.UploadAsync(client, "personal", "mine.txt", "mine"u8.ToArray());
        var outside = Path.Combine(App.DataDirectory, "outside-" + name);
        Directory.CreateDirectory(outside);
        File.WriteAllText(Path.Combine(outside, "secret.txt"), "secret");
        // What a task could do through its bind mount.
        File.CreateSymbolicLink(Path.Combine(PersonalFolder(name), "escape"), outside);
        File.CreateSymbolicLink(Path.Combine(PersonalFolder(name), "db"), Path.Combine(App.DataDirectory, "rosetta.db"));

        foreach (var url in new[] { "files?path=escape", "download?path=escape/secret.txt", "download?path=db", "download?path=escape" })
        {
            var response = await client.GetAsync($"/api/v1/storages/personal/{url}");
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("outside the storage", (string?)(await TaskApi.ProblemAsync(response))["detail"]);
        }
        Assert.Equal(HttpStatusCode.BadRequest, (await StorageApi.PutAsync(client, "personal", "escape/new.txt", "x"u8.ToArray())).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await StorageApi.PostJsonAsync(client, "personal", "copy", new { from = "db", to = "stolen.db" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await StorageApi.PostJsonAsync(client, "personal", "move", new { from = "mine.txt", to = "escape/mine.txt" })).StatusCode);
        Assert.Equal(["secret.txt"], Directory.GetFiles(outside).Select(Path.GetFileName));

        // The links are listed as links, and deleting one removes the link only.
        var listed = await StorageApi.ListAsync(client, "personal");
        Assert.Equal("link", (string?)listed.Single(e => (string?)e!["name"] == "escape")!["kind"]);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync("/api/v1/storages/personal/files?path=escape")).StatusCode);
        Assert.True(File.Exists(Path.Combine(outside, "secret.txt")));
    }

    [Fact]
    public async Task AnotherUsersStorageIsA404EverywhereAndNotListed()
    {
        using var admin = App.Client(await App.AdminTokenAsync());
        var folder = Path.Combine(App.DataDirectory, "admin-only");
        var created = await admin.PostAsJsonAsync("/api/v1/storages", new { name = "Admin only", kind = "local", basePath = folder, bindPath = "/storages/admin-only" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (string)(await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
        await StorageApi.UploadAsync(admin, id, "private.txt", "private"u8.ToArray());

        var (client, _) = await NewUserAsync();
        Assert.DoesNotContain((await client.GetFromJsonAsync<JsonArray>("/api/v1/storages"))!, s => (string?)s!["id"] == id);
        var responses = new[]
        {
            await client.GetAsync($"/api/v1/storages/{id}"),
            await client.GetAsync($"/api/v1/storages/{id}/files"),
            await client.GetAsync($"/api/v1/storages/{id}/download?path=private.txt"),
            await StorageApi.PutAsync(client, id, "x.txt", "x"u8.ToArray()),
            await client.DeleteAsync($"/api/v1/storages/{id}/files?path=private.txt"),
            await StorageApi.PostJsonAsync(client, id, "folders", new { path = "x" }),
        };
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.NotFound, r.StatusCode));
        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync($"/api/v1/storages/{id}")).StatusCode);
        Assert.Equal(["private.txt"], Directory.GetFiles(folder).Select(Path.GetFileName));

        // Platform-wide storages are removed by admins only; removing one keeps its files.
        Assert.Equal(HttpStatusCode.Forbidden, (await client.DeleteAsync("/api/v1/storages/shared")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/storages/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/api/v1/storages/{id}")).StatusCode);
        Assert.True(File.Exists(Path.Combine(folder, "private.txt")));
    }

    [Fact]
    public async Task AStorageIsEditedByWhoMayAndWhatItIsStaysFixed()
    {
        using var admin = App.Client(await App.AdminTokenAsync());
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var folder = Path.Combine(App.DataDirectory, "editable-" + suffix);
        var created = await admin.PostAsJsonAsync("/api/v1/storages", new { name = "Editable", kind = "local", basePath = folder, bindPath = $"/storages/e-{suffix}" });
        var id = (string)(await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
        await StorageApi.UploadAsync(admin, id, "kept.txt", "kept"u8.ToArray());

        // Omitted fields stay; the new flags apply to the very next request.
        var edited = await admin.PutAsJsonAsync($"/api/v1/storages/{id}", new { name = $"Reference data {suffix}", readOnly = true, bindPath = $"/storages/ref-{suffix}" });
        Assert.Equal(HttpStatusCode.OK, edited.StatusCode);
        var dto = (await edited.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal($"Reference data {suffix}", (string?)dto["name"]);
        Assert.Equal($"/storages/ref-{suffix}", (string?)dto["bindPath"]);
        Assert.True((bool)dto["readOnly"]!);
        Assert.Equal(HttpStatusCode.Forbidden, (await StorageApi.PutAsync(admin, id, "new.txt", "x"u8.ToArray())).StatusCode);
        Assert.Equal("kept", await admin.GetStringAsync($"/api/v1/storages/{id}/download?path=kept.txt"));

        // What the storage is cannot change, and bad values are named per field.
        var refused = await admin.PutAsJsonAsync($"/api/v1/storages/{id}", new { kind = "sftp", computing = "demo-ssh", bindPath = "/etc/x", name = "" });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var errors = (await TaskApi.ProblemAsync(refused))["errors"]!.AsObject();
        Assert.Equal(["bindPath", "computing", "kind", "name"], errors.Select(e => e.Key).Order());
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PutAsJsonAsync($"/api/v1/storages/{id}", new { bindPath = "/storages/shared" })).StatusCode);

        // Its owner, once no longer an admin, keeps it but cannot point it at another folder of the host.
        var storages = App.Services.GetRequiredService<Rosetta.Core.Storages.StorageService>();
        var ownerId = (await storages.FindAsync(new Rosetta.Core.Domain.Caller("nobody", IsAdmin: true), id, CancellationToken.None))!.OwnerId!;
        var demoted = new Rosetta.Core.Domain.Caller(ownerId, IsAdmin: false);
        var repoint = await Assert.ThrowsAsync<Rosetta.Core.Validation.ValidationException>(() =>
            storages.UpdateAsync(demoted, id, new Rosetta.Core.Storages.StorageDraft(null, null, null, null, "/etc", null, null, null, null), CancellationToken.None));
        Assert.Contains("only admins", repoint.Errors.ToDictionary()["basePath"][0]);
        Assert.Equal("Renamed", (await storages.UpdateAsync(demoted, id, new Rosetta.Core.Storages.StorageDraft(null, "Renamed", null, null, null, null, null, null, null), CancellationToken.None))!.Name);

        // Another user does not see it; a user may not change a platform-wide storage.
        var (client, _) = await NewUserAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await client.PutAsJsonAsync($"/api/v1/storages/{id}", new { name = "Mine" })).StatusCode);
        var forbidden = await client.PutAsJsonAsync("/api/v1/storages/shared", new { readOnly = false });
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Contains("admins", (string?)(await TaskApi.ProblemAsync(forbidden))["detail"]);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/storages/{id}")).StatusCode);
    }

    [Fact]
    public async Task UsersCannotAddFoldersOfThePlatformHostOrStoragesForEveryone()
    {
        var (client, _) = await NewUserAsync();
        var response = await client.PostAsJsonAsync("/api/v1/storages", new { name = "Root", kind = "local", basePath = "/", bindPath = "/storages/root", platformWide = true });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await TaskApi.ProblemAsync(response))["errors"]!;
        Assert.NotNull(errors["kind"]);
        Assert.NotNull(errors["platformWide"]);

        using var admin = App.Client(await App.AdminTokenAsync());
        var bad = await admin.PostAsJsonAsync("/api/v1/storages", new { name = "Bad", kind = "local", basePath = "/data/../etc", bindPath = "/etc/x" });
        var badErrors = (await TaskApi.ProblemAsync(bad))["errors"]!;
        Assert.NotNull(badErrors["basePath"]);
        Assert.NotNull(badErrors["bindPath"]);

        // Not the whole host, and not a file: either would answer every listing (and every task's launch) with an error.
        var file = Path.Combine(App.DataDirectory, "not-a-folder.txt");
        await File.WriteAllTextAsync(file, "x");
        foreach (var basePath in new[] { "/", "//", file })
        {
            var refused = await admin.PostAsJsonAsync("/api/v1/storages", new { name = "Bad", kind = "local", basePath, bindPath = "/storages/bad" });
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.NotNull((await TaskApi.ProblemAsync(refused))["errors"]!["basePath"]);
        }
    }

    /// <summary>
    /// An admin's per-user storage inside another writable storage's folder, outside the platform's storage folder:
    /// a task with the outer one bound can swap the inner one's folder for a link (to its own folder, where it would
    /// read what the other user uploads). Opened through a link planted there, it is refused; a plain folder, or a
    /// link inside a read-only storage (the host's own, managed outside the platform), opens.
    /// </summary>
    [Fact]
    public async Task AStorageInsideAnotherWritableStoragesFolderIsNotOpenedThroughALinkATaskPlanted()
    {
        using var admin = App.Client(await App.AdminTokenAsync());
        var (client, user) = await NewUserAsync();
        var lab = Directory.CreateTempSubdirectory("rosetta-lab-").FullName;
        var elsewhere = Directory.CreateTempSubdirectory("rosetta-elsewhere-").FullName;
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var ids = new List<string>();
        async Task<string> AddAsync(string basePath, bool readOnly)
        {
            var created = await admin.PostAsJsonAsync("/api/v1/storages", new { name = $"Lab {ids.Count}", kind = "local", basePath, bindPath = $"/storages/lab-{suffix}-{ids.Count}", platformWide = true, readOnly });
            Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
            ids.Add((string)(await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!);
            return ids[^1];
        }
        try
        {
            var outer = await AddAsync(lab, readOnly: false);
            var inner = await AddAsync(Path.Combine(lab, "$USER", "inner"), readOnly: false);
            Assert.Empty(await StorageApi.ListAsync(client, inner)); // a plain folder: made and opened

            // A task with the outer storage bound turns the user's folder into a link to a place of its choosing.
            Directory.Delete(Path.Combine(lab, user), recursive: true);
            Directory.CreateDirectory(Path.Combine(elsewhere, "inner"));
            await File.WriteAllTextAsync(Path.Combine(elsewhere, "inner", "planted.txt"), "x");
            File.CreateSymbolicLink(Path.Combine(lab, user), elsewhere);
            var refused = await client.GetAsync($"/api/v1/storages/{inner}/files");
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Contains($"passes through a symbolic link inside {lab}, which a task may have made", (string?)(await TaskApi.ProblemAsync(refused))["detail"]);
            var upload = await StorageApi.PutAsync(client, inner, "secret.txt", "mine"u8.ToArray());
            Assert.Equal(HttpStatusCode.Forbidden, upload.StatusCode);
            Assert.False(File.Exists(Path.Combine(elsewhere, "inner", "secret.txt")));

            // The outer storage read-only, tasks cannot have made that link: it is the host's own.
            Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/api/v1/storages/{outer}", new { readOnly = true })).StatusCode);
            Assert.Equal(["planted.txt"], await StorageApi.NamesAsync(client, inner));
        }
        finally
        {
            foreach (var id in ids) await admin.DeleteAsync($"/api/v1/storages/{id}");
            Directory.Delete(lab, recursive: true);
            Directory.Delete(elsewhere, recursive: true);
        }
    }

    /// <summary>
    /// Folders of the platform host that would show the platform's key ring or database, or one user's
    /// personal folder to others, are refused, admins' storages too.
    /// </summary>
    [Fact]
    public async Task NoStorageShowsThePlatformsOwnFilesOrAnotherUsersPersonalFolder()
    {
        using var admin = App.Client(await App.AdminTokenAsync());
        var root = App.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Rosetta.Core.Storages.StorageOptions>>().Value.Root;
        var (someoneClient, someone) = await NewUserAsync();
        var keysLink = Path.Combine(Path.GetTempPath(), "keys-link-" + Guid.NewGuid().ToString("N")[..6]);
        File.CreateSymbolicLink(keysLink, Path.Combine(App.DataDirectory, "keys"));
        try
        {
            foreach (var (basePath, expected) in new[]
            {
                (App.DataDirectory, "platform's own files"),
                (Path.Combine(App.DataDirectory, "keys"), "platform's own files"),
                (keysLink + "/$USER", "platform's own files"), // a link is looked through
                (Path.GetDirectoryName(App.DataDirectory)!, "platform's own files"),
                (root, "holds every user's personal folder"),
                (Path.Combine(root, "users"), "holds every user's personal folder"),
                (Path.Combine(root, "users", someone), "lies in another user's personal folder"),
                (Path.Combine(root, "users", someone, "projects"), "lies in another user's personal folder"),
            })
            {
                var refused = await admin.PostAsJsonAsync("/api/v1/storages", new { name = "Exposing", kind = "local", basePath, bindPath = "/storages/exposing", platformWide = true });
                Assert.True(refused.StatusCode == HttpStatusCode.BadRequest, $"{basePath}: {refused.StatusCode}");
                Assert.Contains(expected, (string?)(await TaskApi.ProblemAsync(refused))["errors"]!["basePath"]![0]);
            }

            // A folder per user inside each one's personal folder is theirs alone: fine.
            var projects = await admin.PostAsJsonAsync("/api/v1/storages", new { name = "Projects", kind = "local", basePath = Path.Combine(root, "users", "$USER", "projects"), bindPath = "/storages/projects", platformWide = true });
            Assert.Equal(HttpStatusCode.Created, projects.StatusCode);
            var id = (string)(await projects.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
            Assert.Empty(await StorageApi.ListAsync(someoneClient, id));
            // A task of theirs can swap that folder (in their personal one) for a link to the key ring: it is
            // checked as it is when opened, not only as it was when saved.
            var projectsFolder = Path.Combine(root, "users", someone, "projects");
            Directory.Delete(projectsFolder);
            File.CreateSymbolicLink(projectsFolder, Path.Combine(App.DataDirectory, "keys"));
            var swapped = await someoneClient.GetAsync($"/api/v1/storages/{id}/files");
            Assert.Equal(HttpStatusCode.Forbidden, swapped.StatusCode);
            Assert.Contains("passes through a symbolic link", (string?)(await TaskApi.ProblemAsync(swapped))["detail"]);
            File.Delete(projectsFolder);
            // Moving an existing storage there is refused the same way.
            var moved = await admin.PutAsJsonAsync($"/api/v1/storages/{id}", new { basePath = Path.Combine(root, "users") });
            Assert.Equal(HttpStatusCode.BadRequest, moved.StatusCode);
            Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/storages/{id}")).StatusCode);
        }
        finally
        {
            File.Delete(keysLink);
        }
    }

    /// <summary>Bodies that say multipart and are not (cut short, no closing boundary, malformed part headers): a 400, not a 500.</summary>
    [Theory]
    [InlineData("this is not multipart")]
    [InlineData("")]
    [InlineData("--X\r\nContent-Disposition: form-data; name=\"f\"; filename=\"u.txt\"\r\n\r\nabc")]
    [InlineData("--X\r\nbadheaderline\r\n\r\nabc\r\n--X--\r\n")]
    public async Task AMalformedMultipartBodyGets400AndLeavesNothing(string body)
    {
        var (client, name) = await NewUserAsync();
        var content = new StringContent(body);
        content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse("multipart/form-data; boundary=X");
        var response = await client.PostAsync("/api/v1/storages/personal/files", content);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.NotNull((await TaskApi.ProblemAsync(response))["errors"]!["body"]);
        Assert.Empty(await StorageApi.NamesAsync(client, "personal"));
        Assert.Empty(Directory.GetFileSystemEntries(PersonalFolder(name)));
    }

    [Fact]
    public async Task ReadOnlyStoragesAreBrowsableAndRefuseEveryWrite()
    {
        var folder = Path.Combine(App.DataDirectory, "reference-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "catalogue.csv"), "ra,dec\n");
        using var admin = App.Client(await App.AdminTokenAsync());
        var created = await admin.PostAsJsonAsync("/api/v1/storages", new
        {
            name = "Reference data", kind = "local", basePath = folder, bindPath = "/storages/" + Path.GetFileName(folder), readOnly = true, platformWide = true,
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (string)(await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;

        var (client, _) = await NewUserAsync();
        Assert.Equal(["catalogue.csv"], await StorageApi.NamesAsync(client, id));
        Assert.Equal("ra,dec\n", await client.GetStringAsync($"/api/v1/storages/{id}/download?path=catalogue.csv"));
        var writes = new[]
        {
            await StorageApi.PutAsync(client, id, "new.txt", "x"u8.ToArray()),
            await StorageApi.PutAsync(client, id, "catalogue.csv", "x"u8.ToArray()),
            await client.DeleteAsync($"/api/v1/storages/{id}/files?path=catalogue.csv"),
            await StorageApi.PostJsonAsync(client, id, "folders", new { path = "x" }),
            await StorageApi.PostJsonAsync(client, id, "move", new { from = "catalogue.csv", to = "moved.csv" }),
            await StorageApi.PostJsonAsync(client, id, "copy", new { from = "catalogue.csv", to = "copied.csv" }),
        };
        foreach (var response in writes)
        {
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Contains("read-only", (string?)(await TaskApi.ProblemAsync(response))["detail"]);
        }
        Assert.Equal(["catalogue.csv"], Directory.GetFileSystemEntries(folder).Select(Path.GetFileName));
        Assert.Equal("ra,dec\n", File.ReadAllText(Path.Combine(folder, "catalogue.csv")));
    }

    [Fact]
    public async Task UsageSaysWhatCountsAgainstTheQuota()
    {
        var (client, name) = await NewUserAsync();
        Assert.Equal((0L, StorageFixture.Quota), await UsageAsync(client, "personal"));
        await StorageApi.UploadAsync(client, "personal", "a.bin", new byte[1000]);
        await StorageApi.UploadAsync(client, "personal", "deep/er/b.bin", new byte[500]);
        File.WriteAllBytes(Path.Combine(PersonalFolder(name), "from-a-task.bin"), new byte[20]); // what tasks write counts too
        Assert.Equal((1520L, StorageFixture.Quota), await UsageAsync(client, "personal"));
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/v1/storages/someone-elses/usage")).StatusCode);
    }

    private static async Task<(long? Used, long? Quota)> UsageAsync(HttpClient client, string storage)
    {
        var usage = (await client.GetFromJsonAsync<System.Text.Json.Nodes.JsonObject>($"/api/v1/storages/{storage}/usage"))!;
        return ((long?)usage["usedBytes"], (long?)usage["quotaBytes"]);
    }

    [Fact]
    public async Task UploadLimitAndQuotaAreClear413sAndLeaveNothingBehind()
    {
        var (client, name) = await NewUserAsync();
        var tooBig = await StorageApi.PutAsync(client, "personal", "huge.bin", new byte[StorageFixture.MaxUpload + 1]);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBig.StatusCode);
        Assert.Contains("larger than the maximum", (string?)(await TaskApi.ProblemAsync(tooBig))["detail"]);

        await StorageApi.UploadAsync(client, "personal", "first.bin", new byte[160_000]);
        var overQuota = await StorageApi.PutAsync(client, "personal", "second.bin", new byte[160_000]);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, overQuota.StatusCode);
        Assert.Contains("quota", (string?)(await TaskApi.ProblemAsync(overQuota))["detail"]);
        var copy = await StorageApi.PostJsonAsync(client, "personal", "copy", new { from = "first.bin", to = "again.bin" });
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, copy.StatusCode);

        // Without a Content-Length the limit is enforced on the bytes as they arrive.
        var chunked = new StreamContent(new MemoryStream(new byte[160_000]));
        chunked.Headers.ContentLength = null;
        var request = new HttpRequestMessage(HttpMethod.Put, "/api/v1/storages/personal/files?path=chunked.bin") { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await client.SendAsync(request)).StatusCode);

        Assert.Equal(["first.bin"], Directory.GetFileSystemEntries(PersonalFolder(name)).Select(Path.GetFileName));

        // Replacing a file counts only what it adds: 160,000 bytes in 300,000 of quota, replaced by 190,000.
        Assert.Equal(HttpStatusCode.Created, (await StorageApi.PutAsync(client, "personal", "first.bin", new byte[190_000])).StatusCode);
        var replacedChunked = new StreamContent(new MemoryStream(new byte[195_000]));
        replacedChunked.Headers.ContentLength = null;
        var replacing = new HttpRequestMessage(HttpMethod.Put, "/api/v1/storages/personal/files?path=first.bin") { Content = replacedChunked };
        replacing.Headers.TransferEncodingChunked = true;
        Assert.Equal(HttpStatusCode.Created, (await client.SendAsync(replacing)).StatusCode);
        Assert.Equal(195_000, new FileInfo(Path.Combine(PersonalFolder(name), "first.bin")).Length);
    }

    [Fact]
    public async Task NamesKeptForUploadsInProgressAndPathsPastTheSystemsLimitAreClear400s()
    {
        var (client, name) = await NewUserAsync();
        // Such names are hidden from listings and from the quota: a way around the quota if allowed.
        var reserved = await StorageApi.PutAsync(client, "personal", ".rosetta-upload-1", new byte[100]);
        Assert.Equal(HttpStatusCode.BadRequest, reserved.StatusCode);
        Assert.Contains("uploads in progress", (string?)(await TaskApi.ProblemAsync(reserved))["detail"]);
        Assert.Equal(HttpStatusCode.BadRequest, (await StorageApi.PostJsonAsync(client, "personal", "folders", new { path = "a/.rosetta-upload-x" })).StatusCode);

        // Sixteen names of 255 bytes: each is fine, together they pass PATH_MAX.
        var deep = string.Join('/', Enumerable.Range(0, 16).Select(i => new string((char)('a' + i), 255)));
        var tooLong = await StorageApi.PostJsonAsync(client, "personal", "folders", new { path = deep });
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
        Assert.Contains("too long", (string?)(await TaskApi.ProblemAsync(tooLong))["detail"]);
        Assert.Equal(HttpStatusCode.BadRequest, (await StorageApi.PutAsync(client, "personal", deep, "x"u8.ToArray())).StatusCode);

        Assert.Empty(Directory.GetFileSystemEntries(PersonalFolder(name))); // nothing made on the way

        // A copy whose deepest file would pass the limit, although the target itself is short enough.
        var levels = string.Join('/', Enumerable.Range(0, 12).Select(i => new string((char)('a' + i), 255)));
        await StorageApi.UploadAsync(client, "personal", $"s/{levels}/f", "x"u8.ToArray());
        var far = string.Join('/', Enumerable.Range(0, 4).Select(i => new string((char)('m' + i), 255)));
        Assert.Equal(HttpStatusCode.Created, (await StorageApi.PostJsonAsync(client, "personal", "folders", new { path = far })).StatusCode);
        var copy = await StorageApi.PostJsonAsync(client, "personal", "copy", new { from = "s", to = $"{far}/copy" });
        Assert.Equal(HttpStatusCode.BadRequest, copy.StatusCode);
        Assert.Contains("longer than the system allows", (string?)(await TaskApi.ProblemAsync(copy))["detail"]);
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine([PersonalFolder(name), .. far.Split('/')])));
    }

    [Fact]
    public async Task UploadsSideBySideCannotTogetherPassTheQuota()
    {
        var (client, name) = await NewUserAsync();
        // The first upload sends half its bytes and waits: it is in flight, under a hidden name.
        var release = new TaskCompletionSource();
        var halfway = new TaskCompletionSource();
        var first = client.PutAsync("/api/v1/storages/personal/files?path=first.bin", new PausedContent(160_000, halfway, release.Task));
        await halfway.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await StorageApi.WaitUntilAsync(() => StorageApi.UploadsInProgress(PersonalFolder(name)).Length == 1, "the first upload to be written");

        var second = await StorageApi.PutAsync(client, "personal", "second.bin", new byte[160_000]);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, second.StatusCode);
        Assert.Contains("quota", (string?)(await TaskApi.ProblemAsync(second))["detail"]);

        release.SetResult();
        Assert.Equal(HttpStatusCode.Created, (await first).StatusCode);
        Assert.Equal(["first.bin"], Directory.GetFileSystemEntries(PersonalFolder(name)).Select(Path.GetFileName));
        // Once it is stored, what is left is what the quota says.
        Assert.Equal(HttpStatusCode.Created, (await StorageApi.PutAsync(client, "personal", "small.bin", new byte[1_000])).StatusCode);
    }

    /// <summary>
    /// An upload of unknown length (chunked, or a part of a form) held all that was left of the quota while
    /// it ran, so every other upload into the storage was refused as if it were full.
    /// </summary>
    [Fact]
    public async Task AnUploadOfUnknownLengthHoldsWhatItReceivedNotTheWholeQuota()
    {
        var (client, name) = await NewUserAsync();
        var release = new TaskCompletionSource();
        var halfway = new TaskCompletionSource();
        var first = client.PutAsync("/api/v1/storages/personal/files?path=streamed.bin", new PausedContent(100_000, halfway, release.Task, chunked: true));
        await halfway.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await StorageApi.WaitUntilAsync(() => StorageApi.UploadsInProgress(PersonalFolder(name)).Length == 1, "the streamed upload to be written");

        // Room is left beside it (300,000 bytes of quota, 50,000 received): another upload goes in.
        Assert.Equal(HttpStatusCode.Created, (await StorageApi.PutAsync(client, "personal", "beside.bin", new byte[100_000])).StatusCode);
        release.SetResult();
        Assert.Equal(HttpStatusCode.Created, (await first).StatusCode);
        Assert.Equal(["beside.bin", "streamed.bin"], Directory.GetFileSystemEntries(PersonalFolder(name)).Select(Path.GetFileName).Order());

        // One that grows past what is left is refused when it does, saying so, and leaves nothing.
        var over = new StreamContent(new MemoryStream(new byte[150_000]));
        over.Headers.ContentLength = null;
        var request = new HttpRequestMessage(HttpMethod.Put, "/api/v1/storages/personal/files?path=over.bin") { Content = over };
        request.Headers.TransferEncodingChunked = true;
        var refused = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
        Assert.Contains("the upload passed the 97.7 KiB its storage had left", (string?)(await TaskApi.ProblemAsync(refused))["detail"]);
        Assert.Equal(["beside.bin", "streamed.bin"], Directory.GetFileSystemEntries(PersonalFolder(name)).Select(Path.GetFileName).Order());
    }

    /// <summary>
    /// The credit of a file being replaced is settled as it is replaced: moved away meanwhile (another request
    /// of the same user), it gives nothing back, and the upload must then fit on its own.
    /// </summary>
    [Fact]
    public async Task AReplacedFileMovedAwayDuringTheUploadGivesNoCredit()
    {
        var (client, name) = await NewUserAsync();
        await StorageApi.UploadAsync(client, "personal", "x.bin", new byte[150_000]);
        await StorageApi.UploadAsync(client, "personal", "z.bin", new byte[100_000]); // 50,000 of 300,000 left
        var release = new TaskCompletionSource();
        var halfway = new TaskCompletionSource();
        var replacing = client.PutAsync("/api/v1/storages/personal/files?path=x.bin", new PausedContent(150_000, halfway, release.Task));
        await halfway.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await StorageApi.WaitUntilAsync(() => StorageApi.UploadsInProgress(PersonalFolder(name)).Length == 1, "the replacing upload to be written");

        Assert.Equal(HttpStatusCode.OK, (await StorageApi.PostJsonAsync(client, "personal", "move", new { from = "x.bin", to = "y.bin" })).StatusCode);
        release.SetResult();
        var refused = await replacing;
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
        Assert.Contains("quota", (string?)(await TaskApi.ProblemAsync(refused))["detail"]);
        Assert.Equal(["y.bin", "z.bin"], Directory.GetFileSystemEntries(PersonalFolder(name)).Select(Path.GetFileName).Order());
    }

    /// <summary>A body of known length that stops halfway until released.</summary>
    private sealed class PausedContent(int length, TaskCompletionSource halfway, Task release, bool chunked = false) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            await stream.WriteAsync(new byte[length / 2]);
            await stream.FlushAsync();
            halfway.TrySetResult();
            await release;
            await stream.WriteAsync(new byte[length - length / 2]);
        }

        protected override bool TryComputeLength(out long computed)
        {
            computed = length;
            return !chunked;
        }
    }

    [Fact]
    public async Task AnUploadCutOffHalfwayLeavesNoFileAndKeepsTheOldOne()
    {
        var (client, name) = await NewUserAsync();
        await StorageApi.UploadAsync(client, "personal", "result.bin", new byte[1000]);
        var token = client.DefaultRequestHeaders.Authorization!.Parameter;

        var folder = PersonalFolder(name);
        // A client that promises 150 kB, sends 60 kB and goes away once the platform is writing them.
        await StorageApi.AbortUploadHalfwayAsync(App.BaseAddress, token!, "personal", "result.bin", 150_000, 60_000,
            () => StorageApi.UploadsInProgress(folder).Length == 1);

        await StorageApi.WaitUntilAsync(() => StorageApi.UploadsInProgress(folder).Length == 0, "the temporary file of the cut-off upload is removed");
        Assert.Equal(["result.bin"], Directory.GetFiles(folder).Select(Path.GetFileName));
        Assert.Equal(1000, new FileInfo(Path.Combine(folder, "result.bin")).Length);
    }
}

/// <summary>A form post carries the user's cookie from any same-site page: cookie uploads must come from the dashboard's own origin.</summary>
public sealed class StorageCookieUploadTests(StorageFixture fixture) : IClassFixture<StorageFixture>
{
    [Fact]
    public async Task CookieUploadsFromAnotherOriginAreRefused()
    {
        var name = "ck" + Guid.NewGuid().ToString("N")[..8];
        (await fixture.App.NewUserClientAsync(name)).Dispose();
        using var browser = new BrowserLikeClient(fixture.App.BaseAddress);
        await browser.LogInAsync(fixture.App.BaseAddress, name, "password-" + name);
        var dashboardToken = await fixture.App.DashboardTokenAsync(name);

        async Task<HttpResponseMessage> PostAsync(string? origin)
        {
            var form = new MultipartFormDataContent { { new ByteArrayContent("x"u8.ToArray()), "files", $"from-{origin?.Length ?? 0}.txt" } };
            var request = new HttpRequestMessage(HttpMethod.Post, new Uri(fixture.App.BaseAddress, "/api/v1/storages/personal/files?dashboardToken=" + dashboardToken)) { Content = form };
            if (origin is not null) request.Headers.Add("Origin", origin);
            return await browser.SendAsync(request);
        }

        var foreign = await PostAsync("http://evil.tasks.localhost:" + fixture.App.BaseAddress.Port);
        Assert.Equal(HttpStatusCode.Forbidden, foreign.StatusCode);
        Assert.Contains("Bearer", (string?)(await TaskApi.ProblemAsync(foreign))["detail"]);
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync(null)).StatusCode);
        var own = await PostAsync(fixture.App.BaseAddress.GetLeftPart(UriPartial.Authority));
        Assert.Equal(HttpStatusCode.Created, own.StatusCode);
        Assert.Equal(["from-" + fixture.App.BaseAddress.GetLeftPart(UriPartial.Authority).Length + ".txt"],
            Directory.GetFiles(Path.Combine(fixture.StorageRoot, "users", name)).Select(Path.GetFileName));
    }
}
