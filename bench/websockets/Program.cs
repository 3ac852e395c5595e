// WebSocket benchmarks for the interfaces issue (see README.md next to this file).
//   rtt  <proxyBase> <bearer> <taskId> <kernelId> <directs> <jupyterToken> [N=2000] [block=100]
//   vnc  <proxyBase> <bearer> <taskId> <directs> <vncPassword> [seconds=20] [rounds=2]
// <directs>: the baselines without the platform, "name=host:port" comma-separated (a bare port means
// "published=127.0.0.1:port"). The verdict compares the proxy with the fastest of them.
//   hold <proxyBase> <bearer> <taskId> <kernelIds,comma> <idleKernelId> <seconds> [conns=100] [idle=5]
using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

var mode = args.Length > 0 ? args[0] : "";
return mode switch
{
    "rtt" => await Rtt.RunAsync(args[1..]),
    "vnc" => await Vnc.RunAsync(args[1..]),
    "hold" => await Hold.RunAsync(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: rtt|vnc|hold ... (see Program.cs header)");
    return 2;
}

static class Util
{
    public static double Pct(List<double> sorted, double p)
    {
        if (sorted.Count == 0) return double.NaN;
        var rank = p / 100 * (sorted.Count - 1);
        var lo = (int)Math.Floor(rank);
        var hi = (int)Math.Ceiling(rank);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
    }

    public static string Load() => File.ReadAllText("/proc/loadavg").Trim();

    /// <summary>Parses the baselines argument: "name=host:port,..." or a bare published port.</summary>
    public static List<(string name, string hostPort)> Directs(string arg) =>
        arg.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(d => d.Contains('=')
            ? (d[..d.IndexOf('=')], d[(d.IndexOf('=') + 1)..])
            : ("published", "127.0.0.1:" + d)).ToList();

    /// <summary>(busy, total) jiffies of the whole machine from /proc/stat.</summary>
    public static (long busy, long total) MachineCpu()
    {
        var f = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..].Select(long.Parse).ToArray();
        var total = f.Take(8).Sum();
        return (total - f[3] - f[4], total);
    }

    /// <summary>utime+stime jiffies of a process (WS_APP_PID), or -1.</summary>
    public static long ProcessCpu()
    {
        if (Environment.GetEnvironmentVariable("WS_APP_PID") is not { Length: > 0 } pid) return -1;
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(f[11]) + long.Parse(f[12]);
        }
        catch (IOException) { return -1; }
    }

    public static async Task<ClientWebSocket> ConnectAsync(string uri, string authorization, string? subprotocol = null, TimeSpan? keepAlive = null)
    {
        var ws = new ClientWebSocket();
        ws.Options.SetRequestHeader("Authorization", authorization);
        if (subprotocol is not null) ws.Options.AddSubProtocol(subprotocol);
        if (keepAlive is { } k) ws.Options.KeepAliveInterval = k;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await ws.ConnectAsync(new Uri(uri), cts.Token);
        return ws;
    }
}

/// <summary>Jupyter kernel channel over a WebSocket (legacy JSON protocol, no subprotocol).</summary>
sealed class KernelChannel(ClientWebSocket ws)
{
    private readonly string _session = Guid.NewGuid().ToString("N");
    private byte[] _buf = new byte[1 << 16];
    public ClientWebSocket Socket => ws;
    public long MessagesReceived;

    public static byte[] KernelInfoRequest(string session, string msgId) =>
        Encoding.UTF8.GetBytes(
            "{\"header\":{\"msg_id\":\"" + msgId + "\",\"username\":\"bench\",\"session\":\"" + session +
            "\",\"msg_type\":\"kernel_info_request\",\"version\":\"5.3\",\"date\":\"" + DateTime.UtcNow.ToString("o") +
            "\"},\"parent_header\":{},\"metadata\":{},\"content\":{},\"buffers\":[],\"channel\":\"shell\"}");

    public Task SendKernelInfoAsync(string msgId, CancellationToken ct) =>
        ws.SendAsync(KernelInfoRequest(_session, msgId), WebSocketMessageType.Text, true, ct);

