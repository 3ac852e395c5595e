namespace Rosetta.Core.Domain;

/// <summary>
/// This installation's identity, stored in its database and loaded at start-up. Containers carry it
/// as a label so two platform instances sharing one engine never adopt each other's containers.
/// </summary>
public sealed class PlatformIdentity
{
    private string? _instanceId;

    public string InstanceId => _instanceId ?? throw new InvalidOperationException("The platform identity is read before the database was initialized.");

    public void Initialize(string instanceId) => _instanceId = instanceId;
}
