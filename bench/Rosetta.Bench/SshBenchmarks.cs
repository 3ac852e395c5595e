using System.Diagnostics;
using System.Text.RegularExpressions;

/// <summary>
/// The SSH backend's three targets, against the demo SSH host (whose engine is this machine's):
/// start overhead over the same start on local, GET latency through the tunnel, and tasks on one
/// host sharing one SSH connection.
/// </summary>
static class SshBenchmarks
{
    public static async Task<int> RunAsync(Options o, Platform platform)
    {
        var timeout = TimeSpan.FromSeconds(o.TimeoutSeconds);
        await StartOverheadAsync(o, platform, timeout);
        Console.WriteLine();
        await LatencyAsync(o, platform, timeout, new Interface(o.Software, 8080, _ => "/", KeepsToken: false));
        Console.WriteLine();
        // Jupyter keeps its connections open, so the tunnel's channel is opened once, not per request.
        await LatencyAsync(o, platform, timeout, new Interface("jupyter", 8888, id => $"/t/{id}/api/status", KeepsToken: true));
        Console.WriteLine();
        await SharedConnectionAsync(o, platform, timeout);
        return 0;
    }

    /// <summary>POST until /t/{id}/ answers, on local and on the SSH host, alternating which goes first.</summary>
    private static async Task StartOverheadAsync(Options o, Platform platform, TimeSpan timeout)
    {
        Console.WriteLine($"## start overhead: '{o.Software}' on local vs on {o.Computing}, {o.Iterations} pairs (+1 warm-up), order alternating;");
        Console.WriteLine("## time = before POST /api/v1/tasks until GET /t/{id}/ answers 200 (a new poll every " + o.PollMs + " ms); each pair's tasks deleted before the next");
        using var poller = Net.NewClient();
        var local = new List<double>();
        var remote = new List<double>();
        for (var i = 0; i <= o.Iterations; i++)
        {
            var order = i % 2 == 0 ? new[] { "local", o.Computing } : [o.Computing, "local"];
            var times = new Dictionary<string, double>();
            var ids = new List<string>();
            foreach (var computing in order)
            {
                var sw = Stopwatch.StartNew();
                var (id, status, body) = await platform.CreateAsync(computing);
                if (id is null) throw new InvalidOperationException($"POST /api/v1/tasks on {computing} answered {status}: {body}");
                ids.Add(id);
                var (_, ms) = await Benchmarks.PollUntilOkAsync(poller, () => platform.Request(HttpMethod.Get, $"/t/{id}/"), sw, o.PollMs, timeout);
                times[computing] = ms;
                await Task.Delay(300);
            }
            await platform.StopAndDeleteAsync(ids);
            Console.WriteLine($"{(i == 0 ? "warm-up" : $"pair {i,2}"),-8} local {times["local"],7:F1} ms   {o.Computing} {times[o.Computing],7:F1} ms");
            if (i == 0) continue;
            local.Add(times["local"]);
            remote.Add(times[o.Computing]);
        }
        Console.WriteLine(Stats.Line("local (ms)", local));
        Console.WriteLine(Stats.Line($"{o.Computing} (ms)", remote));
        Console.WriteLine(Stats.Line("ssh - local, paired", remote.Zip(local, (r, l) => r - l).ToList()));
        var added = Stats.P(remote, 50) - Stats.P(local, 50);
        Console.WriteLine($"RESULT start overhead of ssh over local: median {added:F0} ms (target < 500 ms: {(added < 500 ? "MET" : "MISSED")})");
    }

    /// <summary>Sequential GETs: straight to the port the engine published on the host, through the proxy to a task on the host (over the tunnel), and through the proxy to a local task.</summary>
    /// <summary>An interface to time: its software, its port in the container, the path to GET, and whether a direct request needs the task's Jupyter token.</summary>
    private sealed record Interface(string Software, int Port, Func<string, string> PathOf, bool KeepsToken);