    /// <summary>Next complete message; null when the socket closed.</summary>
    public async Task<(string? msgType, string? parentId)?> ReceiveAsync(CancellationToken ct)
    {
        var len = 0;
        while (true)
        {
            if (len == _buf.Length) Array.Resize(ref _buf, _buf.Length * 2);
            var r = await ws.ReceiveAsync(_buf.AsMemory(len), ct);
            if (r.MessageType == WebSocketMessageType.Close) return null;
            len += r.Count;
            if (r.EndOfMessage) break;
        }
        MessagesReceived++;
        using var doc = JsonDocument.Parse(_buf.AsMemory(0, len));
        var root = doc.RootElement;
        string? type = null, parent = null;
        if (root.TryGetProperty("header", out var h) && h.TryGetProperty("msg_type", out var t)) type = t.GetString();
        if (root.TryGetProperty("parent_header", out var p) && p.ValueKind == JsonValueKind.Object && p.TryGetProperty("msg_id", out var pid)) parent = pid.GetString();
        return (type, parent);
    }

    /// <summary>Sends one kernel_info_request and waits for its reply; other messages are skipped.</summary>
    public async Task<double> RoundTripAsync(CancellationToken ct)
    {
        var id = Guid.NewGuid().ToString("N");
        var start = Stopwatch.GetTimestamp();
        await SendKernelInfoAsync(id, ct);
        while (true)
        {
            var m = await ReceiveAsync(ct) ?? throw new WebSocketException("closed while waiting for kernel_info_reply");
            if (m.msgType == "kernel_info_reply" && m.parentId == id) return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
    }
}

static class Rtt
{
    public static async Task<int> RunAsync(string[] a)
    {
        string proxyBase = a[0], bearer = a[1], task = a[2], kernel = a[3], jtoken = a[5];
        var directs = Util.Directs(a[4]);
        var n = a.Length > 6 ? int.Parse(a[6]) : 2000;
        var block = a.Length > 7 ? int.Parse(a[7]) : 100;
        var wsBase = proxyBase.Replace("http://", "ws://");
        var proxyUri = $"{wsBase}/t/{task}/api/kernels/{kernel}/channels";
        Console.WriteLine($"# rtt start {DateTime.UtcNow:O} loadavg {Util.Load()}");
        var paths = new List<(string name, KernelChannel channel, List<double> samples)>();
        foreach (var (name, hostPort) in directs)
        {
            var uri = $"ws://{hostPort}/t/{task}/api/kernels/{kernel}/channels";
            Console.WriteLine($"# {name,-9} {uri}  (Authorization: token <jupyter token>)");
            paths.Add((name, new KernelChannel(await Util.ConnectAsync(uri, "token " + jtoken)), new List<double>(n)));
        }
        Console.WriteLine($"# {"proxy",-9} {proxyUri}  (Authorization: Bearer <api token>)");
        paths.Add(("proxy", new KernelChannel(await Util.ConnectAsync(proxyUri, "Bearer " + bearer)), new List<double>(n)));
        Console.WriteLine($"# N={n} per path, blocks of {block} taking turns, warm-up 200 per path not counted");
        var ct = CancellationToken.None;
        for (var i = 0; i < 200; i++) foreach (var path in paths) await path.channel.RoundTripAsync(ct);
        var blockNo = 0;
        while (paths.Any(path => path.samples.Count < n))
        {
            var (_, ch, list) = paths[blockNo % paths.Count];
            for (var i = 0; i < block && list.Count < n; i++) list.Add(await ch.RoundTripAsync(ct));
            blockNo++;
        }
        Console.WriteLine("path      n      p50_ms   p90_ms   p99_ms   mean_ms  max_ms");
        foreach (var (name, _, samples) in paths)
        {
            var s = samples.Order().ToList();
            Console.WriteLine($"{name,-9} {s.Count,-6} {Util.Pct(s, 50),8:F3} {Util.Pct(s, 90),8:F3} {Util.Pct(s, 99),8:F3} {s.Average(),8:F3} {s[^1],8:F3}");
        }
        var sp = paths[^1].samples.Order().ToList();
        var worst = double.MinValue;
        foreach (var (name, _, samples) in paths.SkipLast(1))
        {
            var sd = samples.Order().ToList();
            var diff50 = Util.Pct(sp, 50) - Util.Pct(sd, 50);
            worst = Math.Max(worst, diff50);
            Console.WriteLine($"proxy-{name,-9} p50 {diff50:+0.000;-0.000} ms  p90 {Util.Pct(sp, 90) - Util.Pct(sd, 90):+0.000;-0.000} ms  p99 {Util.Pct(sp, 99) - Util.Pct(sd, 99):+0.000;-0.000} ms");
        }
        Console.WriteLine($"target p50 difference <= 0.300 ms against the fastest direct path (+{worst:0.000} ms): {(worst <= 0.3 ? "MET" : "MISSED")}");
        Console.WriteLine($"# rtt end {DateTime.UtcNow:O} loadavg {Util.Load()}");
        foreach (var path in paths) await path.channel.Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, ct);
        return 0;
    }
}

