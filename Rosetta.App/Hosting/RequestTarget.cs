namespace Rosetta.App.Hosting;

/// <summary>The request's path as the client sent it, before Kestrel decoded and normalised it.</summary>
public static class RequestTarget
{
    /// <summary>
    /// The raw path, still percent-encoded and without its query; null when the request line held no
    /// origin-form path (an absolute or authority form, or a test host that sets no raw target).
    /// </summary>
    public static string? RawPath(HttpContext ctx)
    {
        var raw = ctx.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(raw) || raw[0] != '/') return null;
        var query = raw.IndexOf('?');
        return query >= 0 ? raw[..query] : raw;
    }
}
