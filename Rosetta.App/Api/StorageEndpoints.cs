using System.Security.Claims;
using Microsoft.AspNetCore.Http.Features;
using Rosetta.App.Auth;
using Rosetta.Core.Storages;
using Rosetta.Core.Validation;

namespace Rosetta.App.Api;

/// <summary>
/// <c>/api/v1/storages</c>: storages and the files in them. Every path is a query or body value
/// relative to the storage's root, decoded once by the framework and then checked by
/// <see cref="StoragePath.Parse"/>; another user's storage is a 404, a write to a read-only one a 403.
/// </summary>
public static class StorageEndpoints
{
    public static void MapStorageEndpoints(this RouteGroupBuilder api)
    {
        var storages = api.MapGroup("/storages").WithTags("Storages");

        storages.MapGet("/", async (ClaimsPrincipal user, StorageService service, CancellationToken ct) =>
                (await service.ListAsync(user.ToCaller(), ct)).Select(StorageDto.From))
            .WithSummary("Storages the caller can use: platform-wide ones and their own.");

        storages.MapGet("/{id}", async (string id, ClaimsPrincipal user, StorageService service, CancellationToken ct) =>
                await service.FindAsync(user.ToCaller(), id, ct) is { } s ? Results.Ok(StorageDto.From(s)) : NotFound(id))
            .Produces<StorageDto>().ProducesProblem(404);

        storages.MapPost("/", async (StorageDraft body, ClaimsPrincipal user, StorageService service, CancellationToken ct) =>
            {
                var created = await service.AddAsync(user.ToCaller(), body, ct);
                return Results.Created($"/api/v1/storages/{created.Id}", StorageDto.From(created));
            })
            .WithSummary("Add a storage: admins local folders and platform-wide storages, users sftp storages on their own SSH resources.")
            .Produces<StorageDto>(201).ProducesValidationProblem().ProducesProblem(409);

        storages.MapPut("/{id}", async (string id, StorageDraft body, ClaimsPrincipal user, StorageService service, CancellationToken ct) =>
                await service.UpdateAsync(user.ToCaller(), id, body, ct) is { } updated ? Results.Ok(StorageDto.From(updated)) : NotFound(id))
            .WithSummary("Change a storage's name, base path, bind path, read-only or browsable (omitted fields stay); tasks started afterwards see the change.")
            .Produces<StorageDto>().ProducesValidationProblem().ProducesProblem(403).ProducesProblem(404).ProducesProblem(409);

        storages.MapDelete("/{id}", async (string id, ClaimsPrincipal user, StorageService service, CancellationToken ct) =>
                await service.DeleteAsync(user.ToCaller(), id, ct) switch
                {
                    true => Results.NoContent(),
                    false => Results.Problem(statusCode: 403, title: "Forbidden.", detail: "Only admins remove platform-wide storages."),
                    null => NotFound(id),
                })
            .WithSummary("Remove a storage (the files stay on the host; tasks started later no longer get it bound).")
            .Produces(204).ProducesProblem(403).ProducesProblem(404);

        storages.MapGet("/{id}/files", async (string id, string? path, string? sort, string? order, ClaimsPrincipal user, StorageService service, CancellationToken ct) =>
            {
                var folder = StoragePath.Parse(path);
                var storage = await OpenAsync(service, user, id, ct);
                var entries = storage.List(folder, ParseSort(sort), ParseDescending(order));
                return Results.Ok(new FolderDto(storage.Storage.Id, folder.ToString(), storage.Storage.ReadOnly, entries));
            })
            .WithSummary("List a folder (?path= relative to the root, empty for the root; ?sort=name|size|modified&order=asc|desc; folders first).")
            .Produces<FolderDto>().ProducesValidationProblem().ProducesProblem(404);

        storages.MapGet("/{id}/usage", async (string id, ClaimsPrincipal user, StorageService service, CancellationToken ct) =>
            {
                var storage = await OpenAsync(service, user, id, ct);
                var usage = await storage.UsageAsync(ct);
                return Results.Ok(new StorageUsageDto(usage?.UsedBytes, usage?.QuotaBytes));
            })
            .WithSummary("What the storage holds against its quota; both null where no quota applies (none configured, or an sftp storage: the host's own quota rules there).")
            .Produces<StorageUsageDto>().ProducesProblem(404);

        storages.MapGet("/{id}/download", async (string id, string? path, ClaimsPrincipal user, StorageService service, HttpContext ctx, CancellationToken ct) =>
            {
                var target = StoragePath.Parse(path);
                var storage = await OpenAsync(service, user, id, ct);
                var name = target.IsRoot ? storage.Storage.Id : target.Name;
                // Always an attachment of an opaque type: a file uploaded to a shared storage must never
                // render as a page on the dashboard's origin.
                if (!storage.IsFolder(target))
                {
                    // The file result sends no body for HEAD: only the whole-file path below would read it all.
                    if (ctx.Request.Headers.Range.Count > 0 || ctx.IsHead())
                        return Results.File(storage.OpenRead(target), "application/octet-stream", name, enableRangeProcessing: true);
                    // A whole file goes the storage's fastest way (over SFTP many reads in flight, not one per round trip).
                    await storage.DownloadAsync(target, length =>
                    {
                        ctx.Response.ContentType = "application/octet-stream";
                        ctx.Response.ContentLength = length;
                        ctx.Response.Headers.AcceptRanges = "bytes";
                        ctx.Response.Headers.ContentDisposition = AttachmentDisposition(name);
                        return ctx.Response.Body;
                    }, ct);
                    return Results.Empty;
                }
                // Some of ZipArchive's writes stay synchronous even through its async API (found by the tests); allowed for this response only.
                if (ctx.Features.Get<IHttpBodyControlFeature>() is { } body) body.AllowSynchronousIO = true;
                ctx.Response.ContentType = "application/zip";
                ctx.Response.Headers.ContentDisposition = AttachmentDisposition(name + ".zip");
                if (!ctx.IsHead()) await storage.WriteZipAsync(target, ctx.Response.Body, ct);
                return Results.Empty;
            })
            .WithSummary("Download a file (streamed, ranges supported) or a folder as a zip archive (streamed).")
            .Produces(200, contentType: "application/octet-stream").ProducesValidationProblem().ProducesProblem(404);

        storages.MapGet("/{id}/preview", async (string id, string? path, ClaimsPrincipal user, StorageService service, HttpContext ctx, CancellationToken ct) =>
            {
                var target = StoragePath.Parse(path);
                var storage = await OpenAsync(service, user, id, ct);
                if (target.IsRoot || storage.IsFolder(target)) throw ValidationException.For("path", "is a folder; only images are previewed, folders are downloaded as a zip.");
                var type = FilePreview.ImageType(target.Name)
                    ?? throw ValidationException.For("path", "is not a PNG, JPEG, GIF or WebP image; download it instead.");
                var content = storage.OpenRead(target);
                if (content.CanSeek && content.Length > FilePreview.MaxImageBytes)
                {
                    await content.DisposeAsync();
                    return Results.Problem(statusCode: 413, title: "Too large to preview.",
                        detail: $"The image is larger than {FilePreview.MaxImageBytes >> 20} MiB; download it instead.");
                }
                // Inline, but as an image of a listed type only, unsniffable and sandboxed: whatever the
                // bytes are, the browser never runs them as a page on the dashboard's origin.
                ctx.Response.Headers.ContentDisposition = "inline";
                ctx.Response.Headers.XContentTypeOptions = "nosniff";
                ctx.Response.Headers.ContentSecurityPolicy = FilePreview.ContentSecurityPolicy;
                ctx.Response.Headers.CacheControl = "private, no-cache";
                return Results.File(content, type);
            })
            .WithSummary("An image (PNG, JPEG, GIF, WebP; at most 32 MiB) shown inline, for the file manager's preview; other files are downloaded.")
            .Produces(200, contentType: "image/png").ProducesValidationProblem().ProducesProblem(404).ProducesProblem(413);

        storages.MapPut("/{id}/files", async (string id, string? path, ClaimsPrincipal user, StorageService service, HttpContext ctx, CancellationToken ct) =>
            {
                var target = StoragePath.Parse(path);
                var storage = await OpenAsync(service, user, id, ct);
                if (ctx.Request.ContentType is { } type && type.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase))
                    return Results.Problem(statusCode: 415, title: "A multipart body would be stored as it is.",
                        detail: $"PUT stores the body byte for byte, form boundaries included. Send a multipart form with POST /api/v1/storages/{id}/files?path=FOLDER, or the file's own bytes with PUT.");
                AllowLargeBody(ctx);
                var size = await storage.UploadAsync(target, ctx.Request.Body, ctx.Request.ContentLength, ct);
                return Results.Created($"/api/v1/storages/{id}/download?path={Uri.EscapeDataString(target.ToString())}", new UploadedDto(target.ToString(), size));
            })
            .WithSummary("Upload the request body as the file at ?path= (replacing a file there, creating missing folders); any Content-Type but multipart (the body is stored byte for byte). Streamed to a temporary file and renamed when complete.")
            // Any type: curl --data-binary says application/x-www-form-urlencoded, others text/plain; the bytes are the file all the same.
            .Accepts<byte[]>("application/octet-stream", "*/*")
            .Produces<UploadedDto>(201).ProducesValidationProblem().ProducesProblem(403).ProducesProblem(404).ProducesProblem(409).ProducesProblem(413);

