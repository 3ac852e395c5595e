using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;

namespace Rosetta.App.Api;

/// <summary>
/// Minimal APIs read JSON bodies only as UTF-8, and answer a charset they cannot map to an encoding
/// (<c>charset=ebcdic</c>, an empty one, or the quoted <c>charset="utf-8"</c> that some clients send)
/// with an exception, a 500. Here UTF-8 in any spelling is accepted and anything else gets a 415 that
/// says what to send. Only for <c>/api</c> endpoints that read a JSON body: what goes to a task's
/// interface is none of the platform's business, and an upload's bytes are stored as they come
/// whatever their type says.
/// </summary>
public static class JsonCharsetCheck
{
    public static IApplicationBuilder UseJsonCharsetCheck(this IApplicationBuilder app) => app.Use(async (ctx, next) =>
    {
        if (ctx.Request.Path.StartsWithSegments("/api")
            && ReadsJson(ctx)
            && MediaTypeHeaderValue.TryParse(ctx.Request.ContentType, out var type)
            && type.MediaType.Value?.EndsWith("json", StringComparison.OrdinalIgnoreCase) == true
            && type.Charset.HasValue)
        {
            var charset = HeaderUtilities.RemoveQuotes(type.Charset).Value;
            if (!string.Equals(charset, "utf-8", StringComparison.OrdinalIgnoreCase) && !string.Equals(charset, "utf8", StringComparison.OrdinalIgnoreCase))
            {
                ctx.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
                await ctx.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = ctx,
                    ProblemDetails = new ProblemDetails
                    {
                        Status = 415, Title = "Unsupported charset.",
                        Detail = $"JSON bodies are read as UTF-8 only, not '{charset}': send Content-Type: application/json (or application/json; charset=utf-8).",
                    },
                });
                return;
            }
            type.Charset = "utf-8";
            ctx.Request.ContentType = type.ToString();
        }
        await next();
    });

    /// <summary>The endpoint binds a JSON body (the framework marks it as accepting a JSON type).</summary>
    private static bool ReadsJson(HttpContext ctx) =>
        ctx.GetEndpoint()?.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>() is { } accepts
        && accepts.ContentTypes.Any(type => type.EndsWith("json", StringComparison.OrdinalIgnoreCase));
}
