using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Rosetta.App.Hosting;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Integration;

/// <summary>
/// The keys that encrypt task secrets and SSH keys in the database: private to the platform's user,
/// and with a configured certificate encrypted too, so the data directory alone opens nothing.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class KeyRingProtectionTests : IDisposable
{
    private readonly DirectoryInfo _certificates = Directory.CreateTempSubdirectory("rosetta-keyring");

    public void Dispose() => _certificates.Delete(recursive: true);

    [Fact]
    public async Task WithACertificateTheKeysAreEncryptedAndARestartWithItReadsWhatWasProtected()
    {
        var pfx = WriteCertificate("keyring.pfx", "pfx-password", withPrivateKey: true);
        var settings = new Dictionary<string, string?>
        {
            [KeyRingProtection.CertificatePathKey] = pfx,
            [KeyRingProtection.CertificatePasswordKey] = "pfx-password",
        };
        string protectedText, dataDirectory;
        await using (var first = new RosettaAppFactory(settings: settings))
        {
            dataDirectory = first.DataDirectory;
            protectedText = first.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("test").Protect("a task's secret");
        }

        var keys = Path.Combine(dataDirectory, "keys");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(keys));
        var files = Directory.GetFiles(keys, "*.xml");
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            var xml = await File.ReadAllTextAsync(file);
            Assert.Contains("EncryptedData", xml);
            Assert.DoesNotContain("unencrypted form", xml);
        }

        await using (var second = new RosettaAppFactory(dataDirectory, settings))
        {
            Assert.Equal("a task's secret", second.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("test").Unprotect(protectedText));
        }
        // Without the certificate, the same folder opens nothing.
        await using (var without = new RosettaAppFactory(dataDirectory))
            Assert.ThrowsAny<CryptographicException>(() => without.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("test").Unprotect(protectedText));

        // A new certificate, the old one named as previous: what the old keys protected still opens.
        var replacement = WriteCertificate("replacement.pfx", "new-password", withPrivateKey: true);
        var replaced = new Dictionary<string, string?>
        {
            [KeyRingProtection.CertificatePathKey] = replacement,
            [KeyRingProtection.CertificatePasswordKey] = "new-password",
            [KeyRingProtection.PreviousCertificatePathKey] = pfx,
            [KeyRingProtection.PreviousCertificatePasswordKey] = "pfx-password",
        };
        await using (var third = new RosettaAppFactory(dataDirectory, replaced))
            Assert.Equal("a task's secret", third.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("test").Unprotect(protectedText));
        replaced.Remove(KeyRingProtection.PreviousCertificatePathKey);
        await using (var forgetful = new RosettaAppFactory(dataDirectory, replaced))
            Assert.ThrowsAny<CryptographicException>(() => forgetful.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("test").Unprotect(protectedText));
    }

    [Fact]
    public void ACertificateThatCannotServeIsAStartupErrorSayingWhatToFix()
    {
        var pfx = WriteCertificate("right.pfx", "right", withPrivateKey: true);
        var wrongPassword = Assert.Throws<InvalidOperationException>(() => KeyRingProtection.LoadCertificate(pfx, "wrong"));
        Assert.Contains("Check the path, the file's permissions and the password", wrongPassword.Message);
        Assert.Throws<InvalidOperationException>(() => KeyRingProtection.LoadCertificate(Path.Combine(_certificates.FullName, "missing.pfx"), "right"));

        var publicOnly = WriteCertificate("public.pfx", "p", withPrivateKey: false);
        Assert.Contains("holds no private key", Assert.Throws<InvalidOperationException>(() => KeyRingProtection.LoadCertificate(publicOnly, "p")).Message);

        // Data Protection's XML encryption takes RSA only: an EC certificate would fail at the first new key.
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var ecCertificate = new CertificateRequest("CN=Rosetta key ring", ec, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        var ecFile = Path.Combine(_certificates.FullName, "ec.pfx");
        File.WriteAllBytes(ecFile, ecCertificate.Export(X509ContentType.Pkcs12, "e"));
        Assert.Contains("is not RSA", Assert.Throws<InvalidOperationException>(() => KeyRingProtection.LoadCertificate(ecFile, "e")).Message);
    }

    private string WriteCertificate(string name, string password, bool withPrivateKey)
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=Rosetta key ring", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        using var exported = withPrivateKey ? certificate : X509CertificateLoader.LoadCertificate(certificate.Export(X509ContentType.Cert));
        var path = Path.Combine(_certificates.FullName, name);
        File.WriteAllBytes(path, exported.Export(X509ContentType.Pkcs12, password));
        return path;
    }
}