        storages.MapPost("/{id}/files", async (string id, string? path, ClaimsPrincipal user, StorageService service, HttpContext ctx, CancellationToken ct) =>
            {
                var folder = StoragePath.Parse(path);
                var storage = await OpenAsync(service, user, id, ct);
                AllowLargeBody(ctx);
                var stored = await MultipartUpload.StoreAsync(ctx, storage, folder, ct);
                return Results.Created($"/api/v1/storages/{id}/files?path={Uri.EscapeDataString(folder.ToString())}", stored);
            })
            .WithSummary("Upload files (multipart/form-data, one part per file) into the folder ?path=.")
            .Accepts<IFormFileCollection>("multipart/form-data")
            .Produces<UploadedDto[]>(201).ProducesValidationProblem().ProducesProblem(403).ProducesProblem(404).ProducesProblem(413);

        storages.MapPost("/{id}/folders", async (string id, FolderBody body, ClaimsPrincipal user, StorageService service, CancellationToken ct) =>
            {
                var folder = StoragePath.Parse(body.Path ?? throw ValidationException.For("path", "is required: the folder to create."));
                var storage = await OpenAsync(service, user, id, ct);
                storage.CreateFolder(folder);
                return Results.Created($"/api/v1/storages/{id}/files?path={Uri.EscapeDataString(folder.ToString())}", new { path = folder.ToString() });
            })
            .WithSummary("Create a folder (and missing parents); 409 when it exists.")
            .ProducesValidationProblem().ProducesProblem(403).ProducesProblem(404).ProducesProblem(409);

