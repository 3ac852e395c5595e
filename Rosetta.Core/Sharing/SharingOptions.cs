namespace Rosetta.Core.Sharing;

/// <summary>Configuration section <c>Rosetta:Sharing</c>.</summary>
public sealed class SharingOptions
{
    /// <summary>
    /// Most WebSockets (a kernel's channels, a desktop's screen) open at once through one share link: the link
    /// needs no account, so this bounds what whoever holds it can make the platform and the task relay; 0: no limit.
    /// </summary>
    public int MaxConnectionsPerLink { get; set; } = 100;
}
