namespace Rosetta.App.Hosting;

/// <summary>
/// The platform's address in the links it hands out (a task's interface, a share link): <c>Rosetta:PublicUrl</c> when
/// set, else the address the request came to. Behind a reverse proxy the request's own host may be the proxy's upstream
/// name (nginx sends <c>$proxy_host</c> by default), and a share link, shown once, would be useless.
/// </summary>
public sealed class PublicBaseUrl(IConfiguration configuration)
{
    private readonly string _configured = (configuration["Rosetta:PublicUrl"] ?? "").TrimEnd('/');

    /// <summary>The configured address, else <paramref name="requestBase"/> (e.g. <c>https://host:8080/</c>), without a closing '/'.</summary>
    public string Or(string requestBase) => _configured.Length > 0 ? _configured : requestBase.TrimEnd('/');

    public string Of(HttpRequest request) => Or($"{request.Scheme}://{request.Host}");
}
