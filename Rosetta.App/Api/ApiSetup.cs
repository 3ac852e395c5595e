using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.Json;

namespace Rosetta.App.Api;

public static class ApiSetup
{
    public static IServiceCollection AddRosettaApi(this IServiceCollection services)
    {
        services.AddProblemDetails();
        services.AddExceptionHandler<ApiExceptionHandler>();
        services.Configure<JsonOptions>(o => Configure(o.SerializerOptions));
        // Binding failures (malformed JSON, wrong types) reach ApiExceptionHandler, which explains them.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddOpenApi(o => o.AddDocumentTransformer((doc, _, _) =>
        {
            doc.Info.Title = "Rosetta.Blazor API";
            doc.Info.Description = "Start containers (tasks) on computing resources and reach their interfaces. " +
                "Authenticate with 'Authorization: Bearer <token>' from POST /api/v1/tokens.";
            return Task.CompletedTask;
        }));
        services.AddSingleton<TaskDtoMapper>();
        return services;
    }

    /// <summary>The API's JSON: camelCase, enums as lower-case strings, unknown fields rejected.</summary>
    public static void Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false));
        options.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
    }

    public static void MapRosettaApi(this WebApplication app)
    {
        app.MapOpenApi("/openapi/{documentName}.json").AllowAnonymous();
        var api = app.MapGroup("/api/v1").RequireAuthorization();
        api.MapTokenEndpoints();
        api.MapUserEndpoints();
        api.MapAccountKeyEndpoints();
        api.MapCatalogueEndpoints();
        api.MapTaskEndpoints();
        api.MapShareEndpoints();
        api.MapStorageEndpoints();
    }
}
