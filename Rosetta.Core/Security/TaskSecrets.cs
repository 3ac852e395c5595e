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

    public string Protect(string secret) => _protector.Protect(secret);

    public string Unprotect(string protectedSecret) => _protector.Unprotect(protectedSecret);

    public static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
