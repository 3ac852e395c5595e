using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Rosetta.Core.Backends;
using Rosetta.Core.Domain;
using Rosetta.Core.Storages;
using Rosetta.Core.Validation;

namespace Rosetta.App.Api;

/// <summary>
/// Turns the exceptions Core uses for "your request is wrong" into RFC 7807 answers a person can act
/// on: 400 (invalid), 403 (read-only storage, or only the owner may), 404 (no such file), 409 (conflicts with the object's state),
/// 413 (upload limit or quota), 503 (computing resource unreachable).
/// Anything else stays a 500 and is logged.
/// </summary>
public sealed partial class ApiExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext ctx, Exception exception, CancellationToken ct)
    {
        // A parameter bound from "1,2" failed because it was given twice: say that (API calls only; a
        // form or a share link may repeat its parameters, and a 413 is about the body).
        if (exception is BadHttpRequestException { StatusCode: 400 } && ctx.Request.Path.StartsWithSegments("/api")
            && ApiSetup.RepeatedQueryParameter(ctx.Request) is { } repeated) exception = repeated;
        ProblemDetails? problem = exception switch
        {
            ValidationException v => new HttpValidationProblemDetails(v.Errors.ToDictionary())
            {
                Status = 400, Title = "The request is invalid.", Detail = v.Message,
            },
            BadHttpRequestException b => new ProblemDetails
            {
                Status = b.StatusCode, Title = "The request could not be read.", Detail = Describe(b),
            },
            ConflictException c => new ProblemDetails { Status = 409, Title = "Conflict.", Detail = c.Message },
            // Two requests changing the same row: the one that lost finds it changed or removed under it.
            Microsoft.EntityFrameworkCore.DbUpdateConcurrencyException => new ProblemDetails
            {
                Status = 409, Title = "Conflict.", Detail = "It was changed or removed by another request meanwhile; load it again and retry.",
            },
            OwnerOnlyException o => new ProblemDetails { Status = 403, Title = "Only the owner may do this.", Detail = o.Message },
            // E.g. a copy whose deepest file would end up past the system's PATH_MAX.
            PathTooLongException => new ProblemDetails
            {
                Status = 400, Title = "The request is invalid.", Detail = $"A path would be longer than the system allows ({Rosetta.Core.Storages.StoragePath.MaxPathLength} bytes); use shorter names or fewer folders.",
            },
            StorageEntryNotFoundException n => new ProblemDetails { Status = 404, Title = "Not found.", Detail = n.Message },
            Auth.UnknownUserException u => new ProblemDetails { Status = 404, Title = "Not found.", Detail = u.Message },
            ReadOnlyStorageException r => new ProblemDetails { Status = 403, Title = "The storage is read-only.", Detail = r.Message },
            StorageAccessDeniedException d => new ProblemDetails { Status = 403, Title = "Permission denied.", Detail = d.Message },
            CrossOriginUploadException o => new ProblemDetails { Status = 403, Title = "Forbidden.", Detail = o.Message },
            StorageLimitException l => new ProblemDetails { Status = 413, Title = "Too large.", Detail = l.Message },
            BackendUnavailableException u => new ProblemDetails
            {
                Status = 503, Title = "The computing resource is unreachable.", Detail = u.Message,
            },
            _ => null,
        };
        if (problem is null) return false;
        ctx.Response.StatusCode = problem.Status!.Value;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = ctx, ProblemDetails = problem });
    }

    private static string Describe(BadHttpRequestException e)
    {
        if (e.InnerException is JsonException json)
        {
            var where = string.IsNullOrEmpty(json.Path) || json.Path == "$" ? "" : $" at '{json.Path.TrimStart('$', '.')}'";
            var unknown = UnknownMember().Match(json.Message);
            if (unknown.Success) return $"Unknown field '{FieldPath(json.Path, unknown.Groups[1].Value)}'; check the spelling against the API documentation (/openapi/v1.json).";
            if (json.Message.StartsWith("Duplicate propert", StringComparison.Ordinal))
            {
                // An object's field is named in the message; a dictionary's key (options.env) only in the path.
                var named = DuplicateMember().Match(json.Message);
                var field = named.Success ? FieldPath(json.Path, named.Groups[1].Value) : json.Path?.TrimStart('$', '.');
                return $"The field '{field}' is given twice; give it once.";
            }
            // The reader's own complaint, wrapped by the serializer as "could not be converted to String".
            if (json.InnerException is InvalidOperationException { Message: var reader } && (reader.Contains("UTF-16", StringComparison.Ordinal) || reader.Contains("UTF-8", StringComparison.Ordinal)))
                return $"The text{where} is not valid Unicode: it has half of a surrogate pair (\\uD800–\\uDFFF without its partner) or bytes that are not UTF-8.";
            var type = TargetType().Match(json.Message);
            if (type.Success) return $"The value{where} has the wrong type: expected {Friendly(ExpectedType(type.Groups[1].Value.Trim(), json.Path))}.";
            return $"The body is not valid JSON{where} (line {json.LineNumber + 1}, position {json.BytePositionInLine + 1}).";
        }
        if (QueryBinding().Match(e.Message) is { Success: true } query)
        {
            var (name, wanted, value) = (query.Groups["name"].Value, Friendly(query.Groups["type"].Value), query.Groups["value"].Value);
            // A whole number too large for the parameter is one all the same.
            return wanted == "a whole number" && value.TrimStart('-').Length > 0 && value.TrimStart('-').All(char.IsAsciiDigit)
                ? $"'{name}' is too large: {value} does not fit (at most {int.MaxValue})."
                : $"'{name}' must be {wanted}, not '{value}'.";
        }
        if (e.Message.Contains("was not provided from body", StringComparison.Ordinal) || e.Message.Contains("no body was provided", StringComparison.OrdinalIgnoreCase))
            return "A JSON body is required.";
        return e.Message;
    }

    /// <summary>Where an unknown field sits: <c>options.bogus</c>, not just <c>bogus</c>.</summary>
    private static string FieldPath(string? path, string member)
    {
        var parent = string.IsNullOrEmpty(path) ? "" : path.TrimStart('$', '.');
        if (parent == member || parent.EndsWith("." + member, StringComparison.Ordinal)) return parent;
        return parent.Length == 0 ? member : $"{parent}.{member}";
    }

    /// <summary>
    /// A body bound to a record (through its constructor) names the record, not the field, as what the
    /// value could not become: the field's own type is looked up from the path's last name.
    /// </summary>
    private static string ExpectedType(string named, string? path)
    {
        var field = path?.Split('.')[^1].Split('[')[0];
        var owner = typeof(ApiExceptionHandler).Assembly.GetType(named) ?? typeof(ValidationException).Assembly.GetType(named);
        var property = owner is null || string.IsNullOrEmpty(field) ? null
            : owner.GetProperty(field, System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.IgnoreCase);
        return property is null ? named : (Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType).Name;
    }

    /// <summary>A .NET type name (or C# alias) in words a person writing JSON or a query string knows.</summary>
    private static string Friendly(string type)
    {
        if (type.Contains("Dictionary", StringComparison.Ordinal)) return "an object of string values";
        // The innermost name: System.Nullable`1[System.Int32] → Int32, Nullable<int> → int, A.B+Request → Request.
        return InnermostName().Match(type).Groups[1].Value.ToLowerInvariant() switch
        {
            "double" or "single" or "float" or "decimal" => "a number",
            "int" or "int16" or "int32" or "int64" or "uint32" or "uint64" or "long" or "short" or "byte" => "a whole number",
            "string" => "a string",
            "bool" or "boolean" => "true or false",
            "datetime" or "datetimeoffset" => "a date",
            _ => "an object",
        };
    }

    [GeneratedRegex(@"([A-Za-z0-9_]+)[\]>\s]*\z")]
    private static partial Regex InnermostName();

    [GeneratedRegex("^Failed to bind parameter \"(?<type>[^\"]+) (?<name>[A-Za-z0-9_]+)\" from \"(?<value>[^\"]*)\"")]
    private static partial Regex QueryBinding();

    [GeneratedRegex("Duplicate property '([^']*)'")]
    private static partial Regex DuplicateMember();

    [GeneratedRegex("The JSON property '([^']*)' could not be mapped")]
    private static partial Regex UnknownMember();

    [GeneratedRegex(@"could not be converted to (\S+?)\.?(?:\s|\z)")]
    private static partial Regex TargetType();
}
