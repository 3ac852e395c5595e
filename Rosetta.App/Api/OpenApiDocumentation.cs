using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Rosetta.Core.Domain;

namespace Rosetta.App.Api;

/// <summary>
/// What /openapi/v1.json says beyond the endpoints: how to authenticate (a Bearer security scheme on
/// every operation but the anonymous ones, each with its 401), the task statuses as an enum, and the
/// parts of the platform that are not endpoints (the interface proxy).
/// </summary>
public static class OpenApiDocumentation
{
    public const string BearerScheme = "bearer";

    public static void Configure(OpenApiOptions options)
    {
        // HEAD twins of the GET operations (HeadRequests) are said once in the description, not listed.
        var inDocument = options.ShouldInclude;
        options.ShouldInclude = description => !HttpMethods.IsHead(description.HttpMethod ?? "") && inDocument(description);
        options.AddDocumentTransformer((doc, _, _) =>
        {
            doc.Info.Title = "Rosetta.Blazor API";
            doc.Info.Description = "Start containers (tasks) on computing resources and reach their interfaces. " +
                "Authenticate with 'Authorization: Bearer <token>' from POST /api/v1/tokens. " +
                "A task's HTTP interface (WebSockets included) is proxied at /t/{id}/ for its owner (the same Bearer token, " +
                "or the dashboard's session) and for holders of its share links; an interface of protocol 'ssh' is a TCP port " +
                "named by the task's interface.host and interface.port. Errors are RFC 7807 problem+json. " +
                "Every GET also answers HEAD (the same status and headers, no body).";
            doc.Components ??= new OpenApiComponents();
            doc.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            doc.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http, Scheme = "bearer",
                Description = "An API token from POST /api/v1/tokens (shown once; revoke with DELETE /api/v1/tokens/{id}).",
            };
            doc.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, doc)] = [] }];
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, _) =>
        {
            if (context.Description.ActionDescriptor.EndpointMetadata.OfType<IAllowAnonymous>().Any())
            {
                operation.Security = []; // overrides the document's requirement
                return Task.CompletedTask;
            }
            operation.Responses ??= new OpenApiResponses();
            operation.Responses.TryAdd("401", new OpenApiResponse { Description = "No token, or one that is invalid, revoked or belongs to a disabled account." });
            return Task.CompletedTask;
        });
        options.AddSchemaTransformer((schema, context, _) =>
        {
            if (context.JsonPropertyInfo is { Name: "status" } property && property.DeclaringType == typeof(TaskDto))
                schema.Enum = Enum.GetValues<TaskState>().Select(s => (JsonNode)JsonValue.Create(s.ToWire())).ToList();
            return Task.CompletedTask;
        });
    }
}
