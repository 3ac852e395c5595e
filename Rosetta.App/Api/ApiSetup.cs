using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.Json;

namespace Rosetta.App.Api;

public static class ApiSetup
{
    public static IServiceCollection AddRosettaApi(this IServiceCollection services)
    {
        // Before AddProblemDetails' JSON writer: the first writer that takes a problem writes it.
        services.AddSingleton<IProblemDetailsWriter, Hosting.HtmlProblemPages>();
        services.AddProblemDetails(o => o.CustomizeProblemDetails = ctx => ctx.ProblemDetails.Detail ??=
            ctx.ProblemDetails.Status == 401 && ctx.HttpContext.Items.ContainsKey(Auth.DashboardRequestTokens.CookieWithoutToken)
                ? "The dashboard's session opens only the file transfers and log downloads the dashboard links to, for a day after the page made the link (reload the page for a new one); API clients authenticate with 'Authorization: Bearer <token>' (POST /api/v1/tokens)."
                : DefaultDetail(ctx.ProblemDetails.Status, ctx.HttpContext));
        services.AddExceptionHandler<ApiExceptionHandler>();
        services.Configure<JsonOptions>(o => Configure(o.SerializerOptions));
        // Binding failures (malformed JSON, wrong types) reach ApiExceptionHandler, which explains them.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddOpenApi(OpenApiDocumentation.Configure);
        services.AddSingleton<Hosting.PublicBaseUrl>();
        services.AddSingleton<TaskDtoMapper>();
        return services;
    }

    /// <summary>
    /// What a bare status (written by authentication, routing or the server, not by an endpoint) asks the
    /// caller to do: a problem with a title alone leaves them guessing.
    /// </summary>
    private static string? DefaultDetail(int? status, HttpContext http) => status switch
    {
        401 when http.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) =>
            "The Bearer token was not accepted: it is mistyped, was revoked, or its account is disabled. POST /api/v1/tokens with your username and password gives a new one.",
        401 => "Authenticate with 'Authorization: Bearer <token>'; POST /api/v1/tokens with your username and password gives one.",
        403 => "Your account may not do this; an admin can.",
        404 => "Nothing is here: check the path against the API documentation (/openapi/v1.json), and that the object exists and is yours.",
        405 => "This path does not take this method; see the API documentation (/openapi/v1.json).",
        413 => http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize is { } limit
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"The body is larger than this endpoint accepts: at most {limit:N0} bytes.")
            : "The body is larger than this endpoint accepts.",
        415 => "This endpoint takes another Content-Type: JSON bodies as application/json, uploads as multipart/form-data (POST) or the file's bytes (PUT, any type but multipart); see /openapi/v1.json.",
        _ => null,
    };

    /// <summary>The API's JSON: camelCase, enums as lower-case strings, unknown and repeated fields rejected.</summary>
    public static void Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false));
        options.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        // The web defaults read "2" as 2: a number sent as a string is a wrong type like any other.
        options.NumberHandling = JsonNumberHandling.Strict;
        // {"name":"a",…,"name":"b"} would silently be "b": a field given twice is a mistake to point out.
        options.AllowDuplicateProperties = false;
    }

    /// <summary>
    /// A parameter given twice (<c>?path=a&amp;path=b</c>) would be bound as the two values joined with a
    /// comma: a file named "a,b" nobody asked for.
    /// </summary>
    private static ValueTask<object?> RefuseRepeatedQueryParameters(EndpointFilterInvocationContext ctx, EndpointFilterDelegate next)
    {
        if (RepeatedQueryParameter(ctx.HttpContext.Request) is { } repeated) throw repeated;
        return next(ctx);
    }

    /// <summary>
    /// The complaint about a query parameter given more than once, if one is. Also asked when binding
    /// fails (before the filter runs): <c>?tail=1&amp;tail=2</c> reaches an int parameter as "1,2".
    /// </summary>
    internal static Rosetta.Core.Validation.ValidationException? RepeatedQueryParameter(HttpRequest request)
    {
        foreach (var (name, values) in request.Query)
        {
            if (values.Count > 1) return Rosetta.Core.Validation.ValidationException.For(name, $"is given {values.Count} times; give it once.");
        }
        return null;
    }

    public static void MapRosettaApi(this WebApplication app)
    {
        app.MapOpenApi("/openapi/{documentName}.json").AllowAnonymous();
        var api = app.MapGroup("/api/v1").RequireAuthorization().AddEndpointFilter(RefuseRepeatedQueryParameters).AnswerHeadToo();
        api.MapTokenEndpoints();
        api.MapUserEndpoints();
        api.MapAccountKeyEndpoints();
        api.MapCatalogueEndpoints();
        api.MapTaskEndpoints();
        api.MapShareEndpoints();
        api.MapStorageEndpoints();
    }
}