/// <summary>RFB over a WebSocket read as a byte stream.</summary>
sealed class RfbStream(ClientWebSocket ws)
{
    private readonly byte[] _buf = new byte[1 << 20];
    private int _start, _end;
    public long BytesIn;

    public async Task ReadExactlyAsync(Memory<byte> dest, CancellationToken ct)
    {
        var filled = 0;
        while (filled < dest.Length)
        {
            if (_start == _end) await FillAsync(ct);
            var n = Math.Min(dest.Length - filled, _end - _start);
            _buf.AsMemory(_start, n).CopyTo(dest[filled..]);
            _start += n;
            filled += n;
        }
    }

    public async Task SkipAsync(long count, CancellationToken ct)
    {
        while (count > 0)
        {
            if (_start == _end) await FillAsync(ct);
            var n = (int)Math.Min(count, _end - _start);
            _start += n;
            count -= n;
        }
    }

    public async Task<byte[]> ReadAsync(int count, CancellationToken ct)
    {
        var b = new byte[count];
        await ReadExactlyAsync(b, ct);
        return b;
    }

    private async Task FillAsync(CancellationToken ct)
    {
        _start = _end = 0;
        while (true)
        {
            var r = await ws.ReceiveAsync(_buf.AsMemory(), ct);
            if (r.MessageType == WebSocketMessageType.Close) throw new EndOfStreamException("WebSocket closed");
            if (r.Count == 0) continue;
            _end = r.Count;
            BytesIn += r.Count;
            return;
        }
    }

    public Task SendAsync(byte[] b, CancellationToken ct) => ws.SendAsync(b, WebSocketMessageType.Binary, true, ct);
}

