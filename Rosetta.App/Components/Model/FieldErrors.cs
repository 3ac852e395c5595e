using Rosetta.Core.Validation;

namespace Rosetta.App.Components.Model;

/// <summary>
/// Validation messages of a form, by field name (the same names the API uses), so every page puts
/// Core's messages on its fields the same way: as the <c>Problem</c> of a checked field
/// (<see cref="Controls.Fields.FieldProblem"/>).
/// </summary>
public sealed class FieldErrors
{
    private IDictionary<string, string[]> _errors = new Dictionary<string, string[]>();

    public bool Any => _errors.Count > 0;
    public bool Has(string field) => _errors.ContainsKey(field);
    public string? Of(string field) => _errors.TryGetValue(field, out var messages) ? string.Join(" ", messages) : null;

    /// <summary>
    /// The messages about a field and its items (<c>env</c> and <c>env.NAME</c>: Core names an item's problem
    /// after it), for a field that edits them all at once; an item's message starts with its name.
    /// </summary>
    public string? OfAll(string field)
    {
        var messages = _errors.Where(e => e.Key == field || e.Key.StartsWith(field + ".", StringComparison.Ordinal))
            .SelectMany(e => e.Value.Select(m => e.Key == field ? m : $"{e.Key[(field.Length + 1)..]} {m}")).ToList();
        return messages.Count == 0 ? null : string.Join(" ", messages);
    }
    /// <summary>The messages of every field but <paramref name="shown"/> (those a form's own fields show), each after its field's name.</summary>
    public IEnumerable<string> Except(IReadOnlySet<string> shown) =>
        _errors.Where(e => !shown.Contains(e.Key)).SelectMany(e => e.Value.Select(m => $"{e.Key} {m}"));

    public void Set(ValidationErrors errors) => _errors = errors.ToDictionary();
    public void Set(string field, string message) => _errors = new Dictionary<string, string[]> { [field] = [message] };
    public void Clear() => _errors = new Dictionary<string, string[]>();
}
