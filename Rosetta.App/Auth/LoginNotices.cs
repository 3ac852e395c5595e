namespace Rosetta.App.Auth;

/// <summary>
/// What the login page says above its form when a redirect names a reason (<c>/login?notice=…</c>):
/// only these fixed texts, never text taken from the address.
/// </summary>
public static class LoginNotices
{
    public const string ShareLinkEnded = "share-link-ended";

    public const string ShareLinkEndedText = "The share link you opened no longer works: its owner revoked it, or it expired. "
        + "Ask the task's owner for a new link. If the task is yours, log in.";

    public static string? Text(string? notice) => notice == ShareLinkEnded ? ShareLinkEndedText : null;
}