static class Vnc
{
    public static async Task<int> RunAsync(string[] a)
    {
        string proxyBase = a[0], bearer = a[1], task = a[2], password = a[4];
        var directs = Util.Directs(a[3]);
        var seconds = a.Length > 5 ? double.Parse(a[5]) : 20;
        var rounds = a.Length > 6 ? int.Parse(a[6]) : 2;
        var wsBase = proxyBase.Replace("http://", "ws://");
        var paths = directs.Select(d => (name: d.name, uri: $"ws://{d.hostPort}/websockify", auth: (string?)null, vnc: (string?)password)).ToList();
        paths.Add(("proxy", $"{wsBase}/t/{task}/websockify", "Bearer " + bearer, null));
        Console.WriteLine($"# vnc start {DateTime.UtcNow:O} loadavg {Util.Load()}");
        foreach (var path in paths)
            Console.WriteLine($"# {path.name,-9} {path.uri} ({(path.vnc is null ? "proxy does VNC auth; client sees None" : "VNC auth done here")})");
        Console.WriteLine($"# Raw encoding, 32 bpp, non-incremental full-screen FramebufferUpdateRequest, one outstanding; {seconds} s per run, {rounds} rounds over all paths, 3 s warm-up per run not counted");
        Console.WriteLine("run  path       seconds  updates  updates/s   MB/s(payload)  MB/s(ws bytes)  machine_cpu%  app_cpu%(1 core=100)  loadavg");
        var totals = paths.ToDictionary(p => p.name, _ => (sec: 0.0, upd: 0L, bytes: 0L, wsBytes: 0L));
        for (var r = 0; r < rounds; r++)
        {
            foreach (var path in paths)
            {
                var (b0, t0) = Util.MachineCpu();
                var a0 = Util.ProcessCpu();
                var res = await MeasureAsync(path.uri, path.auth, path.vnc, seconds);
                var (b1, t1) = Util.MachineCpu();
                var a1 = Util.ProcessCpu();
                var machine = 100.0 * (b1 - b0) / Math.Max(1, t1 - t0);
                var app = a0 < 0 ? double.NaN : 100.0 * (a1 - a0) / 100.0 / (res.sec + 3); // 100 jiffies/s; run includes 3 s warm-up
                var t = totals[path.name];
                totals[path.name] = (t.sec + res.sec, t.upd + res.upd, t.bytes + res.bytes, t.wsBytes + res.wsBytes);
                Console.WriteLine($"{r + 1,-4} {path.name,-9} {res.sec,7:F2}  {res.upd,7}  {res.upd / res.sec,9:F1}   {res.bytes / res.sec / 1e6,12:F1}  {res.wsBytes / res.sec / 1e6,14:F1}  {machine,12:F0}  {app,20:F0}  {Util.Load()}");
            }
        }
        foreach (var (name, t) in totals) Console.WriteLine($"total {name,-9}: {t.upd / t.sec:F1} updates/s, {t.bytes / t.sec / 1e6:F1} MB/s");
        var proxyRate = totals["proxy"].bytes / totals["proxy"].sec;
        var worst = double.MaxValue;
        foreach (var (name, _) in directs)
        {
            var ratio = proxyRate / (totals[name].bytes / totals[name].sec);
            worst = Math.Min(worst, ratio);
            Console.WriteLine($"proxy/{name} bytes/s ratio: {ratio * 100:F1} %");
        }
        Console.WriteLine($"target >= 90 % of the fastest direct path ({worst * 100:F1} %): {(worst >= 0.9 ? "MET" : "MISSED")}");
        Console.WriteLine($"# vnc end {DateTime.UtcNow:O} loadavg {Util.Load()}");
        return 0;
    }

