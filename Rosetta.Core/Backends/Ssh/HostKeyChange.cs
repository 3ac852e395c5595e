using System.Text.RegularExpressions;
using Rosetta.Core.Domain;

namespace Rosetta.Core.Backends.Ssh;

/// <summary>
/// A host that offers another key than the one pinned: every connection is refused, and the resource's
/// reason says so in these words. The dashboard reads the offered fingerprint back from them to offer
/// trusting a new key (after its owner confirmed it): one format, written and read here.
/// </summary>
public static partial class HostKeyChange
{
    public static string Message(ComputingResource computing, string pinned, string offered) =>
        $"The host key of {computing.Address} is not the one pinned: the platform pinned SHA256:{pinned} but the host " +
        $"offered SHA256:{offered}. The connection was refused: someone may be intercepting it. If the host was " +
        "reinstalled (or the fingerprint given when the resource was added is mistyped), have its owner confirm the right fingerprint, then trust it: Trust new host key on the Computing page " +
        $"(or PUT /api/v1/computing/{computing.Id}/host-key with {{\"fingerprint\": \"SHA256:…\"}}).";

    /// <summary>The fingerprint offered instead of the pinned one, when <paramref name="reason"/> is such a refusal; else null.</summary>
    public static string? OfferedIn(string? reason) =>
        reason is not null && OfferedPattern().Match(reason) is { Success: true } m ? "SHA256:" + m.Groups[1].Value : null;

    [GeneratedRegex(@"is not the one pinned: the platform pinned SHA256:\S+ but the host offered SHA256:([A-Za-z0-9+/]+)\.")]
    private static partial Regex OfferedPattern();
}
