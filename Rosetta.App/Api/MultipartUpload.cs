using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using Rosetta.App.Auth;
using Rosetta.Core.Storages;
using Rosetta.Core.Validation;

namespace Rosetta.App.Api;

/// <summary>
/// A browser's multipart upload, read part by part straight into the storage (never buffered
/// whole). Each part's file name must be a single name: a browser sending a path (or an attacker
/// sending "../x") gets a 400.
/// </summary>
public static class MultipartUpload
{
    public static async Task<IReadOnlyList<UploadedDto>> StoreAsync(HttpContext ctx, OpenedStorage storage, StoragePath folder, CancellationToken ct)
    {
        RequireSameOrigin(ctx);
        if (!MediaTypeHeaderValue.TryParse(ctx.Request.ContentType, out var type) || !type.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(type.Boundary).Value is not { Length: > 0 } boundary)
            throw ValidationException.For("body", "must be multipart/form-data with one part per file (or PUT the file's bytes to ?path=).");
        var reader = new MultipartReader(boundary, ctx.Request.Body);
        var stored = new List<UploadedDto>();
        while (await reader.ReadNextSectionAsync(ct) is { } section)
        {
            if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) || !disposition.IsFileDisposition()) continue;
            var name = HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value;
            StoragePath.CheckName(name, "filename");
            var target = folder.Child(name!, "filename");
            var size = await storage.UploadAsync(target, section.Body, declaredLength: null, ct);
            stored.Add(new UploadedDto(target.ToString(), size));
        }
        if (stored.Count == 0) throw ValidationException.For("body", "has no file part.");
        return stored;
    }

    /// <summary>
    /// A form post is a "simple" request a page of another origin may send with the user's cookie
    /// (a task on a sibling host name is same-site). Cookie-authenticated uploads must come from the
    /// dashboard's own origin; API clients use a Bearer token and send no Origin.
    /// </summary>
    private static void RequireSameOrigin(HttpContext ctx)
    {
        if (ApiTokenAuthenticationHandler.HasBearer(ctx.Request)) return;
        var origin = ctx.Request.Headers.Origin.ToString();
        if (origin.Length == 0) throw new CrossOriginUploadException();
        if (!Hosting.SameOriginRequests.IsDashboard(ctx, origin))
            throw new CrossOriginUploadException();
    }
}

/// <summary>A cookie-authenticated upload from another origin; answered 403.</summary>
public sealed class CrossOriginUploadException() : Exception("Uploads with the dashboard's cookie must come from the dashboard itself; API clients authenticate with a Bearer token.");