    static async Task<(double sec, long upd, long bytes, long wsBytes)> MeasureAsync(string uri, string? authorization, string? vncPassword, double seconds)
    {
        using var ws = new ClientWebSocket();
        if (authorization is not null) ws.Options.SetRequestHeader("Authorization", authorization);
        ws.Options.AddSubProtocol("binary");
        await ws.ConnectAsync(new Uri(uri), CancellationToken.None);
        var s = new RfbStream(ws);
        var ct = CancellationToken.None;
        var version = Encoding.ASCII.GetString(await s.ReadAsync(12, ct));
        if (!version.StartsWith("RFB 003.00")) throw new InvalidDataException("not RFB: " + version);
        await s.SendAsync(Encoding.ASCII.GetBytes("RFB 003.008\n"), ct);
        var count = (await s.ReadAsync(1, ct))[0];
        if (count == 0) throw new InvalidDataException("server refused");
        var types = await s.ReadAsync(count, ct);
        if (vncPassword is not null && Array.IndexOf(types, (byte)2) >= 0)
        {
            await s.SendAsync([2], ct);
            var challenge = await s.ReadAsync(16, ct);
            await s.SendAsync(DesResponse(challenge, vncPassword), ct);
        }
        else if (Array.IndexOf(types, (byte)1) >= 0)
        {
            await s.SendAsync([1], ct);
        }
        else throw new InvalidDataException("no usable security type: " + string.Join(",", types));
        var result = BinaryPrimitives.ReadUInt32BigEndian(await s.ReadAsync(4, ct));
        if (result != 0) throw new InvalidDataException("security result " + result);
        await s.SendAsync([1], ct); // ClientInit, shared
        var init = await s.ReadAsync(24, ct);
        int w = BinaryPrimitives.ReadUInt16BigEndian(init), h = BinaryPrimitives.ReadUInt16BigEndian(init.AsSpan(2));
        var nameLen = (int)BinaryPrimitives.ReadUInt32BigEndian(init.AsSpan(20));
        await s.ReadAsync(nameLen, ct);
        // SetPixelFormat: 32 bpp, depth 24, little-endian, true colour, 8 bits per channel.
        await s.SendAsync([0, 0, 0, 0, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0], ct);
        await s.SendAsync([2, 0, 0, 1, 0, 0, 0, 0], ct); // SetEncodings [Raw]
        var request = new byte[10];
        request[0] = 3; request[1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(request.AsSpan(6), (ushort)w);
        BinaryPrimitives.WriteUInt16BigEndian(request.AsSpan(8), (ushort)h);
        var header = new byte[12];
        long updates = 0, payload = 0;
        var warmupEnd = Stopwatch.GetTimestamp() + (long)(3 * Stopwatch.Frequency);
        long start = 0, wsAtStart = 0;
        var measuring = false;
        while (true)
        {
            var now = Stopwatch.GetTimestamp();
            if (!measuring && now >= warmupEnd) { measuring = true; start = now; updates = 0; payload = 0; wsAtStart = s.BytesIn; }
            if (measuring && Stopwatch.GetElapsedTime(start).TotalSeconds >= seconds) break;
            await s.SendAsync(request, ct);
            // Read server messages until one FramebufferUpdate is complete.
            while (true)
            {
                var type = (await s.ReadAsync(1, ct))[0];
                if (type == 0)
                {
                    var rects = BinaryPrimitives.ReadUInt16BigEndian((await s.ReadAsync(3, ct)).AsSpan(1));
                    for (var i = 0; i < rects; i++)
                    {
                        await s.ReadExactlyAsync(header, ct);
                        int rw = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(4)), rh = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(6));
                        var enc = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(8));
                        if (enc != 0) throw new InvalidDataException("unexpected encoding " + enc);
                        long bytes = (long)rw * rh * 4;
                        await s.SkipAsync(bytes, ct);
                        payload += bytes;
                    }
                    updates++;
                    break;
                }
                if (type == 1) { var hd = await s.ReadAsync(5, ct); await s.SkipAsync(BinaryPrimitives.ReadUInt16BigEndian(hd.AsSpan(3)) * 6L, ct); }
                else if (type == 2) { }
                else if (type == 3) { var hd = await s.ReadAsync(7, ct); await s.SkipAsync(BinaryPrimitives.ReadUInt32BigEndian(hd.AsSpan(3)), ct); }
                else throw new InvalidDataException("unexpected server message " + type);
            }
        }
        var sec = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var wsBytes = s.BytesIn - wsAtStart;
        try { await ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None); } catch (WebSocketException) { }
        Console.Error.WriteLine($"# {uri}: framebuffer {w}x{h}");
        return (sec, updates, payload, wsBytes);
    }

    static byte[] DesResponse(byte[] challenge, string password)
    {
        var key = new byte[8];
        var bytes = Encoding.Latin1.GetBytes(password);
        for (var i = 0; i < 8 && i < bytes.Length; i++)
        {
            byte b = bytes[i], r = 0;
            for (var j = 0; j < 8; j++) r |= (byte)(((b >> j) & 1) << (7 - j));
            key[i] = r;
        }
        using var des = DES.Create();
        des.Key = key;
        return des.EncryptEcb(challenge, PaddingMode.None);
    }
}

