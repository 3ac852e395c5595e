using System.Text;

namespace Rosetta.Core.Remote;

/// <summary>
/// The one way to build a command line for a remote POSIX shell (the SSH and Slurm backends): every
/// argument is quoted, so nothing a user typed — task names, environment values, image names,
/// paths — is ever interpreted by the remote shell. Arguments go in as an array, never as text.
/// </summary>
/// <remarks>
/// sshd runs the command through the account's login shell, which must be POSIX (sh, bash, dash,
/// ksh, zsh). Inside single quotes a POSIX shell treats every character literally except the closing
/// quote, so a quote is written as <c>'"'"'</c>. NUL cannot travel in an argument at all and is refused.
/// </remarks>
public static class ShellCommand
{
    /// <summary>Builds <c>program arg1 arg2 …</c> with each part quoted.</summary>
    public static string Join(params IEnumerable<string> arguments) => string.Join(' ', arguments.Select(Quote));

    /// <summary>Quotes one argument for a POSIX shell.</summary>
    /// <exception cref="ArgumentException">The argument contains a NUL character.</exception>
    public static string Quote(string argument)
    {
        ArgumentNullException.ThrowIfNull(argument);
        if (argument.Contains('\0')) throw new ArgumentException("A command argument cannot contain a NUL character.", nameof(argument));
        // A word that starts with '=' is a command's path in zsh (its EQUALS option), not itself.
        if (argument.Length > 0 && argument[0] != '=' && argument.All(IsSafe)) return argument;
        var quoted = new StringBuilder(argument.Length + 2).Append('\'');
        foreach (var c in argument)
        {
            if (c == '\'') quoted.Append("'\"'\"'");
            else quoted.Append(c);
        }
        return quoted.Append('\'').ToString();
    }

    // Characters no POSIX shell gives a meaning to (no globbing, expansion, separators or quoting).
    private static bool IsSafe(char c) =>
        c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_' or '-' or '.' or '/' or ':' or ',' or '+' or '@' or '%' or '=';
}
