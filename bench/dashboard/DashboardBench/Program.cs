// Dashboard benchmarks (driver for bench/dashboard/run.sh; see bench/dashboard/README.md).
//
//   latency  engine event -> browser DOM: `docker kill` a running hello task's container and time
//            until its row's status chip turns `exited` on the tasks page (MutationObserver).
//   render   the tasks page with many tasks: navigation to `/` until every row is in the DOM.
//   logs     memory of a circuit following a fast log (hello with HELLO_LINES) on /tasks/{id}.
//   upload   a large file picked on the Files page, streamed over the circuit into the storage:
//            throughput and the app's memory while it streams (it must not hold the file).
//
// Every command prints plain text: `key: value` figures and `#` notes. Times from the page are
// `performance.timeOrigin + performance.now()` (wall clock, ms) and compare with this process's
// DateTime.UtcNow on the same machine; the offset between the two clocks is measured and printed.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Playwright;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.WriteLine("usage: DashboardBench latency|render|logs|upload [--url U] [--password P] [--docker D] [--ids-file F] "
                      + "[--samples N] [--warmup N] [--runs N] [--rows N] [--pid PID] [--lines N] [--mib N]");
    return 2;
}
var bench = new Bench(Options.Parse(args.Skip(1)));
try
{
    return args[0] switch
    {
        "latency" => await bench.LatencyAsync(),
        "render" => await bench.RenderAsync(),
        "logs" => await bench.LogsAsync(),
        "upload" => await bench.UploadAsync(),
        _ => throw new ArgumentException($"unknown command '{args[0]}'"),
    };
}
finally
{
    await bench.DisposeAsync();
}

sealed class Options(Dictionary<string, string> values)
{
    public static Options Parse(IEnumerable<string> args)
    {
        var list = args.ToList();
        var values = new Dictionary<string, string>();
        for (var i = 0; i < list.Count; i++)
        {
            if (!list[i].StartsWith("--")) throw new ArgumentException($"unexpected argument '{list[i]}'");
            values[list[i][2..]] = i + 1 < list.Count ? list[++i] : throw new ArgumentException($"{list[i]} needs a value");
        }
        return new Options(values);
    }

    public string Get(string name, string fallback) => values.TryGetValue(name, out var v) ? v : fallback;
    public int Int(string name, int fallback) => values.TryGetValue(name, out var v) ? int.Parse(v) : fallback;
}

sealed class Bench(Options options) : IAsyncDisposable
{
    private readonly Options _options = options;
    private readonly string _url = options.Get("url", "http://127.0.0.1:18282").TrimEnd('/');
    private readonly string _password = options.Get("password", "benchpass123");
    private readonly string _docker = options.Get("docker", "/usr/bin/docker");
    private readonly string? _idsFile = options.Get("ids-file", "") is { Length: > 0 } f ? f : null;
    private IPlaywright? _playwright;
    private IBrowser? _browser;
    private HttpClient? _api;
    private string _token = "";

    public static double NowMs() => (DateTime.UtcNow - DateTime.UnixEpoch).TotalMilliseconds;

    public static string Load() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    // ---------------------------------------------------------------- shared plumbing

    private async Task<HttpClient> ApiAsync()
    {
        if (_api is not null) return _api;
        var client = new HttpClient { BaseAddress = new Uri(_url + "/"), Timeout = TimeSpan.FromSeconds(120) };
        var response = await client.PostAsJsonAsync("api/v1/tokens", new { username = "admin", password = _password, name = "dashboard-bench" });
        response.EnsureSuccessStatusCode();
        var token = (await response.Content.ReadFromJsonAsync<JsonObject>())!["token"]!.GetValue<string>();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        _token = token;
        return _api = client;
    }

    private async Task<string> CreateTaskAsync(string name, Dictionary<string, string>? env = null, double? cpus = null)
    {
        var api = await ApiAsync();
        object body = env is null
            ? new { name, software = "hello", computing = "local" }
            : cpus is { } c
                ? new { name, software = "hello", computing = "local", options = new { env, cpus = c } }
                : new { name, software = "hello", computing = "local", options = new { env } };
        var response = await api.PostAsJsonAsync("api/v1/tasks", body);
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"POST /api/v1/tasks: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        var id = (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        if (_idsFile is not null) await File.AppendAllTextAsync(_idsFile, id + "\n");
        return id;
    }

    private async Task<string> TaskStatusAsync(string id)
    {
        var task = await (await ApiAsync()).GetFromJsonAsync<JsonObject>($"api/v1/tasks/{id}");
        return task!["status"]!.GetValue<string>();
    }

    private async Task StopAndDeleteAsync(string id)
    {
        var api = await ApiAsync();
        var status = await TaskStatusAsync(id);
        if (status is "created" or "queued" or "starting" or "running" or "stopping")
        {
            await api.PostAsync($"api/v1/tasks/{id}/stop", null);
            for (var i = 0; i < 300 && (await TaskStatusAsync(id)) is "created" or "queued" or "starting" or "running" or "stopping"; i++)
                await Task.Delay(100);
        }
        var deleted = await api.DeleteAsync($"api/v1/tasks/{id}");
        if (deleted.StatusCode != HttpStatusCode.NoContent) Console.WriteLine($"# note: DELETE {id} answered {(int)deleted.StatusCode}");
    }

