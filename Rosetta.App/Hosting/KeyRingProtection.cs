using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.DataProtection;

namespace Rosetta.App.Hosting;

/// <summary>
/// The Data Protection key ring: the keys that encrypt task secrets and users' SSH keys in the database.
/// They live in <c>{DataDirectory}/keys</c>, a folder only the platform's own user may open. With
/// <c>Rosetta:DataProtection:CertificatePath</c> they are encrypted as well, so a copy of the data
/// directory (a backup, a stolen disk) opens nothing without the certificate, which is kept elsewhere.
/// </summary>
public static class KeyRingProtection
{
    public const string CertificatePathKey = "Rosetta:DataProtection:CertificatePath";
    public const string CertificatePasswordKey = "Rosetta:DataProtection:CertificatePassword";
    public const string PreviousCertificatePathKey = "Rosetta:DataProtection:PreviousCertificatePath";
    public const string PreviousCertificatePasswordKey = "Rosetta:DataProtection:PreviousCertificatePassword";

    public static IDataProtectionBuilder AddRosettaDataProtection(this IServiceCollection services, IConfiguration configuration, string dataDirectory)
    {
        var builder = services.AddDataProtection()
            .SetApplicationName("Rosetta")
            .PersistKeysToFileSystem(PrivateFolder(Path.Combine(dataDirectory, "keys")));
        if (configuration[CertificatePathKey] is { Length: > 0 } path)
        {
            var certificate = LoadCertificate(path, configuration[CertificatePasswordKey], CertificatePathKey);
            // A replaced certificate still opens the keys it encrypted, which still open what they protected.
            X509Certificate2[] readers = configuration[PreviousCertificatePathKey] is { Length: > 0 } previous
                ? [certificate, LoadCertificate(previous, configuration[PreviousCertificatePasswordKey], PreviousCertificatePathKey)]
                : [certificate];
            // Unprotect…: on Linux, decryption would otherwise look for the certificates in the user's X509 store.
            builder.ProtectKeysWithCertificate(certificate).UnprotectKeysWithAnyCertificate(readers);
        }
        return builder;
    }

    /// <summary>A PKCS#12 (.pfx) file with its RSA private key; a start-up error that says what to fix otherwise.</summary>
    public static X509Certificate2 LoadCertificate(string path, string? password, string setting = CertificatePathKey)
    {
        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(path, password);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException(
                $"{setting}: '{path}' could not be read as a PKCS#12 (.pfx) file with the password given for it ({e.Message}). " +
                "Check the path, the file's permissions and the password.", e);
        }
        string? problem = null;
        if (!certificate.HasPrivateKey) problem = "holds no private key, so the keys it encrypted could never be read again. Export the certificate with its private key.";
        else
        {
            // XML encryption, which Data Protection uses for its keys, takes RSA keys only: an EC key would
            // let the platform start and then fail at the first key it makes.
            using var rsa = certificate.GetRSAPrivateKey();
            if (rsa is null) problem = "holds a key that is not RSA; the key ring is encrypted with RSA only. Make an RSA certificate (e.g. openssl req -x509 -newkey rsa:3072 …).";
        }
        if (problem is not null)
        {
            certificate.Dispose();
            throw new InvalidOperationException($"{setting}: '{path}' {problem}");
        }
        return certificate;
    }

    /// <summary>The folder, created if missing, readable and writable by the platform's user alone.</summary>
    private static DirectoryInfo PrivateFolder(string path)
    {
        if (OperatingSystem.IsWindows()) return Directory.CreateDirectory(path);
        const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        var folder = Directory.CreateDirectory(path, OwnerOnly);
        try
        {
            File.SetUnixFileMode(path, OwnerOnly); // a folder made by an earlier version may be open to others
        }
        catch (UnauthorizedAccessException)
        {
            // Another user's folder (a mounted volume): left as its owner set it.
        }
        return folder;
    }
}
