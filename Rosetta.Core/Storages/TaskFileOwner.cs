using System.Runtime.InteropServices;

namespace Rosetta.Core.Storages;

/// <summary>
/// The owner given to what the platform creates in local storages (their folders, uploads, copies),
/// so that tasks can change it through their binds. The bundled images run as an unprivileged user
/// (jupyter's jovyan, the desktop's and ssh image's scientist: uid and gid 1000), and the platform
/// usually runs as root: a root-owned 0755 folder would be read-only to every task.
/// </summary>
/// <remarks>
/// Why ownership rather than a shared group: a group-writable, setgid folder with containers started
/// with <c>--group-add</c> only works while every process inside keeps a group-writable umask, which
/// images do not (files and subfolders a task creates would be 0644/0755 and closed to other tasks
/// again). Giving the files to the uid the images run as works whatever the umask, and the platform,
/// as root, still reads and changes everything. Folders an admin points a storage at are never
/// re-owned: only what the platform creates itself. Running unprivileged, the platform cannot give
/// files away (EPERM): they stay its own, which is right for a rootless engine where the platform's
/// user is the tasks' user.
/// </remarks>
public sealed class TaskFileOwner(int uid, int gid)
{
    /// <summary>Leaves files as created (<c>Rosetta:Storage:OwnerUid</c> = -1).</summary>
    public static readonly TaskFileOwner Unchanged = new(-1, -1);

    public int Uid { get; } = uid;
    public int Gid { get; } = gid;

    /// <summary>Gives <paramref name="path"/> (a link itself, never its target) to the tasks' user, when the platform may.</summary>
    public void Apply(string path)
    {
        if (Uid < 0 || OperatingSystem.IsWindows()) return;
        _ = lchown(path, Uid, Gid); // EPERM when unprivileged: the files stay the platform's, see the remarks
    }

    /// <summary>Gives an open file to the tasks' user (what the handle is, wherever its path now leads).</summary>
    public void Apply(Microsoft.Win32.SafeHandles.SafeFileHandle file)
    {
        if (Uid < 0 || OperatingSystem.IsWindows()) return;
        _ = fchown((int)file.DangerousGetHandle(), Uid, Gid);
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int fchown(int fd, int owner, int group);

    [DllImport("libc", SetLastError = true)]
    private static extern int lchown([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int owner, int group);
}