    private async Task<(int Code, string Out)> DockerAsync(params string[] arguments)
    {
        var info = new ProcessStartInfo(_docker) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments) info.ArgumentList.Add(a);
        info.Environment["DOCKER_API_VERSION"] = Environment.GetEnvironmentVariable("DOCKER_API_VERSION") ?? "1.41";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, (await stdout) + (await stderr));
    }

    private async Task<string> ContainerOfAsync(string taskId)
    {
        var (_, output) = await DockerAsync("ps", "-aq", "--no-trunc", "--filter", $"label=rosetta.task={taskId}");
        return output.Trim().Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()
               ?? throw new InvalidOperationException($"no container for task {taskId}");
    }

    private async Task<IBrowserContext> LoggedInContextAsync()
    {
        _playwright ??= await Playwright.CreateAsync();
        _browser ??= await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync"],
        });
        var context = await _browser.NewContextAsync(new() { BaseURL = _url + "/", ViewportSize = new() { Width = 1366, Height = 900 } });
        var page = await context.NewPageAsync();
        await page.GotoAsync("login");
        await page.FillAsync("#username", "admin");
        await page.FillAsync("#password", _password);
        await page.ClickAsync("button[type=submit]");
        await page.Locator("[data-test=new-task]").WaitForAsync(new() { Timeout = 60_000 });
        await page.CloseAsync();
        return context;
    }

    /// <summary>Page clock minus this process's clock (ms), estimated from a round trip.</summary>
    private static async Task<(double Offset, double RoundTrip)> ClockOffsetAsync(IPage page)
    {
        var best = (Offset: 0.0, RoundTrip: double.MaxValue);
        for (var i = 0; i < 10; i++)
        {
            var before = NowMs();
            var pageNow = await page.EvaluateAsync<double>("() => performance.timeOrigin + performance.now()");
            var after = NowMs();
            if (after - before < best.RoundTrip) best = (pageNow - (before + after) / 2, after - before);
        }
        return best;
    }

    private static string Stats(IReadOnlyCollection<double> values)
    {
        if (values.Count == 0) return "n/a";
        var sorted = values.OrderBy(v => v).ToArray();
        double Rank(double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
        return $"n={sorted.Length} min={sorted[0]:F1} p50={Rank(0.50):F1} p95={Rank(0.95):F1} max={sorted[^1]:F1} mean={sorted.Average():F1} ms";
    }

    // ---------------------------------------------------------------- 1. state change -> DOM

    private const string ExitObserver = """
        () => {
          window.__watch = new Set(); window.__seen = {};
          const check = () => {
            const now = performance.timeOrigin + performance.now();
            for (const id of window.__watch) {
              if (window.__seen[id]) continue;
              const link = document.querySelector(`a[data-test=task-name][href$="tasks/${id}"]`);
              const chip = link && link.closest('tr') && link.closest('tr').querySelector('.status-chip');
              const status = chip && chip.getAttribute('data-status');
              if (status === 'exited' || status === 'failed') {
                const seen = window.__seen[id] = { dom: now, status };
                requestAnimationFrame(() => { seen.frame = performance.timeOrigin + performance.now(); });
              }
            }
          };
          new MutationObserver(check).observe(document.body,
            { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['data-status'] });
        }
        """;

    public async Task<int> LatencyAsync()
    {
        var samples = _options.Int("samples", 25);
        var warmup = _options.Int("warmup", 2);
        Console.WriteLine($"# state change -> DOM: {warmup} warm-up + {samples} measured samples, one task at a time");
        Console.WriteLine($"# load at start: {Load()}");

        // The engine's own `die` event times, to split engine -> DOM from the kill command itself.
        var dies = new ConcurrentDictionary<string, double>();
        var dieSeen = new ConcurrentDictionary<string, double>(); // when our own `docker events` received it
        var logsAtDie = new ConcurrentDictionary<string, double>(); // a logs request sent the moment it did
        var events = new ProcessStartInfo(_docker) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "events", "--filter", "event=die", "--filter", "label=rosetta.task", "--format", "{{json .}}" }) events.ArgumentList.Add(a);
        events.Environment["DOCKER_API_VERSION"] = Environment.GetEnvironmentVariable("DOCKER_API_VERSION") ?? "1.41";
        using var eventProcess = Process.Start(events)!;
        _ = Task.Run(async () =>
        {
            while (await eventProcess.StandardOutput.ReadLineAsync() is { } line)
            {
                try
                {
                    var e = JsonNode.Parse(line)!;
                    var task = e["Actor"]?["Attributes"]?["rosetta.task"]?.GetValue<string>();
                    if (task is not null)
                    {
                        dieSeen[task] = NowMs();
                        dies[task] = e["timeNano"]!.GetValue<long>() / 1e6;
                        var containerId = e["id"]!.GetValue<string>();
                        _ = Task.Run(async () => logsAtDie[task] = await EngineLogsCallAsync(containerId));
                    }
                }
                catch (JsonException)
                {
                }
            }
        });

        // The platform's own SignalR hub: when the server published the change (same task feed as the page).
        await ApiAsync();
        var published = new ConcurrentDictionary<string, double>();
        await using var hub = new HubConnectionBuilder()
            .WithUrl(_url + "/hubs/tasks", o => o.Headers["Authorization"] = "Bearer " + _token)
            .Build();
        hub.On<JsonElement>("TaskChanged", t =>
        {
            var now = NowMs();
            if (t.GetProperty("status").GetString() is "exited" or "failed") published.TryAdd(t.GetProperty("id").GetString()!, now);
        });
        await hub.StartAsync();

        var context = await LoggedInContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync("");
        await page.Locator("[data-test=new-task]").WaitForAsync();
        await page.EvaluateAsync(ExitObserver);
        var (offset, roundTrip) = await ClockOffsetAsync(page);
        Console.WriteLine($"# clock check: page clock - bench clock = {offset:F2} ms (round trip {roundTrip:F2} ms); page times are not corrected");

        var killStartToDom = new List<double>();
        var killEndToDom = new List<double>();
        var dieToDom = new List<double>();
        var dieToHub = new List<double>();
        var dieToLog = new List<double>();
        var logToHub = new List<double>();
        var appLog = _options.Get("app-log", "");
        var hubToDom = new List<double>();
        var killStartToDie = new List<double>();
        var dieDelivery = new List<double>();
        var killStarts = new Dictionary<string, double>(); // measured samples only
        var logsCall = new List<double>();
        var domToFrame = new List<double>();
        Console.WriteLine("# sample  task              status  kill-start>DOM  kill-return>DOM  die-event>DOM  kill-start>die  die>hub  hub>DOM  die>log  DOM>frame  load");
        for (var i = 0; i < warmup + samples; i++)
        {
            var id = await CreateTaskAsync($"dash-lat-{i:D2}");
            var row = $"tr:has(a[data-test=task-name][href$='tasks/{id}'])";
            await page.Locator($"{row} .status-chip[data-status=running]").WaitForAsync(new() { Timeout = 120_000 });
            await Task.Delay(500);
            var container = await ContainerOfAsync(id);
            await page.EvaluateAsync("id => window.__watch.add(id)", id);

            var killStart = NowMs();
            var (code, output) = await DockerAsync("kill", container);
            var killEnd = NowMs();
            if (code != 0) throw new InvalidOperationException($"docker kill: {output}");

            await page.WaitForFunctionAsync("id => window.__seen[id] && window.__seen[id].frame", id, new() { Timeout = 30_000, PollingInterval = 20 });
            var seen = await page.EvaluateAsync<JsonElement>("id => window.__seen[id]", id);
            var dom = seen.GetProperty("dom").GetDouble();
            var frame = seen.GetProperty("frame").GetDouble();
            var status = seen.GetProperty("status").GetString();
            for (var w = 0; w < 50 && !dies.ContainsKey(id); w++) await Task.Delay(20);
            var die = dies.TryGetValue(id, out var d) ? d : double.NaN;
            for (var w = 0; w < 50 && !published.ContainsKey(id); w++) await Task.Delay(20);
            var hubAt = published.TryGetValue(id, out var h) ? h : double.NaN;
            var logAt = appLog.Length > 0 ? await MonitorLogTimeAsync(appLog, id) : double.NaN;

            var measured = i >= warmup;
            if (measured)
            {
                killStartToDom.Add(dom - killStart);
                killStarts[id] = killStart;
                killEndToDom.Add(dom - killEnd);
                domToFrame.Add(frame - dom);
                if (!double.IsNaN(die)) { dieToDom.Add(dom - die); killStartToDie.Add(die - killStart); }
                if (!double.IsNaN(die) && !double.IsNaN(hubAt)) dieToHub.Add(hubAt - die);
                if (!double.IsNaN(hubAt)) hubToDom.Add(dom - hubAt);
                if (!double.IsNaN(die) && dieSeen.TryGetValue(id, out var seenAt)) dieDelivery.Add(seenAt - die);
                logsCall.Add(await EngineLogsCallAsync(container));
                if (!double.IsNaN(die) && !double.IsNaN(logAt)) dieToLog.Add(logAt - die);
                if (!double.IsNaN(logAt) && !double.IsNaN(hubAt)) logToHub.Add(hubAt - logAt);
            }
            Console.WriteLine($"{(measured ? "" : "warmup ")}{i,6}  {id}  {status,-6}  {dom - killStart,14:F1}  {dom - killEnd,15:F1}  {dom - die,13:F1}  {die - killStart,14:F1}  {hubAt - die,7:F1}  {dom - hubAt,7:F1}  {logAt - die,7:F1}  {frame - dom,9:F1}  {Load()}");
            await StopAndDeleteAsync(id);
        }

        eventProcess.Kill();
        Console.WriteLine();
        Console.WriteLine($"kill-start -> DOM (docker kill spawned -> chip exited): {Stats(killStartToDom)}");
        Console.WriteLine($"kill-return -> DOM (docker kill returned -> chip exited): {Stats(killEndToDom)}");
        Console.WriteLine($"die-event -> DOM (engine's die timeNano -> chip exited): {Stats(dieToDom)}");
        Console.WriteLine($"kill-start -> die-event (CLI start + kill in the engine): {Stats(killStartToDie)}");
        Console.WriteLine($"die-event -> hub TaskChanged received by this process (server side: engine event -> monitor -> feed -> SignalR): {Stats(dieToHub)}");
        if (appLog.Length > 0)
        {
            Console.WriteLine($"die-event -> the monitor's log line 'Task <id> running -> exited' (event received, last output read, SQLite saved, feed published; ms-resolution log clock): {Stats(dieToLog)}");
            Console.WriteLine($"that log line -> hub TaskChanged received: {Stats(logToHub)}");
        }
        Console.WriteLine($"hub TaskChanged -> DOM (approx. the Blazor part: render, circuit, browser): {Stats(hubToDom)}");
        Console.WriteLine($"DOM -> next animation frame: {Stats(domToFrame)}");
        Console.WriteLine($"# side measurements: die timeNano -> received by this process's own `docker events` CLI: {Stats(dieDelivery)}");
        Console.WriteLine($"# side measurements: engine GET /containers/{{id}}/logs?tail=20 sent the moment our `docker events` saw `die` (as the monitor does for exit code != 0 before it saves): {Stats(logsAtDie.Where(kv => killStarts.ContainsKey(kv.Key)).Select(kv => kv.Value).ToList())}");
        Console.WriteLine($"# side measurements: the same request once the sample is over (container settled): {Stats(logsCall)}");
        var p95 = killStartToDom.OrderBy(v => v).ElementAt(Math.Max(0, (int)Math.Ceiling(0.95 * killStartToDom.Count) - 1));
        Console.WriteLine($"target p95 < 250 ms (kill-start -> DOM): {(p95 < 250 ? "MET" : "MISSED")} ({p95:F1} ms)");
        Console.WriteLine($"# load at end: {Load()}");
        await context.CloseAsync();
        return 0;
    }

    /// <summary>
    /// The wall-clock time of the monitor's "Task {id} running -> exited" log line, from an app log
    /// written with Logging__Console__FormatterName=simple and Logging__Console__FormatterOptions__{SingleLine=true, UseUtcTimestamp=true,
    /// TimestampFormat=yyyy-MM-ddTHH:mm:ss.fff_}; NaN when it is not there.
    /// </summary>
    private static async Task<double> MonitorLogTimeAsync(string path, string taskId)
    {
        var pattern = new Regex(@"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})[_ ].*Task " + taskId + " running -> (exited|failed)");
        for (var attempt = 0; attempt < 20; attempt++)
        {
            using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
            using (var reader = new StreamReader(stream))
            {
                while (await reader.ReadLineAsync() is { } line)
                {
                    var m = pattern.Match(line);
                    if (m.Success)
                        return (DateTime.ParseExact(m.Groups[1].Value, "yyyy-MM-ddTHH:mm:ss.fff", CultureInfo.InvariantCulture,
                            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal) - DateTime.UnixEpoch).TotalMilliseconds;
                }
            }
            await Task.Delay(100);
        }
        return double.NaN;
    }

    /// <summary>Time of one last-20-lines logs request straight to the engine's socket (ms).</summary>
    private static async Task<double> EngineLogsCallAsync(string container)
    {
        using var http = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
                await socket.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint("/var/run/docker.sock"), ct);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            },
        }) { BaseAddress = new Uri("http://docker/") };
        var sw = Stopwatch.StartNew();
        var body = await http.GetByteArrayAsync($"v1.41/containers/{container}/logs?stdout=1&stderr=1&tail=20");
        return body.Length >= 0 ? sw.Elapsed.TotalMilliseconds : double.NaN;
    }

    // ---------------------------------------------------------------- 2. 1,000-row tasks page

    // Records, in the page's own clock (ms since navigation start): the first task row in the DOM,
    // when all N rows are in it (a list rendered in full; prerendered HTML counts), when the live
    // circuit has replaced prerendered rows, and the last change of the row count (a virtualised
    // list renders only the rows in view, in more than one pass). `log` keeps each mutation that
    // added or removed task rows (page ms:+added-removed=rows in DOM@first row's name): whether a
    // pass moved a few rows or rebuilt all of them.
    private static string RowsObserver(int rows) => $$"""
        (() => {
          const r = window.__rows = { firstAny: null, first: null, interactive: null, lastChange: null, count: 0, max: 0, log: [] };
          const live = document.getElementsByClassName('task-row');
          const check = (muts) => {
            let added = 0, removed = 0;
            const isRow = n => n.classList && n.classList.contains('task-row');
            for (const m of muts || []) { for (const n of m.addedNodes) if (isRow(n)) added++; for (const n of m.removedNodes) if (isRow(n)) removed++; }
            if (added || removed) {
              const a = document.querySelector('a[data-test=task-name]');
              r.log.push(Math.round(performance.now()) + ':+' + added + '-' + removed + '=' + live.length + '@' + (a ? a.textContent : ''));
            }
            const n = live.length;
            if (n === r.count) { if (r.first === null || r.interactive !== null) return; }
            const t = performance.now();
            if (n !== r.count) { r.count = n; r.lastChange = t; if (n > r.max) r.max = n; }
            if (n > 0 && r.firstAny === null) r.firstAny = t;
            if (n < {{rows}}) return;
            const links = document.querySelectorAll('a[data-test=task-name]');
            if (links.length < {{rows}}) return;
            if (r.first === null) { r.first = t; links[0].__pre = true; links[links.length - 1].__pre = true; }
            else if (r.interactive === null && !links[0].__pre && !links[links.length - 1].__pre) r.interactive = t;
          };
          new MutationObserver(check).observe(document, { subtree: true, childList: true });
        })();
        """;

    /// <summary>Scrolls the list to its end and resolves with the ms until the oldest task's row is in the DOM.</summary>
    private static string ScrollToLast(string lastName) => $$"""
        () => new Promise(resolve => {
          const t0 = performance.now();
          const find = () => [...document.querySelectorAll('a[data-test=task-name]')].some(a => a.textContent.trim() === '{{lastName}}');
          const container = document.querySelector('[data-test=tasks] .mud-table-container');
          const scroll = () => { if (container) container.scrollTop = container.scrollHeight; window.scrollTo(0, document.body.scrollHeight); };
          scroll();
          const poll = () => {
            if (find()) return resolve(performance.now() - t0);
            if (performance.now() - t0 > 20000) return resolve(-1);
            scroll();
            requestAnimationFrame(poll);
          };
          poll();
        })
        """;

    public async Task<int> RenderAsync()
    {
        var rows = _options.Int("rows", 1000);
        var runs = _options.Int("runs", 7);
        var warmup = _options.Int("warmup", 2);
        var pause = _options.Int("pause-ms", 3000);
        var lastName = _options.Get("last-name", $"dash-row-{rows - 1:D4}");
        Console.WriteLine($"# tasks page with {rows} tasks: {warmup} warm-up + {runs} measured navigations to / (each in a new tab that first loads /healthz and idles {pause} ms; logged in)");
        Console.WriteLine($"# load at start: {Load()}");
        var context = await LoggedInContextAsync();

        // Server side alone: the prerendered HTML of / fetched with the same cookies.
        var cookies = new CookieContainer();
        foreach (var c in await context.CookiesAsync()) cookies.Add(new System.Net.Cookie(c.Name, c.Value, c.Path, c.Domain));
        using (var http = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = new Uri(_url + "/") })
        {
            var ttfb = new List<double>();
            var total = new List<double>();
            long bytes = 0;
            var prerendered = 0;
            for (var i = 0; i < warmup + runs; i++)
            {
                var sw = Stopwatch.StartNew();
                using var response = await http.GetAsync("", HttpCompletionOption.ResponseHeadersRead);
                var headers = sw.Elapsed.TotalMilliseconds;
                var body = await response.Content.ReadAsStringAsync();
                var all = sw.Elapsed.TotalMilliseconds;
                if ((int)response.StatusCode != 200) throw new InvalidOperationException($"GET / answered {(int)response.StatusCode}");
                if (i < warmup) continue;
                ttfb.Add(headers);
                total.Add(all);
                bytes = body.Length;
                prerendered = Regex.Matches(body, "data-test=\"task-name\"").Count;
            }
            Console.WriteLine($"server GET / (prerender, HttpClient) headers: {Stats(ttfb)}");
            Console.WriteLine($"server GET / (prerender, HttpClient) whole body: {Stats(total)}");
            Console.WriteLine($"# prerendered HTML: {bytes:N0} chars, {prerendered} task rows in it");
        }

        var shown = new List<double>();
        var allRows = new List<double>();
        var interactive = new List<double>();
        var scrolls = new List<double>();
        var virtualised = false;
        Console.WriteLine("# times in ms from navigation start (the page's own clock); rows-settled = last change of the row count (no change for 1 s after)");
        Console.WriteLine("# run  requestStart  responseStart  responseEnd  DOMContentLoaded   load  first-row  rows-settled  rows-in-DOM  all-rows(prerender)  all-rows(live)  scroll-to-last  ws-bytes-in  load-avg");
        for (var i = 0; i < warmup + runs; i++)
        {
            // The tab is already on the site (its renderer process is up), as a user's would be.
            var page = await context.NewPageAsync();
            await page.GotoAsync("healthz");
            await Task.Delay(pause);
            await page.AddInitScriptAsync(RowsObserver(rows));
            long wsBytes = 0;
            var frames = new ConcurrentQueue<(double At, int Size)>();
            page.WebSocket += (_, ws) => ws.FrameReceived += (_, frame) =>
            {
                var size = frame.Binary?.Length ?? frame.Text?.Length ?? 0;
                frames.Enqueue((NowMs(), size));
                Interlocked.Add(ref wsBytes, size);
            };
            await page.GotoAsync("", new() { WaitUntil = WaitUntilState.Commit, Timeout = 60_000 });
            await page.WaitForFunctionAsync("() => window.__rows && window.__rows.firstAny !== null", null, new() { Timeout = 60_000, PollingInterval = 20 });
            // Settled: the row count has not changed for 1 s (and, for a full list, the live render replaced the prerendered one).
            await page.WaitForFunctionAsync($"() => performance.now() - window.__rows.lastChange > 1000 && (window.__rows.first === null || window.__rows.interactive !== null || performance.now() - window.__rows.first > 30000)",
                null, new() { Timeout = 60_000, PollingInterval = 50 });
            await page.WaitForLoadStateAsync(LoadState.Load);
            var nav = await page.EvaluateAsync<JsonElement>("() => { const n = performance.getEntriesByType('navigation')[0]; return { rq: n.requestStart, rs: n.responseStart, re: n.responseEnd, dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd, r: window.__rows }; }");
            var bytesBeforeScroll = Interlocked.Read(ref wsBytes);
            var scroll = await page.EvaluateAsync<double>(ScrollToLast(lastName));
            var r = nav.GetProperty("r");
            double Num(string name) => r.GetProperty(name).ValueKind == JsonValueKind.Number ? r.GetProperty(name).GetDouble() : double.NaN;
            var (firstAny, settled, count, full, live) = (Num("firstAny"), Num("lastChange"), (int)Num("count"), Num("first"), Num("interactive"));
            virtualised |= count < rows;
            var measured = i >= warmup;
            if (measured)
            {
                shown.Add(count >= rows ? (double.IsNaN(live) ? full : Math.Min(full, live)) : settled);
                if (!double.IsNaN(full)) allRows.Add(full);
                if (!double.IsNaN(live)) interactive.Add(live);
                if (scroll >= 0) scrolls.Add(scroll);
            }
            Console.WriteLine("# row mutations: " + string.Join(" ", r.GetProperty("log").EnumerateArray().Select(x => x.GetString())));
            Console.WriteLine($"{(measured ? "" : "warmup ")}{i,4}  {nav.GetProperty("rq").GetDouble(),12:F1}  {nav.GetProperty("rs").GetDouble(),13:F1}  {nav.GetProperty("re").GetDouble(),11:F1}  {nav.GetProperty("dcl").GetDouble(),16:F1}  {nav.GetProperty("load").GetDouble(),5:F1}  {firstAny,9:F1}  {settled,12:F1}  {count,11}  {full,19:F1}  {live,14:F1}  {(scroll >= 0 ? scroll.ToString("F1") : "not found"),14}  {bytesBeforeScroll,11:N0}  {Load()}");
            if (i == warmup + runs - 1)
            {
                var origin = await page.EvaluateAsync<double>("() => performance.timeOrigin");
                var big = frames.Where(f => f.Size >= 16 * 1024).Select(f => $"{f.At - origin:F0} ms: {f.Size / 1024.0:F0} KB");
                var height = await page.EvaluateAsync<double>("() => { const r = document.querySelector('tr.task-row'); return r ? r.getBoundingClientRect().height : -1; }");
                Console.WriteLine($"# last run: a task row is {height:F1} px high in this 1366x900 viewport");
                Console.WriteLine($"# last run: {frames.Count} WebSocket frames received ({wsBytes / 1024.0:F0} KB); those of 16 KB or more (page clock, arrival in this process): {string.Join(", ", big)}");
            }
            await page.CloseAsync(new() { RunBeforeUnload = true });
        }
        Console.WriteLine();
        double Median(List<double> v) => v.Count == 0 ? double.NaN : v.OrderBy(x => x).ElementAt((v.Count - 1) / 2);
        if (virtualised)
        {
            Console.WriteLine($"# the list is virtualised: only the rows in view (and overscan) are in the DOM, never all {rows}");
            Console.WriteLine($"navigation -> rows in view rendered and settled: {Stats(shown)}");
            Console.WriteLine($"scroll to the end -> the oldest task's row ({lastName}) in the DOM: {Stats(scrolls)}");
            Console.WriteLine($"target < 1 s (the page shows its rows): {(Median(shown) < 1000 && shown.Max() < 1000 ? "MET" : Median(shown) < 1000 ? "MET at the median, not at the max" : "MISSED")} (median {Median(shown):F1} ms, max {shown.Max():F1} ms)");
        }
        else
        {
            Console.WriteLine($"navigation -> all {rows} rows in the DOM (prerendered HTML): {Stats(allRows)}");
            Console.WriteLine($"navigation -> all {rows} rows re-rendered by the live circuit (interactive): {Stats(interactive)}");
            Console.WriteLine($"target < 1 s (all rows in the DOM): {(Median(allRows) < 1000 ? "MET" : "MISSED")} (median {Median(allRows):F1} ms, max {(allRows.Count > 0 ? allRows.Max() : double.NaN):F1} ms); "
                              + $"interactive median {Median(interactive):F1} ms, max {(interactive.Count > 0 ? interactive.Max() : double.NaN):F1} ms");
        }
        Console.WriteLine($"# load at end: {Load()}");
        await context.CloseAsync();
        return 0;
    }

    // ---------------------------------------------------------------- 3. following a fast log

    private static long RssKb(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            if (line.StartsWith("VmRSS:")) return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
        return 0;
    }

    /// <summary>
    /// The app's RSS once the page has settled: medians of 1 s of samples (every 100 ms), taken until
    /// two in a row differ by less than 1 MiB (at most 15 s), so the baseline is not caught mid-load.
    /// </summary>
    private static async Task<long> SettledRssKbAsync(int pid)
    {
        async Task<long> MedianAsync()
        {
            var samples = new List<long>();
            for (var i = 0; i < 10; i++) { samples.Add(RssKb(pid)); await Task.Delay(100); }
            return samples.Order().ElementAt(samples.Count / 2);
        }
        var deadline = DateTime.UtcNow.AddSeconds(15);
        var previous = await MedianAsync();
        while (true)
        {
            var current = await MedianAsync();
            if (Math.Abs(current - previous) < 1024 || DateTime.UtcNow > deadline) return current;
            previous = current;
        }
    }

    private static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11]) + long.Parse(fields[12])) / 100.0; // utime + stime, USER_HZ = 100
    }

    private static DateTime DockerTime(string stamp)
    {
        // RFC 3339 with nanoseconds: keep 7 fraction digits for DateTime.
        var m = Regex.Match(stamp, @"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$");
        var fraction = (m.Groups[2].Value + "0000000")[..7];
        return DateTime.ParseExact($"{m.Groups[1].Value}.{fraction}Z", "yyyy-MM-ddTHH:mm:ss.fffffffZ", CultureInfo.InvariantCulture,
            DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
    }

    public async Task<int> LogsAsync()
    {
        var pid = _options.Int("pid", 0);
        if (pid == 0) throw new ArgumentException("--pid of the app process is required");
        var lines = _options.Int("lines", 1_000_000);
        double? cpus = _options.Get("cpus", "") is { Length: > 0 } cpuText ? double.Parse(cpuText, CultureInfo.InvariantCulture) : null;
        Console.WriteLine($"# log following: hello with HELLO_LINES={lines:N0}{(cpus is null ? "" : $" and options.cpus={cpus} (to pace the output)")}, /tasks/{{id}} opened right after the task is created");
        Console.WriteLine($"# load at start: {Load()}");

        var context = await LoggedInContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync("");
        await page.Locator("[data-test=new-task]").WaitForAsync();
        await (await ApiAsync()).GetAsync("api/v1/tasks"); // token and API path warm
        var baseline = await SettledRssKbAsync(pid);
        Console.WriteLine($"baseline RSS (tasks page open, before the task): {baseline / 1024.0:F1} MB");

        var samples = new List<(double T, long Rss, long Shown, long Total)>();
        var cpuStart = CpuSeconds(pid);
        var id = await CreateTaskAsync("dash-logs", new() { ["HELLO_LINES"] = lines.ToString() }, cpus);
        var open = NowMs();
        await page.GotoAsync($"tasks/{id}");
        var countPattern = new Regex(@"^([\d,]+) lines(?: \(oldest ([\d,]+) not shown)?");
        double? firstLine = null, done = null;
        var maxShown = 0L;
        while (NowMs() - open < 600_000)
        {
            var text = await page.EvaluateAsync<string?>("() => document.querySelector('[data-test=log-count]')?.textContent ?? null");
            long shown = 0, total = 0;
            if (text is not null && countPattern.Match(text.Trim()) is { Success: true } m)
            {
                shown = long.Parse(m.Groups[1].Value.Replace(",", ""));
                total = shown + (m.Groups[2].Success ? long.Parse(m.Groups[2].Value.Replace(",", "")) : 0);
            }
            var t = NowMs() - open;
            samples.Add((t, RssKb(pid), shown, total));
            maxShown = Math.Max(maxShown, shown);
            if (total > 0) firstLine ??= t;
            if (total >= lines) { done = t; break; }
            await Task.Delay(100);
        }
        var cpuFollow = CpuSeconds(pid) - cpuStart;
        if (done is null) Console.WriteLine("# note: the page did not show every line within 600 s");
        var peakFollow = samples.Max(s => s.Rss);

        // Settle: page still open, 10 s.
        var settle = new List<long>();
        var settleStart = NowMs();
        while (NowMs() - settleStart < 10_000) { settle.Add(RssKb(pid)); await Task.Delay(100); }
        var afterSettle = settle.TakeLast(10).OrderBy(v => v).ElementAt(5);
        var peak = Math.Max(peakFollow, settle.Max());
        var finalText = await page.EvaluateAsync<string?>("() => document.querySelector('[data-test=log-count]')?.textContent ?? null");

        // Page closed (circuit disposed on unload), then 10 s.
        await page.CloseAsync(new() { RunBeforeUnload = true });
        var closed = new List<long>();
        var closedStart = NowMs();
        while (NowMs() - closedStart < 10_000) { closed.Add(RssKb(pid)); await Task.Delay(100); }
        var afterClose = closed.TakeLast(10).OrderBy(v => v).ElementAt(5);

        // What the container produced, from the engine's own timestamps.
        var container = await ContainerOfAsync(id);
        string? firstStamp = null, lastStamp = null;
        {
            var info = new ProcessStartInfo(_docker) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { "logs", "-t", container }) info.ArgumentList.Add(a);
            info.Environment["DOCKER_API_VERSION"] = Environment.GetEnvironmentVariable("DOCKER_API_VERSION") ?? "1.41";
            using var p = Process.Start(info)!;
            var head = await p.StandardOutput.ReadLineAsync();
            firstStamp = head?.Split(' ')[0];
            p.Kill();
            var (_, tail) = await DockerAsync("logs", "-t", "--tail", "20", container);
            lastStamp = tail.Split('\n').LastOrDefault(l => l.EndsWith($" line {lines}"))?.Split(' ')[0];
        }
        var produceSeconds = firstStamp is not null && lastStamp is not null ? (DockerTime(lastStamp) - DockerTime(firstStamp)).TotalSeconds : double.NaN;

        Console.WriteLine("# t(ms since page open)  RSS(MB)  shown  total   (every ~1 s)");
        var nextPrint = 0.0;
        foreach (var s in samples)
        {
            if (s.T < nextPrint && s != samples[^1]) continue;
            nextPrint = s.T + 1000;
            Console.WriteLine($"  {s.T,8:F0}  {s.Rss / 1024.0,7:F1}  {s.Shown,7}  {s.Total,8}");
        }
        Console.WriteLine();
        Console.WriteLine($"container produced {lines:N0} lines in {produceSeconds:F2} s = {lines / produceSeconds:N0} lines/s (docker log timestamps, first line -> 'line {lines}')");
        if (firstLine is { } fl && done is { } dn)
        {
            Console.WriteLine($"page: first line shown {fl:F0} ms after opening, all {lines:N0} counted {dn:F0} ms after opening");
            Console.WriteLine($"page received {lines / ((dn - fl) / 1000):N0} lines/s on average (first shown -> all counted, 100 ms polling)");
        }
        Console.WriteLine($"page's final count text: {finalText?.Trim()} (at most {maxShown:N0} lines in view seen)");
        Console.WriteLine($"app CPU while following: {cpuFollow:F1} s");
        Console.WriteLine($"RSS baseline {baseline / 1024.0:F1} MB; peak {peak / 1024.0:F1} MB (extra {(peak - baseline) / 1024.0:F1} MB)");
        Console.WriteLine($"RSS 10 s after all lines, page still open: {afterSettle / 1024.0:F1} MB (extra {(afterSettle - baseline) / 1024.0:F1} MB)");
        Console.WriteLine($"RSS 10 s after closing the page: {afterClose / 1024.0:F1} MB (extra {(afterClose - baseline) / 1024.0:F1} MB)");
        Console.WriteLine($"target < 50 MB extra: {((peak - baseline) / 1024.0 < 50 ? "MET" : "MISSED")} at peak ({(peak - baseline) / 1024.0:F1} MB), "
                          + $"{((afterSettle - baseline) / 1024.0 < 50 ? "MET" : "MISSED")} after settle ({(afterSettle - baseline) / 1024.0:F1} MB)");
        Console.WriteLine($"# load at end: {Load()}");
        await StopAndDeleteAsync(id);
        await context.CloseAsync();
        return 0;
    }

    // ---------------------------------------------------------------- 4. a large upload through the page

    public async Task<int> UploadAsync()
    {
        var pid = _options.Int("pid", 0);
        if (pid == 0) throw new ArgumentException("--pid of the app process is required");
        var mib = _options.Int("mib", 256);
        Console.WriteLine($"# upload: one {mib} MiB file of random bytes picked on /files (personal storage) and streamed over the circuit");
        Console.WriteLine($"# load at start: {Load()}");
        var source = Path.Combine(Path.GetTempPath(), $"dash-upload-{Environment.ProcessId}.bin");
        var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        await using (var file = File.Create(source))
        {
            var chunk = new byte[1 << 20];
            for (var i = 0; i < mib; i++)
            {
                System.Security.Cryptography.RandomNumberGenerator.Fill(chunk);
                hash.AppendData(chunk);
                await file.WriteAsync(chunk);
            }
        }
        var expected = Convert.ToHexStringLower(hash.GetHashAndReset());
        try
        {
            var context = await LoggedInContextAsync();
            var page = await context.NewPageAsync();
            await page.GotoAsync("files");
            await page.Locator("[data-test=circuit][data-interactive=true]").WaitForAsync(new() { State = WaitForSelectorState.Attached, Timeout = 60_000 });
            await page.Locator("[data-test=entries]").WaitForAsync(new() { Timeout = 60_000 });
            var baseline = await SettledRssKbAsync(pid);
            Console.WriteLine($"baseline RSS (Files page open): {baseline / 1024.0:F1} MB");

            var cpuStart = CpuSeconds(pid);
            var start = NowMs();
            await page.Locator("input[type=file]").SetInputFilesAsync(source);
            var samples = new List<(double T, long Rss, string Progress)>();
            string? state = null;
            while (NowMs() - start < 600_000)
            {
                var item = await page.EvaluateAsync<string?[]>(
                    "() => { const i = document.querySelector('[data-test=upload-item]'); return i ? [i.getAttribute('data-state'), i.textContent] : [null, null]; }");
                samples.Add((NowMs() - start, RssKb(pid), item[1]?.Trim() ?? ""));
                state = item[0];
                if (state is "done" or "failed") break;
                await Task.Delay(100);
            }
            var seconds = (NowMs() - start) / 1000;
            var cpu = CpuSeconds(pid) - cpuStart;
            Console.WriteLine("# t(ms since the file was picked)  RSS(MB)  progress   (every ~2 s)");
            var nextPrint = 0.0;
            foreach (var sample in samples)
            {
                if (sample.T < nextPrint && sample != samples[^1]) continue;
                nextPrint = sample.T + 2000;
                Console.WriteLine($"  {sample.T,8:F0}  {sample.Rss / 1024.0,7:F1}  {sample.Progress}");
            }
            if (state != "done") { Console.WriteLine($"# upload ended as '{state}' after {seconds:F1} s"); return 1; }

            // The stored file, read back through the API, is the one picked.
            var api = await ApiAsync();
            var name = Path.GetFileName(source);
            await using (var stored = await api.GetStreamAsync($"api/v1/storages/personal/download?path={name}"))
                Console.WriteLine($"stored file's SHA-256 {(Convert.ToHexStringLower(await System.Security.Cryptography.SHA256.HashDataAsync(stored)) == expected ? "matches" : "DIFFERS FROM")} the picked file's");
            var peak = samples.Max(s => s.Rss);
            Console.WriteLine($"page upload: {mib} MiB in {seconds:F1} s = {mib / seconds:F1} MiB/s (picked -> line 'uploaded', 100 ms polling)");
            Console.WriteLine($"app CPU during the upload: {cpu:F1} s");
            Console.WriteLine($"RSS baseline {baseline / 1024.0:F1} MB; peak {peak / 1024.0:F1} MB (extra {(peak - baseline) / 1024.0:F1} MB for a {mib} MiB file)");

            // The same bytes through the API (PUT, streamed from the file), for comparison.
            var apiStart = NowMs();
            await using (var body = File.OpenRead(source))
            {
                var put = await api.PutAsync($"api/v1/storages/personal/files?path=api-{name}", new StreamContent(body, 1 << 16));
                put.EnsureSuccessStatusCode();
            }
            var apiSeconds = (NowMs() - apiStart) / 1000;
            Console.WriteLine($"API upload (PUT, same file): {mib} MiB in {apiSeconds:F1} s = {mib / apiSeconds:F1} MiB/s");
            foreach (var path in new[] { name, $"api-{name}" }) await api.DeleteAsync($"api/v1/storages/personal/files?path={path}");
            Console.WriteLine($"# load at end: {Load()}");
            await context.CloseAsync();
            return 0;
        }
        finally
        {
            File.Delete(source);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null) await _browser.CloseAsync();
        _playwright?.Dispose();
        _api?.Dispose();
    }
}