static class Hold
{
    public static async Task<int> RunAsync(string[] a)
    {
        string proxyBase = a[0], bearer = a[1], task = a[2];
        var kernels = a[3].Split(',');
        var idleKernel = a[4];
        var seconds = double.Parse(a[5]);
        var conns = a.Length > 6 ? int.Parse(a[6]) : 100;
        var idleConns = a.Length > 7 ? int.Parse(a[7]) : 5;
        var wsBase = proxyBase.Replace("http://", "ws://");
        Console.WriteLine($"# hold start {DateTime.UtcNow:O} loadavg {Util.Load()}");
        Console.WriteLine($"# {conns} active connections through the proxy over kernels {string.Join(",", kernels)}; one kernel_info_request per connection every 30 s (staggered), reply deadline 10 s");
        Console.WriteLine($"# {idleConns} idle connections on kernel {idleKernel}: nothing sent after the upgrade, client keep-alive pings off (KeepAliveInterval=0)");
        Console.WriteLine($"# planned duration {seconds} s");
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        long requests = 0, replies = 0, lateOrMissing = 0, closes = 0, errors = 0, connectFailures = 0;
        var rtts = new List<double>();
        var errorTexts = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var runStart = Stopwatch.GetTimestamp();

        async Task ActiveAsync(int i)
        {
            KernelChannel ch;
            try { ch = new KernelChannel(await Util.ConnectAsync($"{wsBase}/t/{task}/api/kernels/{kernels[i % kernels.Length]}/channels", "Bearer " + bearer)); }
            catch (Exception e) { Interlocked.Increment(ref connectFailures); errorTexts.Enqueue($"conn {i} connect: {e.Message}"); return; }
            var pending = new System.Collections.Concurrent.ConcurrentDictionary<string, long>();
            var recv = Task.Run(async () =>
            {
                try
                {
                    while (true)
                    {
                        var m = await ch.ReceiveAsync(stop.Token);
                        if (m is null) { Interlocked.Increment(ref closes); errorTexts.Enqueue($"conn {i} closed by peer at {Stopwatch.GetElapsedTime(runStart).TotalSeconds:F0} s: {ch.Socket.CloseStatus} {ch.Socket.CloseStatusDescription}"); return; }
                        if (m.Value.msgType == "kernel_info_reply" && m.Value.parentId is { } pid && pending.TryRemove(pid, out var t0))
                        {
                            Interlocked.Increment(ref replies);
                            lock (rtts) rtts.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                        }
                    }
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested) { }
                catch (Exception e) { Interlocked.Increment(ref errors); errorTexts.Enqueue($"conn {i} receive at {Stopwatch.GetElapsedTime(runStart).TotalSeconds:F0} s: {e.GetType().Name} {e.Message}"); }
            });
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(300.0 * i), stop.Token); // stagger over 30 s
                while (!recv.IsCompleted)
                {
                    var id = Guid.NewGuid().ToString("N");
                    pending[id] = Stopwatch.GetTimestamp();
                    Interlocked.Increment(ref requests);
                    await ch.SendKernelInfoAsync(id, stop.Token);
                    await Task.Delay(TimeSpan.FromSeconds(10), stop.Token);
                    if (pending.TryRemove(id, out _)) { Interlocked.Increment(ref lateOrMissing); errorTexts.Enqueue($"conn {i} no reply within 10 s"); }
                    await Task.Delay(TimeSpan.FromSeconds(20), stop.Token);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { }
            catch (Exception e) { Interlocked.Increment(ref errors); errorTexts.Enqueue($"conn {i} send: {e.GetType().Name} {e.Message}"); }
            await recv;
            if (ch.Socket.State == WebSocketState.Open)
                try { await ch.Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None); } catch (WebSocketException) { }
        }

