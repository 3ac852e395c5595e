using Microsoft.Net.Http.Headers;
using Rosetta.App.Auth;
using Yarp.ReverseProxy.Forwarder;

namespace Rosetta.App.Proxy;

/// <summary>
/// Per-request transform for one task: removes the platform's credentials (its cookies and the
/// Authorization header) so the container never sees them, supplies the interface's own secret
/// instead when its software wants one, and sends the path the software expects (worked out by
/// <see cref="TaskForwarding.UpstreamPath"/>). The Host header is kept so interfaces that check
/// Origin against Host (Jupyter) accept proxied requests. The secret never reaches the browser in the
/// interface's pages either (<see cref="PageSecretScrubber"/>).
/// </summary>
public sealed class TaskProxyTransformer(string upstreamPath, string forwardedPrefix, string? authorization, string? secret = null) : HttpTransformer
{
    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest,
        string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);

        // The path as the browser encoded it (TaskForwarding.UpstreamPath): built from a decoded PathString, an encoded '/' would arrive as %252F.
        proxyRequest.RequestUri = new Uri(destinationPrefix.TrimEnd('/') + upstreamPath + httpContext.Request.QueryString, UriKind.Absolute);
        proxyRequest.Headers.Host = httpContext.Request.Host.Value;

        proxyRequest.Headers.Remove(HeaderNames.Authorization);
        if (authorization is not null) proxyRequest.Headers.TryAddWithoutValidation(HeaderNames.Authorization, authorization);
        if (secret is not null) proxyRequest.Headers.Remove(HeaderNames.AcceptEncoding); // so its pages can be read (PageSecretScrubber)

        proxyRequest.Headers.Remove(HeaderNames.Cookie);
        var kept = WithoutPlatformCookies(httpContext.Request.Headers.Cookie);
        if (kept.Length > 0) proxyRequest.Headers.TryAddWithoutValidation(HeaderNames.Cookie, kept);

        // Who asked, as the platform saw it: a client's own X-Forwarded-For or Forwarded would let it claim any
        // address to software that trusts the proxy's word (allow-lists, audit logs).
        foreach (var header in new[] { "Forwarded", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Real-IP" }) proxyRequest.Headers.Remove(header);
        if (httpContext.Connection.RemoteIpAddress is { } client)
            proxyRequest.Headers.TryAddWithoutValidation("X-Forwarded-For", (client.IsIPv4MappedToIPv6 ? client.MapToIPv4() : client).ToString());
        proxyRequest.Headers.TryAddWithoutValidation("X-Forwarded-Proto", httpContext.Request.Scheme);
        proxyRequest.Headers.TryAddWithoutValidation("X-Forwarded-Host", httpContext.Request.Host.Value);

        // Where the browser sees the interface's root: "/t/{id}" in path mode, "" on a task host.
        proxyRequest.Headers.Remove("X-Forwarded-Prefix");
        if (forwardedPrefix.Length > 0) proxyRequest.Headers.TryAddWithoutValidation("X-Forwarded-Prefix", forwardedPrefix);
    }

    public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        var proceed = await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
        ConfineHeaders(httpContext.Response.Headers);
        // Whatever the status: Jupyter's error pages (a 404 for a mistyped address) carry the token as its pages do.
        // Not a response without a body (204, 304), nor a part of one (206), whose Content-Range would no longer hold.
        if (proceed && secret is not null && proxyResponse is { StatusCode: not (System.Net.HttpStatusCode.NoContent or System.Net.HttpStatusCode.NotModified or System.Net.HttpStatusCode.PartialContent) }
            && HttpMethods.IsGet(httpContext.Request.Method)
            && PageSecretScrubber.IsPage(proxyResponse))
        {
            await PageSecretScrubber.CopyAsync(proxyResponse, httpContext.Response, secret, cancellationToken);
            return false; // the body is sent
        }
        return proceed;
    }

    private void ConfineHeaders(IHeaderDictionary headers)
    {
        if (headers.SetCookie.Count > 0) headers.SetCookie = ConfinedCookies(headers.SetCookie, forwardedPrefix);
        if (forwardedPrefix.Length > 0)
        {
            // Under /t/{id}/ on the dashboard's origin: a service worker there may not claim the whole origin,
            // and the task may not wipe the dashboard's cookies and storage. Nor may it send the dashboard's
            // own opener policy: a popup stays scriptable by its opener when both send the same one, so a
            // task's page opening the dashboard must keep the browser's default (it is then cut off).
            headers.Remove("Service-Worker-Allowed");
            headers.Remove("Clear-Site-Data");
            headers.Remove("Cross-Origin-Opener-Policy");
            headers.Remove("Cross-Origin-Opener-Policy-Report-Only");
        }
    }

    /// <summary>
    /// The cookies a task may set, kept to itself: none named like the platform's (it could shadow or
    /// replace the dashboard's session), none for a parent domain (a task host could plant cookies on
    /// the dashboard's host), and in path mode none outside its own <c>/t/{id}/</c>.
    /// </summary>
    public static Microsoft.Extensions.Primitives.StringValues ConfinedCookies(Microsoft.Extensions.Primitives.StringValues setCookies, string forwardedPrefix)
    {
        var kept = new List<string>();
        foreach (var header in setCookies)
        {
            if (!SetCookieHeaderValue.TryParse(header, out var cookie) || IsPlatformName(cookie.Name.Value)) continue;
            cookie.Domain = null; // host-only: the task's own host
            if (forwardedPrefix.Length > 0 && !(cookie.Path.HasValue && (cookie.Path.Value + "/").StartsWith(forwardedPrefix + "/", StringComparison.Ordinal)))
                cookie.Path = forwardedPrefix + "/";
            kept.Add(cookie.ToString());
        }
        return kept.ToArray();
    }

    private static bool IsPlatformName(string? name)
    {
        name ??= "";
        foreach (var browserPrefix in new[] { "__Host-", "__Secure-" })
            if (name.StartsWith(browserPrefix, StringComparison.OrdinalIgnoreCase)) name = name[browserPrefix.Length..];
        return name.StartsWith(PlatformCookies.Prefix, StringComparison.OrdinalIgnoreCase) || name.StartsWith(".AspNetCore.", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// The request's cookies minus the platform's own (the interface's cookies, e.g. Jupyter's _xsrf, pass).
    /// Task-host cookies may carry the browser's <c>__Host-</c> prefix, so that is looked through.
    /// </summary>
    public static string WithoutPlatformCookies(Microsoft.Extensions.Primitives.StringValues cookieHeaders) =>
        string.Join("; ", PlatformCookies.Parts(cookieHeaders).Where(c => !IsPlatformName(c.Name)).Select(c => c.Part));
}