        storages.MapPost("/{id}/move", async (string id, FromToBody body, ClaimsPrincipal user, StorageService service, CancellationToken ct) =>
            {
                var (from, to) = FromTo(body);
                var storage = await OpenAsync(service, user, id, ct);
                storage.Move(from, to);
                return Results.Ok(new { from = from.ToString(), to = to.ToString() });
            })
            .WithSummary("Rename or move a file or folder inside the storage; 409 when the target exists.")
            .ProducesValidationProblem().ProducesProblem(403).ProducesProblem(404).ProducesProblem(409);

        storages.MapPost("/{id}/copy", async (string id, FromToBody body, ClaimsPrincipal user, StorageService service, CancellationToken ct) =>
            {
                var (from, to) = FromTo(body);
                var storage = await OpenAsync(service, user, id, ct);
                storage.Copy(from, to);
                return Results.Created($"/api/v1/storages/{id}/files?path={Uri.EscapeDataString(to.Parent.ToString())}", new { from = from.ToString(), to = to.ToString() });
            })
            .WithSummary("Copy a file or folder inside the storage (symbolic links are not copied); 409 when the target exists.")
            .ProducesValidationProblem().ProducesProblem(403).ProducesProblem(404).ProducesProblem(409).ProducesProblem(413);

        storages.MapDelete("/{id}/files", async (string id, string? path, ClaimsPrincipal user, StorageService service, CancellationToken ct) =>
            {
                var target = StoragePath.Parse(path);
                var storage = await OpenAsync(service, user, id, ct);
                storage.Delete(target);
                return Results.NoContent();
            })
            .WithSummary("Delete a file or a folder with everything in it (a symbolic link is removed, never its target).")
            .Produces(204).ProducesValidationProblem().ProducesProblem(403).ProducesProblem(404);
    }

    /// <summary>
    /// <c>attachment</c> with the name twice, as RFC 6266 has it: <c>filename*</c> in UTF-8 (what browsers
    /// and <c>curl -OJ</c> take) and an ASCII <c>filename</c> for older clients. The same as
    /// <c>Results.File</c> sends for ranged downloads. (System.Net.Mime's ContentDisposition wrote a
    /// non-ASCII name as a MIME encoded-word alone, which clients saved literally as "=?utf-8?B?…?=".)
    /// </summary>
    public static string AttachmentDisposition(string fileName)
    {
        var disposition = new Microsoft.Net.Http.Headers.ContentDispositionHeaderValue("attachment");
        disposition.SetHttpFileName(fileName);
        return disposition.ToString();
    }

    private static async Task<OpenedStorage> OpenAsync(StorageService service, ClaimsPrincipal user, string id, CancellationToken ct) =>
        await service.OpenAsync(user.ToCaller(), id, ct)
        ?? throw new StorageEntryNotFoundException($"You have no storage '{TaskEndpoints.Shorten(id)}'.");

    private static IResult NotFound(string id) =>
        Results.Problem(statusCode: 404, title: "Not found.", detail: $"You have no storage '{TaskEndpoints.Shorten(id)}'.");

    private static (StoragePath From, StoragePath To) FromTo(FromToBody body)
    {
        var errors = new ValidationErrors();
        if (string.IsNullOrEmpty(body.From)) errors.Add("from", "is required: the path to move or copy.");
        if (string.IsNullOrEmpty(body.To)) errors.Add("to", "is required: the new path.");
        if (!errors.IsValid) throw new ValidationException(errors);
        return (StoragePath.Parse(body.From, "from"), StoragePath.Parse(body.To, "to"));
    }

    private static StorageSort ParseSort(string? sort) => sort?.ToLowerInvariant() switch
    {
        null or "" or "name" => StorageSort.Name,
        "size" => StorageSort.Size,
        "modified" => StorageSort.Modified,
        _ => throw ValidationException.For("sort", "must be 'name', 'size' or 'modified'."),
    };

    private static bool ParseDescending(string? order) => order?.ToLowerInvariant() switch
    {
        null or "" or "asc" => false,
        "desc" => true,
        _ => throw ValidationException.For("order", "must be 'asc' or 'desc'."),
    };

    /// <summary>Kestrel's 30 MB request limit is lifted here: the storage enforces its own limit with a clearer answer.</summary>
    private static void AllowLargeBody(HttpContext ctx)
    {
        if (ctx.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = null;
    }
}
