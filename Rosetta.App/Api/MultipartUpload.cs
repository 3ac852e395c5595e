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
        while (await NextSectionAsync(reader, ct) is { } section)
        {
            if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) || !disposition.IsFileDisposition()) continue;
            var name = HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value;
            StoragePath.CheckName(name, "filename");
            var target = folder.Child(name!, "filename");
            // A later part of the same name would silently replace the earlier one.
            if (stored.Any(s => s.Path == target.ToString()))
                throw ValidationException.For("filename", $"'{name}' is sent twice in one upload; the first part was stored, the second was refused. Send each file name once.");
            var size = await storage.UploadAsync(target, new PartBody(section.Body), declaredLength: null, ct);
            stored.Add(new UploadedDto(target.ToString(), size));
        }
        if (stored.Count == 0) throw ValidationException.For("body", "has no file part.");
        return stored;
    }

    private static async Task<MultipartSection?> NextSectionAsync(MultipartReader reader, CancellationToken ct)
    {
        try
        {
            return await reader.ReadNextSectionAsync(ct);
        }
        catch (Exception e) when (IsMalformed(e))
        {
            throw Malformed();
        }
    }

    /// <summary>
    /// What the multipart reader throws for a body that is not what its Content-Type says: ends before the
    /// closing boundary (IOException), or has a bad or too large part header (InvalidDataException).
    /// Kestrel's own refusals (too large, too slow) keep their status.
    /// </summary>
    private static bool IsMalformed(Exception e) => e is InvalidDataException || (e is IOException && e is not BadHttpRequestException);

    private static ValidationException Malformed() => ValidationException.For("body",
        "is not complete multipart/form-data: it ends before its closing boundary, or a part's headers are malformed or longer than 16 KiB.");

    /// <summary>A part's content: a body that ends inside it is the client's error (400), not the storage's.</summary>
    private sealed class PartBody(Stream part) : Stream
    {
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            try
            {
                return await part.ReadAsync(buffer, ct);
            }
            catch (Exception e) when (IsMalformed(e))
            {
                throw Malformed();
            }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();
        public override int Read(byte[] buffer, int offset, int count)
        {
            try
            {
                return part.Read(buffer, offset, count);
            }
            catch (Exception e) when (IsMalformed(e))
            {
                throw Malformed();
            }
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
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
