namespace Rosetta.Core.Validation;

/// <summary>
/// Field → messages, in the shape of RFC 7807 validation problems. Field names are the JSON
/// names a client sent (<c>options.cpus</c>), so a form can put each message on its field.
/// </summary>
public sealed class ValidationErrors
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool IsValid => _errors.Count == 0;

    public void Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var list)) _errors[field] = list = [];
        list.Add(message);
    }

    public IDictionary<string, string[]> ToDictionary() =>
        _errors.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray(), StringComparer.Ordinal);

    /// <summary>All messages in one sentence, for logs and exceptions.</summary>
    public override string ToString() =>
        string.Join(" ", _errors.SelectMany(kv => kv.Value.Select(m => $"{kv.Key}: {m}")));
}

/// <summary>Thrown by Core services when a request is invalid; the API turns it into a 400.</summary>
public sealed class ValidationException(ValidationErrors errors) : Exception(errors.ToString())
{
    public ValidationErrors Errors { get; } = errors;

    public static ValidationException For(string field, string message)
    {
        var errors = new ValidationErrors();
        errors.Add(field, message);
        return new ValidationException(errors);
    }
}
