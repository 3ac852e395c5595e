namespace Rosetta.Core.Domain;

/// <summary>
/// The container (or job) of a task deleted while its resource could not be reached: removed, and this row with it,
/// once the resource answers. Only containers recorded here are removed behind their tasks: a container of this
/// platform that its database does not know (a database restored from a backup) is never touched.
/// </summary>
public sealed class ForgottenContainer
{
    public required string TaskId { get; set; }
    public required string ComputingId { get; set; }
    public DateTime ForgottenAt { get; set; } = DateTime.UtcNow;
}