        long idleMessages = 0, idleClosed = 0;
        var idleOpenAtEnd = 0;
        async Task IdleAsync(int i)
        {
            ClientWebSocket ws;
            try { ws = await Util.ConnectAsync($"{wsBase}/t/{task}/api/kernels/{idleKernel}/channels", "Bearer " + bearer, keepAlive: TimeSpan.Zero); }
            catch (Exception e) { Interlocked.Increment(ref connectFailures); errorTexts.Enqueue($"idle {i} connect: {e.Message}"); return; }
            var ch = new KernelChannel(ws);
            // The pending receive is never cancelled (cancelling a ClientWebSocket receive aborts the socket):
            // the stop only ends the wait, then one round trip proves the connection still works.
            var stopped = Task.Delay(Timeout.Infinite, stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            Task<(string? msgType, string? parentId)?> pendingReceive;
            try
            {
                while (true)
                {
                    pendingReceive = ch.ReceiveAsync(CancellationToken.None);
                    if (await Task.WhenAny(pendingReceive, stopped) == stopped) break;
                    var m = await pendingReceive;
                    if (m is null) { Interlocked.Increment(ref idleClosed); errorTexts.Enqueue($"idle {i} closed by peer at {Stopwatch.GetElapsedTime(runStart).TotalSeconds:F0} s: {ws.CloseStatus} {ws.CloseStatusDescription}"); return; }
                    Interlocked.Increment(ref idleMessages);
                }
            }
            catch (Exception e) { Interlocked.Increment(ref idleClosed); errorTexts.Enqueue($"idle {i} receive at {Stopwatch.GetElapsedTime(runStart).TotalSeconds:F0} s: {e.GetType().Name} {e.Message}"); return; }
            if (ws.State == WebSocketState.Open)
            {
                Interlocked.Increment(ref idleOpenAtEnd);
                try
                {
                    var id = Guid.NewGuid().ToString("N");
                    var t0 = Stopwatch.GetTimestamp();
                    await ch.SendKernelInfoAsync(id, CancellationToken.None);
                    var deadline = Task.Delay(TimeSpan.FromSeconds(10));
                    var answered = false;
                    while (true)
                    {
                        if (await Task.WhenAny(pendingReceive, deadline) == deadline) break;
                        var m = await pendingReceive;
                        if (m is null) break;
                        if (m.Value.msgType == "kernel_info_reply" && m.Value.parentId == id) { answered = true; break; }
                        pendingReceive = ch.ReceiveAsync(CancellationToken.None);
                    }
                    Console.WriteLine(answered
                        ? $"idle {i}: open after {Stopwatch.GetElapsedTime(runStart).TotalSeconds:F0} s, kernel_info round trip {Stopwatch.GetElapsedTime(t0).TotalMilliseconds:F1} ms"
                        : $"idle {i}: open after {Stopwatch.GetElapsedTime(runStart).TotalSeconds:F0} s but no kernel_info_reply within 10 s");
                    if (!answered) Interlocked.Decrement(ref idleOpenAtEnd);
                }
                catch (Exception e) { Interlocked.Decrement(ref idleOpenAtEnd); Console.WriteLine($"idle {i}: open but round trip failed: {e.Message}"); }
                try { await ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None); } catch (WebSocketException) { }
            }
        }

        var all = Enumerable.Range(0, conns).Select(ActiveAsync).Concat(Enumerable.Range(0, idleConns).Select(IdleAsync)).ToList();
        var reporter = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    await Task.Delay(TimeSpan.FromSeconds(30), stop.Token);
                    Console.WriteLine($"t={Stopwatch.GetElapsedTime(runStart).TotalSeconds,5:F0}s requests={requests} replies={replies} late/missing={lateOrMissing} closes={closes} errors={errors} connect_failures={connectFailures} idle_msgs={idleMessages} idle_closed={idleClosed} loadavg {Util.Load()}");
                }
            }
            catch (OperationCanceledException) { }
        });
        await Task.WhenAll(all);
        await reporter;
        var elapsed = Stopwatch.GetElapsedTime(runStart).TotalSeconds;
        foreach (var e in errorTexts.Take(50)) Console.WriteLine("! " + e);
        rtts.Sort();
        Console.WriteLine($"duration {elapsed:F0} s; active connections {conns}, idle {idleConns}");
        Console.WriteLine($"requests {requests}, replies {replies}, late/missing {lateOrMissing} (the final in-flight request of each connection may be cut by the stop), closes by peer {closes}, errors {errors}, connect failures {connectFailures}");
        Console.WriteLine($"kernel_info round trip under hold: p50 {Util.Pct(rtts, 50):F1} ms p99 {Util.Pct(rtts, 99):F1} ms max {(rtts.Count > 0 ? rtts[^1] : double.NaN):F1} ms");
        Console.WriteLine($"idle connections: {idleOpenAtEnd}/{idleConns} open at the end, {idleClosed} closed, {idleMessages} messages received on them");
        var ok = connectFailures == 0 && closes == 0 && errors == 0 && idleClosed == 0 && idleOpenAtEnd == idleConns;
        Console.WriteLine($"no drops: {(ok ? "YES" : "NO")}");
        Console.WriteLine($"# hold end {DateTime.UtcNow:O} loadavg {Util.Load()}");
        return ok ? 0 : 1;
    }
}
