using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Integration;

/// <summary>
/// Every operation of the REST API, as its own OpenAPI document lists them, called with what a user could type
/// or a client could send wrong: hostile path segments and query values, malformed JSON, wrong types, overlong,
/// control and unpaired-surrogate strings in every body field. None may answer 500: bad input gets a 4xx that
/// says what to fix. Its own platform, so whatever such a call happens to create stays there.
/// </summary>
[Collection("resilience")]
public sealed class HostileInputSweepTests
{
    /// <summary>Strings a form field or a script could send. Each has a character no host name may hold.</summary>
    private static readonly string[] Texts =
    [
        "", " ", "../../../etc/passwd", "..%2f..%2fetc%2fpasswd", "/etc/passwd", "a\u0000b", "\u0001\u001f\u007f", "x;rm -rf / #",
        "$(id)", "`id`", "'\"", "<script>alert(1)</script>", new('a', 5000), "💥\u202e‮", "%00", "C:\\Windows\\system32", "a/b",
        "\\\\server\\share", "-rf x", "\u2028\u2029 x", "ﬁ ǅ İ x",
    ];

    /// <summary>Texts that a path segment or query can carry (an unpaired surrogate has no UTF-8 form to escape).</summary>
    private static readonly string[] PathTexts = [.. Texts.Where(t => t.Length > 0), "..", ".", "%", "%2e%2e", "~root", "a b", "😀\ud83d"[..2]];

    /// <summary>JSON values of every type, out of range or of the wrong kind for whatever field gets them.</summary>
    private static readonly string[] Values =
    [
        "-1", "0", "2147483648", "-9223372036854775809", "1e308", "1e400", "1.5", "-0.0", "true", "null", "[]", "{}", "[[[]]]", "{\"a\":{\"b\":1}}",
        "\"\\ud800\"", "\"\\udfff x\"", "\"NaN\"", "\"Infinity\"", "\"2026-13-45T99:99:99Z\"", "\"P1Y\"",
    ];

    /// <summary>Bodies that are not the JSON object an endpoint reads.</summary>
    private static readonly string[] RawBodies =
    [
        "", "{", "}", "[]", "123", "\"text\"", "null", "{\"a\":", "{\"a\" 1}", "\u0000", "{'single': 'quotes'}", "<xml/>",
        new string('[', 5000) + new string(']', 5000), "{\"x\":" + new string('[', 100) + new string(']', 100) + "}", "\ufeff{}",
    ];

