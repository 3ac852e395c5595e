using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Rosetta.Tests.Infrastructure;

/// <summary>
/// HTTP as a browser does it, for flows that hop between host names (the dashboard and per-task hosts
/// such as <c>{id}.tasks.localhost</c>): cookies kept per host, navigations sent with
/// <c>Accept: text/html</c>, redirects returned rather than followed so tests can inspect each hop.
/// Every host name is connected to the app's loopback port, so task hosts need no DNS and nothing
/// leaves 127.0.0.1.
/// </summary>
public sealed partial class BrowserLikeClient : IDisposable
{
    private readonly HttpClient _http;

    public BrowserLikeClient(Uri appAddress)
    {
        Handler = new SocketsHttpHandler
        {
            CookieContainer = Cookies,
            AllowAutoRedirect = false,
            UseProxy = false,
            ConnectCallback = async (_, ct) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(IPAddress.Loopback, appAddress.Port, ct);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        _http = new HttpClient(Handler, disposeHandler: false) { Timeout = TimeSpan.FromSeconds(60) };
    }

    public CookieContainer Cookies { get; } = new();

    /// <summary>The handler, for a <c>ClientWebSocket.ConnectAsync(uri, invoker, ct)</c> that shares the cookies and the loopback connection.</summary>
    public SocketsHttpHandler Handler { get; }

    /// <summary>A navigation (GET with Accept: text/html); extra headers as name/value pairs.</summary>
    public Task<HttpResponseMessage> NavigateAsync(Uri uri, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/html"));
        foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
        return _http.SendAsync(request);
    }

    public Task<HttpResponseMessage> SendAsync(HttpRequestMessage request) => _http.SendAsync(request);

    /// <summary>Logs in through the real login form (antiforgery token included); the session cookie lands in <see cref="Cookies"/>.</summary>
    public async Task LogInAsync(Uri dashboard, string username, string password)
    {
        var posted = await PostLoginAsync(dashboard, username, password);
        Assert.True(posted.StatusCode == HttpStatusCode.Redirect, $"Logging in as {username} answered {(int)posted.StatusCode}: {await posted.Content.ReadAsStringAsync()}");
    }

    /// <summary>Fills in and posts the login form; a refusal answers the form again, with its error.</summary>
    public async Task<HttpResponseMessage> PostLoginAsync(Uri dashboard, string username, string password)
    {
        var form = await (await NavigateAsync(new Uri(dashboard, "/login"))).Content.ReadAsStringAsync();
        return await _http.PostAsync(new Uri(dashboard, "/login"), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "login",
            ["__RequestVerificationToken"] = AntiforgeryToken(form),
            ["Input.Username"] = username,
            ["Input.Password"] = password,
        }));
    }

    /// <summary>Logs out with the dashboard's own Log out button (the form in a page's header, with its antiforgery token).</summary>
    public async Task LogOutAsync(Uri dashboard)
    {
        var page = await (await NavigateAsync(new Uri(dashboard, "/account"), ("Sec-Fetch-Dest", "document"), ("Sec-Fetch-Mode", "navigate"))).Content.ReadAsStringAsync();
        var logout = new HttpRequestMessage(HttpMethod.Post, new Uri(dashboard, "/logout"))
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = AntiforgeryToken(page) }),
        };
        logout.Headers.Add("Origin", dashboard.GetLeftPart(UriPartial.Authority));
        var answered = await _http.SendAsync(logout);
        Assert.True(answered.StatusCode == HttpStatusCode.Redirect, $"Logging out answered {(int)answered.StatusCode}: {await answered.Content.ReadAsStringAsync()}");
    }

    public void Dispose()
    {
        _http.Dispose();
        Handler.Dispose();
    }

    /// <summary>The antiforgery token of the form in <paramref name="html"/>.</summary>
    public static string AntiforgeryToken(string html)
    {
        var token = AntiforgeryField().Match(html);
        Assert.True(token.Success, "The page has no antiforgery token.");
        return WebUtility.HtmlDecode(token.Groups[1].Value);
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}
