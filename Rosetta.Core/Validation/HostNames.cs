using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Rosetta.Core.Validation;

/// <summary>
/// What a computing resource's host may be: a DNS name, a dotted IPv4 address or an IPv6 address.
/// Checked when the resource is added, so a typo such as <c>999.1.1.1</c> is refused with a reason
/// instead of failing at every connection later.
/// </summary>
public static partial class HostNames
{
    public const int MaxLength = 253;

    /// <summary>Null when <paramref name="host"/> is usable; otherwise what to fix.</summary>
    public static string? Problem(string host)
    {
        if (host.Length > MaxLength) return $"is {host.Length} characters long; a host name has at most {MaxLength}.";
        if (host.StartsWith('[') || host.EndsWith(']'))
            return "must be written without brackets (e.g. ::1); the port goes in 'port'.";
        if (host.Contains('/'))
            return "must be the host alone, without 'ssh://', 'http://' or a path (e.g. cluster.example.org); the port goes in 'port'.";
        if (HostAndPort().IsMatch(host))
            return "must be the host alone; the port goes in 'port'.";
        if (host.Contains('%'))
            return "cannot carry an IPv6 zone such as %eth0: give the address alone.";
        if (host.Contains(':'))
        {
            if (!host.All(c => char.IsAsciiHexDigit(c) || c is ':' or '.'))
                return "is not a host name or IP address: a name has no ':' (the port goes in 'port'), and an IPv6 address only hexadecimal digits, ':' and '.'.";
            return IPAddress.TryParse(host, out var v6) && v6.AddressFamily == AddressFamily.InterNetworkV6
                ? null : "is not a valid IPv6 address.";
        }
        var labels = host.Split('.');
        // A name whose last label is all digits can only be an IPv4 address (no top-level domain is numeric).
        if (labels[^1].Length > 0 && labels[^1].All(char.IsAsciiDigit))
            return IsDottedQuad(labels) ? null : "looks like an IPv4 address but is not one: write four numbers from 0 to 255 separated by dots, such as 192.168.1.10.";
        return NamePattern().IsMatch(host) ? null
            : "is not a host name or IP address: use letters, digits, '-' and dots (no spaces, '_' or other characters).";
    }

    private static bool IsDottedQuad(string[] labels) =>
        labels.Length == 4 && labels.All(l => l.Length is >= 1 and <= 3 && l.All(char.IsAsciiDigit)
            && (l.Length == 1 || l[0] != '0') // 010 is octal to some resolvers and decimal to others
            && int.Parse(l, CultureInfo.InvariantCulture) <= 255);

    /// <summary>A name or IPv4 address followed by ':' and a port (an IPv6 address has several ':').</summary>
    [GeneratedRegex(@"^[^:]+:[0-9]{1,5}\z")]
    private static partial Regex HostAndPort();

    [GeneratedRegex(@"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\z")]
    private static partial Regex NamePattern();
}
