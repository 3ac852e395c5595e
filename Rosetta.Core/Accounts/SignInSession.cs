namespace Rosetta.Core.Accounts;

/// <summary>
/// A dashboard sign-in, kept on the server: the browser's cookie names it and holds nothing else, so
/// logging out ends it for good (a copied cookie dies with it) and the connections it opened can be
/// found and cut. What the session is (the user's claims, its expiry) is kept here, encrypted.
/// </summary>
public sealed class SignInSession
{
    /// <summary>SHA-256 of the key the cookie carries (hex): the table alone opens no session.</summary>
    public required string KeyHash { get; set; }
    public required string UserId { get; set; }
    /// <summary>The serialized authentication ticket, encrypted with the platform's data protection keys.</summary>
    public required byte[] Ticket { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime ExpiresAt { get; set; }
}
