namespace Rosetta.Core.Domain;

/// <summary>
/// An entry of the software catalogue: a container image plus what the platform needs to know
/// to run it and reach its interface.
/// </summary>
public sealed class Software
{
    /// <summary>Stable identifier used by the API (e.g. <c>jupyter</c>).</summary>
    public required string Id { get; set; }
    public required string Name { get; set; }
    public string Description { get; set; } = "";
    /// <summary>Image repository, e.g. <c>rosetta/jupyter</c> or <c>quay.io/org/app</c>.</summary>
    public required string Image { get; set; }
    public string Tag { get; set; } = "latest";
    /// <summary>Optional <c>sha256:</c> digest; when set the image is run by digest, so a rerun gets the same bits.</summary>
    public string? Digest { get; set; }
    /// <summary>Port the interface listens on inside the container.</summary>
    public int InterfacePort { get; set; }
    public InterfaceProtocol InterfaceProtocol { get; set; } = InterfaceProtocol.Http;
    /// <summary>Environment handed to every task of this software (user options may add more).</summary>
    public Dictionary<string, string> Env { get; set; } = new();
    /// <summary>
    /// Name of the variable through which the container accepts a different interface port
    /// (needed where ports are shared, e.g. Slurm nodes). Null: the port is fixed.
    /// </summary>
    public string? PortEnv { get; set; }
    /// <summary>
    /// Name of the variable that receives the per-task interface secret (Jupyter token, VNC or SSH
    /// password). Null: the software has no interface password.
    /// </summary>
    public string? SecretEnv { get; set; }
    /// <summary>
    /// For a <see cref="VncAuthorization"/> desktop: the variable that receives a second, view-only VNC
    /// password, derived from the secret (<see cref="Security.TaskSecrets.ViewOnlyOf"/>). The proxy logs
    /// view-only share-link guests in with it, so the VNC server itself ignores their input as well as the
    /// proxy's filter. Null: the desktop knows one password, and only the filter holds guests back.
    /// </summary>
    public string? ViewOnlySecretEnv { get; set; }
    /// <summary>
    /// When set, the proxy authenticates to the interface itself with
    /// <c>Authorization: {scheme} {secret}</c> (Jupyter uses <c>token</c>), or, for
    /// <see cref="VncAuthorization"/>, answers the VNC password challenge inside the WebSocket.
    /// </summary>
    public string? ProxyAuthorizationScheme { get; set; }
    /// <summary>
    /// Name of the variable that receives the proxy path (<c>/t/{id}/</c>). Set for software that
    /// serves under a path prefix (Jupyter's base_url); the proxy then keeps the prefix. Null: the
    /// software expects to be served at <c>/</c> and the proxy strips the prefix.
    /// </summary>
    public string? BasePathEnv { get; set; }
    /// <summary>Owner's user id; null for platform-wide software that only admins edit.</summary>
    public string? OwnerId { get; set; }
    public DateTime CreatedAt { get; set; } = DateTime.UtcNow;

    /// <summary>The proxy scheme for noVNC desktops: RFB VNC authentication done by the proxy.</summary>
    public const string VncAuthorization = "vnc";

    public bool AcceptsCustomPort => PortEnv is not null;
    public bool AcceptsInterfacePassword => SecretEnv is not null;

    /// <summary>The reference the engine runs: by digest when pinned, else by tag.</summary>
    public string ImageReference => Digest is { Length: > 0 } ? $"{Image}@{Digest}" : $"{Image}:{Tag}";
}