    [Fact]
    public async Task NoOperationAnswers500ToHostileInput()
    {
        await DockerEngine.EnsureAvailableAsync();
        await using var app = new RosettaAppFactory();
        try
        {
            using var admin = app.Client(await app.AdminTokenAsync());
            using var anonymous = app.Client();
            using var someone = await app.NewUserClientAsync(); // not an admin: the admins' calls are refused, not broken
            var doc = JsonNode.Parse(await admin.GetStringAsync("/openapi/v1.json"))!;
            var schemas = doc["components"]!["schemas"]!.AsObject();
            // Real objects of the admin's, so that bodies sent to /things/{id}/… reach the checks behind the lookup.
            var software = await CreatedIdAsync(admin, "/api/v1/software", new { name = "Sweep", image = "rosetta/hello", interfacePort = 8080 });
            var task = (string)(await TaskApi.StartAsync(admin, new { software = "hello", computing = "local" }))["id"]!;
            await TaskApi.WaitForStatusAsync(admin, task, "running"); // its interface answers, not the 503 of a starting task
            var share = await CreatedIdAsync(admin, $"/api/v1/tasks/{task}/shares", new { });
            var user = await CreatedIdAsync(admin, "/api/v1/users", new { username = "sweep-user", password = "sweep-password-1" });
            var apiToken = await CreatedIdAsync(anonymous, "/api/v1/tokens", new { username = "admin", password = RosettaAppFactory.AdminPassword, name = "sweep" });
            var real = new Dictionary<string, string>
            {
                ["/api/v1/tokens/"] = apiToken,
                ["/api/v1/software/"] = software, ["/api/v1/tasks/"] = task, ["/api/v1/storages/"] = "personal",
                ["/api/v1/computing/"] = "local", ["/api/v1/users/"] = user,
            };
            var failures = new List<string>();
            var calls = 0;
            // Per operation, whether some call of the admin's got past routing and the lookup (not 401, 404 or 405):
            // a sweep that only ever met those would pass without having checked anything.
            var reached = new Dictionary<string, bool>();
            string? operationKey = null;
            var nestedSwept = 0;

            async Task CallAsync(HttpClient client, HttpMethod method, string url, string? body, string contentType = "application/json")
            {
                calls++;
                using var request = new HttpRequestMessage(method, url);
                if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, contentType);
                HttpResponseMessage response;
                try
                {
                    response = await client.SendAsync(request);
                }
                catch (HttpRequestException e)
                {
                    failures.Add($"{method} {Shorten(url)} {Shorten(body)} → connection failed: {e.Message}");
                    return;
                }
                using (response)
                {
                    if (operationKey is not null && client == admin && (int)response.StatusCode is not (401 or 404 or 405)) reached[operationKey] = true;
                    if ((int)response.StatusCode >= 500)
                        failures.Add($"{method} {Shorten(url)} {Shorten(body)} → {(int)response.StatusCode} {Shorten(await response.Content.ReadAsStringAsync())}");
                }
            }

            foreach (var (template, item) in doc["paths"]!.AsObject())
            {
                if (!template.StartsWith("/api/", StringComparison.Ordinal)) continue;
                foreach (var (verb, operationNode) in item!.AsObject())
                {
                    var operation = operationNode!.AsObject();
                    var method = new HttpMethod(verb.ToUpperInvariant());
                    operationKey = $"{method} {template}";
                    reached.TryAdd(operationKey, false);
                    var parameters = operation["parameters"]?.AsArray().Select(p => p!).ToList() ?? [];
                    var pathNames = parameters.Where(p => (string?)p["in"] == "path").Select(p => (string)p["name"]!).ToList();
                    var queryNames = parameters.Where(p => (string?)p["in"] == "query").Select(p => (string)p["name"]!).ToList();
                    string Url(string? hostilePath, (string Name, string Value)? hostileQuery)
                    {
                        var path = template;
                        foreach (var name in pathNames) path = path.Replace($"{{{name}}}", Uri.EscapeDataString(hostilePath ?? "no-such-thing"));
                        return hostileQuery is { } q ? $"{path}?{q.Name}={Uri.EscapeDataString(q.Value)}" : path;
                    }

                    var bodyProperties = BodyProperties(operation, schemas);
                    var sampleBody = bodyProperties is null ? null : "{}";
                    foreach (var client in new[] { admin, anonymous, someone })
                    {
                        foreach (var text in PathTexts.Where(_ => pathNames.Count > 0)) await CallAsync(client, method, Url(text, null), sampleBody);
                        foreach (var name in queryNames)
                        foreach (var text in PathTexts.Append("-1").Append("99999999999999999999").Append("true"))
                            await CallAsync(client, method, Url(null, (Name: name, Value: text)), sampleBody);
                    }
                    var url = template.Replace("{shareId}", share);
                    foreach (var (prefix, id) in real)
                        if (url.StartsWith(prefix, StringComparison.Ordinal)) url = url.Replace("{id}", id);
                    Assert.DoesNotContain("{", url);
                    // As it is: a list, the key's rotation, a real object read or its engine tested (nothing deleted or stopped here).
                    if (bodyProperties is null && (method == HttpMethod.Get || (pathNames.Count == 0 && queryNames.Count == 0 && method != HttpMethod.Delete) || template.EndsWith("/test")))
                        await CallAsync(admin, method, url, null);
                    // Queries on a real object of the admin's, so that they reach the checks behind the lookup
                    // (a followed log would never end: not asked for).
                    if (pathNames.Count > 0)
                        foreach (var name in queryNames.Where(n => n != "follow"))
                        foreach (var text in PathTexts.Append("-1").Append("99999999999999999999").Append("true"))
                            await CallAsync(admin, method, $"{url}?{name}={Uri.EscapeDataString(text)}", sampleBody);
                    if (bodyProperties is null) continue;
                    Assert.NotEmpty(bodyProperties);
                    foreach (var raw in RawBodies) await CallAsync(admin, method, url, raw);
                    await CallAsync(admin, method, url, "{}", "text/plain");
                    var nested = NestedProperties(operation, schemas);
                    foreach (var value in Values.Concat(Texts.Select(t => JsonValue.Create(t).ToJsonString())))
                    {
                        await CallAsync(admin, method, url, "{" + string.Join(",", bodyProperties.Select(p => $"\"{p}\":{value}")) + "}");
                        foreach (var property in bodyProperties) await CallAsync(admin, method, url, $"{{\"{property}\":{value}}}");
                        foreach (var (property, fields) in nested)
                        foreach (var field in fields)
                            await CallAsync(admin, method, url, $"{{\"{property}\":{{\"{field}\":{value}}}}}");
                    }
                    nestedSwept += nested.Count;
                }
            }
            // The pages and the proxy, for a signed-in browser and an anonymous one: ids, secrets and queries.
            using var browser = new BrowserLikeClient(app.BaseAddress);
            await browser.LogInAsync(app.BaseAddress, "admin", RosettaAppFactory.AdminPassword);
            using var signedIn = new HttpClient(browser.Handler, disposeHandler: false) { BaseAddress = app.BaseAddress };
            foreach (var client in new[] { signedIn, anonymous })
            foreach (var text in PathTexts)
            {
                var segment = Uri.EscapeDataString(text);
                var query = Uri.EscapeDataString(text);
                foreach (var url in new[]
                {
                    $"/tasks/{segment}", $"/tasks/{segment}/desktop", $"/tasks/new?software={query}&from={query}", $"/files?storage={query}&path={query}",
                    $"/login?ReturnUrl={query}", $"/s/{segment}", $"/t/{segment}/", $"/t/{task}/{segment}?{query}={query}", $"/{segment}",
                })
                    await CallAsync(client, HttpMethod.Get, url, null);
                await CallAsync(client, HttpMethod.Post, $"/s/{segment}", null);
            }

            operationKey = null;
            var unreached = reached.Where(r => !r.Value).Select(r => r.Key).ToList();
            // Left: deletions and a stop, which only a real id gets past and the other tests make, and the secret of a
            // task that has none (hello).
            Assert.True(unreached.All(k => k.StartsWith("DELETE ") || k == "POST /api/v1/tasks/{id}/stop" || k == "GET /api/v1/tasks/{id}/secret"),
                "never got past routing and lookup: " + string.Join(", ", unreached));
            Assert.True(nestedSwept >= 2, $"only {nestedSwept} nested objects found in the bodies (a task's options, a resource's defaults)");
            Assert.True(calls > 1000, $"only {calls} calls: the OpenAPI document lists fewer operations than expected");
            Assert.True(failures.Count == 0, $"{failures.Count} of {calls} calls answered 5xx:\n" + string.Join("\n", failures.Distinct().Take(60)));
        }
        finally
        {
            await RosettaAppFactory.RemoveContainersAsync(app.InstanceId);
        }
    }

    private static async Task<string> CreatedIdAsync(HttpClient client, string url, object body)
    {
        var created = await client.PostAsJsonAsync(url, body);
        Assert.True(created.IsSuccessStatusCode, $"{url}: {await created.Content.ReadAsStringAsync()}");
        return (string)(await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
    }

    /// <summary>The JSON body's property names, or null when the operation takes no JSON object.</summary>
    private static List<string>? BodyProperties(JsonObject operation, JsonObject schemas)
    {
        if (operation["requestBody"]?["content"]?["application/json"]?["schema"] is not { } schema) return null;
        if ((string?)schema["$ref"] is { } reference) schema = schemas[reference.Split('/')[^1]]!;
        return schema["properties"]?.AsObject().Select(p => p.Key).ToList() ?? [];
    }

    /// <summary>Per body property that is an object of its own (a task's options, a resource's defaults), its property names.</summary>
    private static Dictionary<string, List<string>> NestedProperties(JsonObject operation, JsonObject schemas)
    {
        var nested = new Dictionary<string, List<string>>();
        if (operation["requestBody"]?["content"]?["application/json"]?["schema"] is not { } schema) return nested;
        if ((string?)schema["$ref"] is { } reference) schema = schemas[reference.Split('/')[^1]]!;
        foreach (var (name, property) in schema["properties"]?.AsObject() ?? [])
        {
            // A nullable object is written as a $ref inside oneOf/anyOf: the first $ref anywhere in it.
            var inner = System.Text.RegularExpressions.Regex.Match(property!.ToJsonString(), "\"\\$ref\":\"#/components/schemas/([^\"]+)\"");
            if (inner.Success && schemas[inner.Groups[1].Value]?["properties"] is JsonObject fields) nested[name] = [.. fields.Select(f => f.Key)];
        }
        return nested;
    }

    private static string Shorten(string? text) => text is null ? "" : text.Length > 120 ? text[..120] + "…" : text;
}
