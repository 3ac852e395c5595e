using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;

namespace Rosetta.Core.Security;

/// <summary>
/// Per-task interface secrets (Jupyter token, VNC or SSH password): generated here, stored only in
/// encrypted form (ASP.NET Data Protection), decrypted only to hand to the container and the proxy.
/// </summary>
public sealed class TaskSecrets(IDataProtectionProvider provider)
{
    private readonly IDataProtector _protector = provider.CreateProtector("Rosetta.TaskSecrets.v1");

    /// <summary>A new random secret: 32 bytes, URL-safe base64 (no characters a shell or URL would mangle).</summary>
    public static string Generate() => Base64Url(RandomNumberGenerator.GetBytes(32));

    /// <summary>
    /// The view-only VNC password of a task, derived from its secret so that nothing more is stored: 16
    /// URL-safe characters whose first 8 (all VNC reads) never equal the secret's, because a VNC server tries
    /// the full password first and would give the view-only guest full control.
    /// </summary>
    public static string ViewOnlyOf(string secret)
    {
        var key = System.Text.Encoding.UTF8.GetBytes(secret);
        for (var round = 0; ; round++)
        {
            var derived = Base64Url(HMACSHA256.HashData(key, System.Text.Encoding.ASCII.GetBytes($"rosetta vnc view-only {round}")))[..16];
            if (!derived.AsSpan(0, 8).SequenceEqual(secret.AsSpan(0, Math.Min(8, secret.Length)))) return derived;
        }
    }

    public string Protect(string secret) => _protector.Protect(secret);

    public string Unprotect(string protectedSecret) => _protector.Unprotect(protectedSecret);

    /// <summary>How a bearer secret (an API token, a share link, a session key) is stored: its SHA-256, in hex.
    /// The secrets are random 256-bit values, so a plain hash is enough to make the table open nothing.</summary>
    public static string HashOf(string secret) => Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secret)));

    public static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
