using Rosetta.Core.Catalogue;
using Rosetta.Core.Domain;

namespace Rosetta.App.Components.Model;

/// <summary>
/// The names users gave the software and computing resources tasks refer to by id. Ids are slugs or
/// generated (<c>c-1a2b3c4d</c> for a host of one's own), so pages show the names; an id whose entry
/// is gone (removed after the task ran) or that the caller may not see shows as itself.
/// </summary>
public sealed class CatalogueNames(SoftwareService software, ComputingService computing)
{
    private IReadOnlyDictionary<string, string> _software = new Dictionary<string, string>();
    private IReadOnlyDictionary<string, string> _computing = new Dictionary<string, string>();
    private readonly HashSet<string> _softwareLookedFor = [], _computingLookedFor = [];

    public async Task LoadAsync(Caller caller, CancellationToken ct)
    {
        _software = (await software.ListAsync(caller, ct)).ToDictionary(s => s.Id, s => s.Name);
        _computing = (await computing.ListAsync(caller, ct)).ToDictionary(c => c.Id, c => c.Name);
    }

    /// <summary>
    /// Loads the names again when a task names an entry not known yet (added after the page opened),
    /// once per such id: a removed entry would otherwise cost a reload with every change of its tasks.
    /// </summary>
    public async Task CatchUpAsync(Caller caller, IEnumerable<TaskRecord> tasks, CancellationToken ct)
    {
        var missing = false;
        var list = tasks.ToList();
        foreach (var task in list)
            missing |= NewlyMissing(_software, _softwareLookedFor, task.SoftwareId) | NewlyMissing(_computing, _computingLookedFor, task.ComputingId);
        if (!missing) return;
        try
        {
            await LoadAsync(caller, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException && e is not OutOfMemoryException)
        {
            // Names are a nicety: the ids stay on the page (whose live updates go on), and the next change tries again.
            foreach (var task in list)
            {
                _softwareLookedFor.Remove(task.SoftwareId);
                _computingLookedFor.Remove(task.ComputingId);
            }
        }
    }

    public string Software(string id) => _software.GetValueOrDefault(id, id);

    public string Computing(string id) => _computing.GetValueOrDefault(id, id);

    private static bool NewlyMissing(IReadOnlyDictionary<string, string> names, HashSet<string> lookedFor, string id) =>
        !names.ContainsKey(id) && lookedFor.Add(id);
}