    private static async Task LatencyAsync(Options o, Platform platform, TimeSpan timeout, Interface target)
    {
        var (remoteId, _, remoteBody) = await platform.CreateAsync(o.Computing, target.Software);
        var (localId, _, localBody) = await platform.CreateAsync("local", target.Software);
        if (remoteId is null || localId is null) throw new InvalidOperationException($"start failed: {remoteBody} {localBody}");
        try
        {
            await platform.WaitRunningAsync(remoteId, timeout);
            await platform.WaitRunningAsync(localId, timeout);
            var container = (await Docker.ContainersOfAsync(o, [remoteId], runningOnly: true))[remoteId];
            var direct = $"http://{Docker.PublishedAddress(await Docker.CheckedAsync(o, "port", container, $"{target.Port}/tcp"))}{target.PathOf(remoteId)}";
            // The bench is the operator: it reads the task's Jupyter token from the engine, which the API never shows.
            var token = target.KeepsToken
                ? (await Docker.CheckedAsync(o, "inspect", "--format", "{{range .Config.Env}}{{println .}}{{end}}", container))
                    .Split('\n').First(l => l.StartsWith("JUPYTER_TOKEN=", StringComparison.Ordinal))["JUPYTER_TOKEN=".Length..].Trim()
                : null;
            string ProxyPath(string id) => target.KeepsToken ? target.PathOf(id) : $"/t/{id}/";
            Console.WriteLine($"## latency, '{target.Software}': sequential GETs, {o.Requests} each after 300 warm-up, in alternating blocks of 100; ms");
            Console.WriteLine($"## direct    : {direct} (the port the engine published on the host's loopback){(token is null ? "" : ", with the task's token")}");
            Console.WriteLine($"## ssh proxy : {ProxyPath(remoteId)} (platform proxy → SSH tunnel → that port)");
            Console.WriteLine($"## local proxy: {ProxyPath(localId)} (platform proxy → a local task's port), to separate the tunnel from the proxy");
            using var client = Net.NewClient();
            HttpRequestMessage Direct()
            {
                var m = new HttpRequestMessage(HttpMethod.Get, direct);
                if (token is not null) m.Headers.TryAddWithoutValidation("Authorization", $"token {token}");
                return m;
            }
            var targets = new (string Label, Func<HttpRequestMessage> Make, List<double> Into)[]
            {
                ("direct", Direct, []),
                ("ssh proxy", () => platform.Request(HttpMethod.Get, ProxyPath(remoteId)), []),
                ("local proxy", () => platform.Request(HttpMethod.Get, ProxyPath(localId)), []),
            };
            foreach (var t in targets) await Benchmarks.TimeAsync(client, t.Make, 300, []);
            for (var done = 0; done < o.Requests; done += 100)
            {
                var offset = done / 100;
                for (var k = 0; k < targets.Length; k++)
                {
                    var t = targets[(offset + k) % targets.Length];
                    await Benchmarks.TimeAsync(client, t.Make, 100, t.Into);
                }
            }
            foreach (var t in targets) Console.WriteLine(Stats.Line(t.Label, t.Into, fmt: "F3"));
            var tunnel = Stats.P(targets[1].Into, 50) - Stats.P(targets[2].Into, 50);
            var overDirect = Stats.P(targets[1].Into, 50) - Stats.P(targets[0].Into, 50);
            Console.WriteLine($"RESULT ({target.Software}) the tunnel adds {tunnel:F3} ms at p50 (ssh proxy - local proxy); proxy + tunnel add {overDirect:F3} ms over direct " +
                $"(target: within 1 ms of direct at p50: {(overDirect <= 1 ? "MET" : "MISSED")})");
        }
        finally
        {
            await platform.StopAndDeleteAsync([remoteId, localId]);
        }
    }

    /// <summary>20 tasks on the host, then count the app's established TCP connections to the host's sshd.</summary>
    private static async Task SharedConnectionAsync(Options o, Platform platform, TimeSpan timeout)
    {
        const int tasks = 20;
        Console.WriteLine($"## shared connection: {tasks} '{o.Software}' tasks on {o.Computing}, then the app's (pid {o.AppPid}) established TCP connections to 127.0.0.1:2222");
        var ids = new List<string>();
        try
        {
            for (var i = 0; i < tasks; i++)
            {
                var (id, status, body) = await platform.CreateAsync(o.Computing);
                ids.Add(id ?? throw new InvalidOperationException($"POST answered {status}: {body}"));
            }
            foreach (var id in ids) await platform.WaitRunningAsync(id, timeout);
            using var client = Net.NewClient();
            foreach (var id in ids) await Benchmarks.TimeAsync(client, () => platform.Request(HttpMethod.Get, $"/t/{id}/"), 5, []);
            var ss = Process.Start(new ProcessStartInfo("ss", "-Htnp state established ( dport = :2222 )") { RedirectStandardOutput = true })!;
            var lines = (await ss.StandardOutput.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            await ss.WaitForExitAsync();
            var mine = lines.Count(l => Regex.IsMatch(l, $@"pid={o.AppPid}\b"));
            Console.WriteLine($"all {tasks} running and answering through /t/{{id}}/; SSH connections from the app to the host: {mine} (all processes: {lines.Length})");
            Console.WriteLine($"RESULT {tasks} tasks on one host use {mine} SSH connection(s) (target: one: {(mine == 1 ? "MET" : "MISSED")})");
        }
        finally
        {
            await platform.StopAndDeleteAsync(ids);
        }
    }
}
