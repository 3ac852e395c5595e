namespace Rosetta.App.Api;

/// <summary>
/// HEAD is GET without the body (RFC 9110 §9.3.2): download managers, link checkers and health probes
/// ask it first, and minimal APIs map GET alone.
/// </summary>
public static class HeadRequests
{
    /// <summary>Every GET endpoint under <paramref name="builder"/> also answers HEAD with the same status and headers.</summary>
    public static TBuilder AnswerHeadToo<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        // Finally: after each endpoint's own conventions, so only endpoints that end up GET-only are widened.
        builder.Finally(endpoint =>
        {
            if (endpoint.Metadata.OfType<IHttpMethodMetadata>().LastOrDefault() is { HttpMethods: [var only] } methods && HttpMethods.IsGet(only))
                endpoint.Metadata.Add(new HttpMethodMetadata([HttpMethods.Get, HttpMethods.Head], methods.AcceptCorsPreflight));
        });
        return builder;
    }

    /// <summary>
    /// Whether the answer's body would be thrown away: the server sends none for HEAD, so an endpoint
    /// that produces a body by work (a zip, a followed log) sets its headers and stops.
    /// </summary>
    public static bool IsHead(this HttpContext ctx) => HttpMethods.IsHead(ctx.Request.Method);
}
