using System.Runtime.InteropServices;

namespace Rosetta.Core.Storages;

/// <summary>
/// The C library's <c>realpath(3)</c>: the canonical absolute path with every symbolic link, at every
/// level, resolved. .NET resolves one link at a time; confinement needs the whole chain at once.
/// </summary>
internal static partial class PosixPath
{
    /// <summary>The canonical path, or null when it (or a link on the way) does not exist.</summary>
    public static string? Canonical(string path)
    {
        var resolved = realpath(path, IntPtr.Zero);
        if (resolved == IntPtr.Zero) return null;
        try
        {
            return Marshal.PtrToStringUTF8(resolved);
        }
        finally
        {
            free(resolved);
        }
    }

    /// <summary>True when <paramref name="path"/> is <paramref name="root"/> or below it (both canonical).</summary>
    public static bool IsWithin(string path, string root) =>
        path == root || path.StartsWith(root.EndsWith('/') ? root : root + "/", StringComparison.Ordinal);

    [DllImport("libc", SetLastError = true)]
    private static extern IntPtr realpath([MarshalAs(UnmanagedType.LPUTF8Str)] string path, IntPtr resolved);

    [DllImport("libc")]
    private static extern void free(IntPtr pointer);
}
