using Rosetta.Core.Tasks;

namespace Rosetta.App.Proxy;

/// <summary>
/// Optional per-task origins: with <c>Rosetta:Proxy:TaskHost</c> = <c>{id}.tasks.example.org</c>, each
/// task's interface is served at the root of its own host name, so a task's page cannot script the
/// dashboard or another task (different origins; the dashboard's cookies are host-only and never sent
/// there). Empty (the default): path mode, <c>/t/{id}/</c> on the dashboard's own origin.
/// </summary>
public sealed class TaskHostNames
{
    public const string ConfigurationKey = "Rosetta:Proxy:TaskHost";
    private const string Placeholder = "{id}";
    private readonly string? _suffix; // ".tasks.example.org", lower case
    private readonly int? _port;      // from the pattern; null: the dashboard's port
    private readonly Uri? _publicUrl;

    public TaskHostNames(IConfiguration configuration)
    {
        var pattern = configuration[ConfigurationKey]?.Trim();
        if (string.IsNullOrEmpty(pattern)) return; // path mode: nothing here is used
        var publicUrl = configuration["Rosetta:PublicUrl"];
        if (!string.IsNullOrWhiteSpace(publicUrl))
            _publicUrl = Uri.TryCreate(publicUrl.TrimEnd('/') + "/", UriKind.Absolute, out var url) && url.Scheme is "http" or "https"
                ? url : throw new InvalidOperationException($"Rosetta:PublicUrl must be an absolute http(s) URL when {ConfigurationKey} is set, got '{publicUrl}'.");
        // Only "{id}." followed by a DNS name (and maybe a port): one wildcard label, as a wildcard
        // certificate and DNS record cover it, and nothing a task id could be confused with.
        var bad = new InvalidOperationException(
            $"{ConfigurationKey} must look like '{Placeholder}.tasks.example.org' (optionally ':port'), got '{pattern}'.");
        if (!pattern.StartsWith(Placeholder + ".", StringComparison.Ordinal)) throw bad;
        var rest = pattern[(Placeholder.Length + 1)..].ToLowerInvariant();
        if (rest.LastIndexOf(':') is var colon and > 0)
        {
            if (!int.TryParse(rest[(colon + 1)..], out var port) || port is < 1 or > 65535) throw bad;
            _port = port;
            rest = rest[..colon];
        }
        if (rest.Contains(Placeholder) || Uri.CheckHostName(rest) != UriHostNameType.Dns || !rest.Contains('.') && rest != "localhost") throw bad;
        _suffix = "." + rest;
        // The names under the suffix are the tasks' (see IsUnderTaskDomain): the dashboard cannot be one of them.
        if (_publicUrl is not null && _publicUrl.Host.ToLowerInvariant().EndsWith(_suffix, StringComparison.Ordinal))
            throw new InvalidOperationException($"Rosetta:PublicUrl ({_publicUrl.Host}) is under the task hosts' domain '{rest}': give the dashboard a name outside it.");
    }

    /// <summary>Whether task interfaces are served on their own host names.</summary>
    public bool Enabled => _suffix is not null;

    /// <summary>The task a request's Host names, when it is a task host (the port is not compared: proxies in front may change it).</summary>
    public bool TryMatch(HostString host, out string taskId)
    {
        taskId = "";
        if (_suffix is null || !host.HasValue) return false;
        var name = host.Host.ToLowerInvariant();
        if (!name.EndsWith(_suffix, StringComparison.Ordinal)) return false;
        taskId = name[..^_suffix.Length];
        return TaskIds.IsWellFormed(taskId);
    }

    /// <summary>
    /// Whether the Host is a name under the task hosts' domain, a task's or not. Those that name no task (a mistyped
    /// id, <c>login.tasks.example.org</c>) get no dashboard either: it would be served on a name the wildcard
    /// certificate covers, beside pages any task's owner writes.
    /// </summary>
    public bool IsUnderTaskDomain(HostString host) =>
        _suffix is not null && host.HasValue && host.Host.ToLowerInvariant().EndsWith(_suffix, StringComparison.Ordinal);

    /// <summary>
    /// <c>scheme://{id}.suffix[:port]</c> of a task. Scheme and port follow <c>Rosetta:PublicUrl</c> when set,
    /// else the dashboard request the browser made (the same listener serves both).
    /// </summary>
    public string OriginOf(string taskId, HttpRequest dashboardRequest)
    {
        var scheme = _publicUrl?.Scheme ?? dashboardRequest.Scheme;
        var port = _port ?? (_publicUrl is { IsDefaultPort: false } ? _publicUrl.Port : _publicUrl is null ? dashboardRequest.Host.Port : null);
        return port is null ? $"{scheme}://{taskId}{_suffix}" : $"{scheme}://{taskId}{_suffix}:{port}";
    }

    /// <summary>The dashboard's origin: <c>Rosetta:PublicUrl</c>'s, else the request's (normalised, so it is safe in a header).</summary>
    public string DashboardOrigin(HttpRequest request) =>
        (_publicUrl ?? new Uri($"{request.Scheme}://{request.Host}/")).GetLeftPart(UriPartial.Authority);

    /// <summary>The dashboard's origin (scheme, host, port) from its public URL, when configured.</summary>
    public string? PublicOrigin => _publicUrl?.GetLeftPart(UriPartial.Authority);

    /// <summary>The dashboard's public URL without a trailing slash, when configured.</summary>
    public string? DashboardBase => _publicUrl?.AbsoluteUri.TrimEnd('/');

    /// <summary>The path the dashboard is served under (<c>/rosetta</c>; empty at the root).</summary>
    public string DashboardPath => _publicUrl?.AbsolutePath.TrimEnd('/') ?? "";

    /// <summary>Where a browser without a valid task-host session starts over: the task's dashboard entry point, when the dashboard's URL is known.</summary>
    public string? DashboardEntry(string taskId, HttpRequest taskHostRequest) =>
        _publicUrl is null ? null
            : $"{DashboardBase}/t/{taskId}{taskHostRequest.Path.ToUriComponent()}{taskHostRequest.QueryString.ToUriComponent()}";
}
