using System.Security.Cryptography;

namespace Rosetta.App.Proxy;

/// <summary>
/// VNC authentication (RFB security type 2): the response to the server's 16-byte challenge is the
/// challenge DES-encrypted with the password (first 8 characters, zero-padded), each key byte's bits
/// reversed — the protocol's historical quirk.
/// </summary>
public static class VncAuthentication
{
    public const int ChallengeLength = 16;

    public static byte[] Respond(ReadOnlySpan<byte> challenge, string password)
    {
        if (challenge.Length != ChallengeLength) throw new ArgumentException("A VNC challenge is 16 bytes.", nameof(challenge));
        var key = new byte[8];
        var bytes = System.Text.Encoding.Latin1.GetBytes(password);
        for (var i = 0; i < 8 && i < bytes.Length; i++) key[i] = ReverseBits(bytes[i]);
#pragma warning disable CA5351 // DES is what the VNC protocol prescribes; the secret itself is random and per task.
        using var des = DES.Create();
        des.Key = key;
        return des.EncryptEcb(challenge, PaddingMode.None);
#pragma warning restore CA5351
    }

    private static byte ReverseBits(byte b)
    {
        byte result = 0;
        for (var i = 0; i < 8; i++) result |= (byte)(((b >> i) & 1) << (7 - i));
        return result;
    }
}
