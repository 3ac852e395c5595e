using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Rosetta.Core.Domain;
using Rosetta.Core.Validation;

namespace Rosetta.Core.Storages;

/// <summary>
/// File operations that hold on to what was checked. A path checked with realpath is looked up again
/// by every later call, and a task writing the same storage through its bind can swap a folder on the
/// way for a link in between (the platform usually runs as root, so the link could lead anywhere).
/// Here the object is opened first and the open descriptor is checked: where it really is
/// (<c>/proc/self/fd</c>) and what it is (a regular file, not a device or a FIFO). Writes go into a
/// folder held open the same way, by name relative to it (<c>openat</c>, <c>renameat</c>), so a swap
/// after the check changes nothing.
/// </summary>
internal static class AnchoredFiles
{
    private const int ReadOnly = 0x0, WriteOnly = 0x1, Create = 0x40, Exclusive = 0x80, NonBlocking = 0x800, CloseOnExec = 0x80000;
    private const int DirectoryOnly = 0x10000, NoFollow = 0x20000, RemoveFolder = 0x200 /* AT_REMOVEDIR */;
    /// <summary>O_PATH: a descriptor that names an object without opening it (a device's driver is not called).</summary>
    private const int PathOnly = 0x200000;
    private const int EmptyPath = 0x1000;
    private const uint StatxType = 0x1, StatxModified = 0x40, StatxSize = 0x200;
    private const int TypeMask = 0xF000, RegularFile = 0x8000, Directory = 0x4000;
    private const int NoSuchEntry = 2, PermissionDenied = 13, NotPermitted = 1, AlreadyExists = 17;
    private const int NotAFolder = 20, IsAFolder = 21, Invalid = 22, NotEmpty = 39, TooManyLinks = 40;
    private const int NoSpace = 28, QuotaExceeded = 122;

    /// <summary>
    /// Opens <paramref name="path"/> (a file inside <paramref name="root"/>, canonical) for reading. Refuses anything
    /// that turns out not to be a regular file inside the root, without opening it (see <see cref="ReadRegular"/>).
    /// </summary>
    public static FileStream OpenRead(string path, string root, string shownPath, int bufferSize)
    {
        using var named = Open(path, PathOnly | NoFollow | CloseOnExec, shownPath);
        Confine(named, root, shownPath);
        return ReadRegular(named, shownPath, bufferSize)
            ?? throw ValidationException.For("path", $"'{shownPath}' is not a regular file (a device, a FIFO or a socket), which cannot be downloaded.");
    }

    /// <summary>
    /// The regular file <paramref name="named"/> (an O_PATH descriptor) names, opened for reading; null for anything
    /// else. A task can make device nodes in its storages (Docker leaves containers CAP_MKNOD), and the platform runs
    /// as root: opening one may act by itself (a watchdog arms, a tape rewinds, a FIFO waits for a writer). So the
    /// object's type is read on a descriptor that does not open it, and only a regular file is then opened, through
    /// that very descriptor.
    /// </summary>
    private static FileStream? ReadRegular(SafeFileHandle named, string shownPath, int bufferSize)
    {
        if (TypeOf(named) != RegularFile) return null;
        var handle = Open($"/proc/self/fd/{(int)named.DangerousGetHandle()}", ReadOnly | NonBlocking | CloseOnExec, shownPath);
        return new FileStream(handle, FileAccess.Read, bufferSize, isAsync: false);
    }

    /// <summary>A folder inside <paramref name="root"/>, held open: what is made in it stays in it.</summary>
    public static AnchoredFolder OpenFolder(string path, string root, string shownPath)
    {
        // O_DIRECTORY: anything else is refused before it is opened (a FIFO swapped in would block the open for good).
        // A link is followed, and where it led is then refused by Confine, saying so.
        var handle = Open(path, ReadOnly | DirectoryOnly | CloseOnExec, shownPath);
        try
        {
            Confine(handle, root, shownPath);
            if (TypeOf(handle) != Directory) throw ValidationException.For("path", $"'{shownPath}' is not a folder.");
            return new AnchoredFolder(handle);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    public enum EntryKind { Folder, File, Other }

    public readonly record struct EntryInfo(EntryKind Kind, long Size, DateTime Modified);

    public sealed class AnchoredFolder(SafeFileHandle handle) : IDisposable
    {
        private int Fd => (int)handle.DangerousGetHandle();

        /// <summary>The open folder, for <c>fchown</c>.</summary>
        public SafeFileHandle Handle => handle;

        /// <summary>A folder of this one, held open in turn; a link at that name is refused, never followed.</summary>
        public AnchoredFolder OpenChild(string name)
        {
            var fd = openat(Fd, name, ReadOnly | DirectoryOnly | NoFollow | CloseOnExec, 0);
            if (fd < 0) throw Failure(Marshal.GetLastPInvokeError(), name);
            return new AnchoredFolder(new SafeFileHandle(fd, ownsHandle: true));
        }

        /// <summary>Makes a folder here, owned by the task's owner; false when something has that name already.</summary>
        public bool CreateFolder(string name, string shownPath, TaskFileOwner owner)
        {
            if (mkdirat(Fd, name, 0x1FF /* 0777, less the umask */) != 0)
            {
                var error = Marshal.GetLastPInvokeError();
                if (error == AlreadyExists) return false;
                throw Failure(error, shownPath);
            }
            using var made = OpenChild(name);
            owner.Apply(made.Handle);
            return true;
        }


        /// <summary>
        /// Moves an entry of this folder (a link itself, never its target) into <paramref name="target"/>,
        /// never over something already there.
        /// </summary>
        public void MoveTo(string name, AnchoredFolder target, string targetName, string shownFrom, string shownTo)
        {
            if (renameat2(Fd, name, target.Fd, targetName, 1u /* RENAME_NOREPLACE */) == 0) return;
            var error = Marshal.GetLastPInvokeError();
            if (error == Invalid && !target.Has(targetName))
            {
                // Some file systems (NFS, CIFS, FUSE) know no RENAME_NOREPLACE and refuse it with EINVAL, which a
                // move into itself also gets: nothing being at the target, a plain rename tells them apart.
                if (renameat2(Fd, name, target.Fd, targetName, 0u) == 0) return;
                error = Marshal.GetLastPInvokeError();
            }
            throw error switch
            {
                AlreadyExists or NotEmpty => new ConflictException($"'{shownTo}' exists already; delete it first or choose another name."),
                Invalid when target.Has(targetName) => new ConflictException($"'{shownTo}' exists already; delete it first or choose another name."),
                Invalid => ValidationException.For("to", "is inside the folder being moved."),
                _ => Failure(error, shownFrom),
            };
        }

        /// <summary>The names in this folder, listed through its descriptor: the very folder opened, wherever it is now.</summary>
        public IReadOnlyList<string> Names() =>
            System.IO.Directory.EnumerateFileSystemEntries(Through).Select(entry => Path.GetFileName(entry)).ToList();

        /// <summary>The folder's path through its descriptor (<c>/proc/self/fd/N</c>): what is looked up below it is in the very folder opened.</summary>
        public string Through => $"/proc/self/fd/{Fd}";

        /// <summary>Whether that name here is a folder, a regular file, or something else (a link, not followed; a device…).</summary>
        public EntryKind KindOf(string name) => InfoOf(name).Kind;

        /// <summary>What that name here is (a link is <see cref="EntryKind.Other"/>, not followed), its size and its last change.</summary>
        public EntryInfo InfoOf(string name)
        {
            var buffer = new byte[StatxBufferSize];
            if (statx(Fd, name, 0x100 /* AT_SYMLINK_NOFOLLOW */, StatxType | StatxSize | StatxModified, buffer) != 0) return new EntryInfo(EntryKind.Other, 0, default);
            var kind = (ModeOf(buffer) & TypeMask) switch { Directory => EntryKind.Folder, RegularFile => EntryKind.File, _ => EntryKind.Other };
            return new EntryInfo(kind, SizeOf(buffer), ModifiedOf(buffer));
        }

        /// <summary>
        /// A folder of this one, held open in turn; null when that name is gone, unreadable, or no longer a
        /// folder (swapped for a link or a file since it was looked at): for walks, which skip it.
        /// </summary>
        public AnchoredFolder? TryOpenChild(string name)
        {
            var fd = openat(Fd, name, ReadOnly | DirectoryOnly | NoFollow | CloseOnExec, 0);
            if (fd >= 0) return new AnchoredFolder(new SafeFileHandle(fd, ownsHandle: true));
            var error = Marshal.GetLastPInvokeError();
            return error is NoSuchEntry or TooManyLinks or NotAFolder or PermissionDenied ? null : throw Failure(error, name);
        }

        /// <summary>A regular file of this folder, for reading; a link at that name is refused, never followed, and a FIFO or a device is never opened.</summary>
        public FileStream OpenFile(string name, string shownPath)
        {
            var fd = openat(Fd, name, PathOnly | NoFollow | CloseOnExec, 0);
            if (fd < 0) throw Failure(Marshal.GetLastPInvokeError(), shownPath);
            using var named = new SafeFileHandle(fd, ownsHandle: true);
            return ReadRegular(named, shownPath, 0) ?? throw ValidationException.For("path", $"'{shownPath}' is not a regular file.");
        }

        /// <summary>Whether anything (a link included, not followed) has that name here.</summary>
        private bool Has(string name) => statx(Fd, name, 0x100 /* AT_SYMLINK_NOFOLLOW */, 0, new byte[StatxBufferSize]) == 0;

        /// <summary>
        /// Removes an entry, a folder with all it holds; false when nothing has that name. Every step is
        /// taken relative to a folder held open and links are unlinked, never followed, so a folder a
        /// task swaps for a link meanwhile costs the link, not what it points to.
        /// </summary>
        public bool DeleteTree(string name) => DeleteTree(FileName(name), depth: 0);

        /// <summary>
        /// Nesting deeper than this is refused: names relative to open folders know no PATH_MAX, and a task
        /// can nest folders without end (<c>mkdir d; cd d</c>), which would exhaust the stack or the descriptors.
        /// </summary>
        public const int MaxDepth = 1024;

        /// <summary>
        /// Deletes by the names' bytes as the folder holds them: a name need not be UTF-8 (a task may write
        /// Latin-1 names), and decoded to a string it would name nothing, leaving its folder undeletable.
        /// </summary>
        private bool DeleteTree(byte[] name, int depth)
        {
            if (depth > MaxDepth) throw ValidationException.For("path", $"has folders nested more than {MaxDepth} deep; delete the deepest ones from inside a task first.");
            for (var attempt = 0; attempt < 3; attempt++)
            {
                if (unlinkat(Fd, name, 0) == 0) return true;
                var error = Marshal.GetLastPInvokeError();
                if (error == NoSuchEntry) return false;
                if (error != IsAFolder) throw Failure(error, Shown(name));
                var fd = openat(Fd, name, ReadOnly | DirectoryOnly | NoFollow | CloseOnExec, 0);
                if (fd < 0)
                {
                    error = Marshal.GetLastPInvokeError();
                    if (error is TooManyLinks or NotAFolder) continue; // swapped for a link or a file since: unlinked next time round
                    if (error == NoSuchEntry) return false;
                    throw Failure(error, Shown(name));
                }
                using (var folder = new AnchoredFolder(new SafeFileHandle(fd, ownsHandle: true)))
                {
                    // Listed through the open descriptor: the very folder opened, wherever it is now.
                    foreach (var entry in folder.FileNames()) folder.DeleteTree(entry, depth + 1);
                }
                if (unlinkat(Fd, name, RemoveFolder) == 0) return true;
                error = Marshal.GetLastPInvokeError();
                if (error == NoSuchEntry) return true;
                if (error == NotEmpty) continue; // something was added meanwhile (a task writing there): once more
                throw Failure(error, Shown(name));
            }
            throw new ConflictException($"'{Shown(name)}' kept changing while it was being deleted (something, a task perhaps, is writing there); try again once it is done.");
        }

        /// <summary>The names in this folder as bytes (each ending in NUL), read through its descriptor.</summary>
        private List<byte[]> FileNames()
        {
            var names = new List<byte[]>();
            var copy = dup(Fd);
            if (copy < 0) throw Failure(Marshal.GetLastPInvokeError(), "a folder");
            var stream = fdopendir(copy); // owns the copy from here
            if (stream == 0)
            {
                var error = Marshal.GetLastPInvokeError();
                close(copy);
                throw Failure(error, "a folder");
            }
            try
            {
                rewinddir(stream); // the copy shares its offset with Fd
                nint entry;
                while ((entry = readdir(stream)) != 0)
                {
                    // struct dirent on Linux (glibc and musl, 64-bit): d_name starts at byte 19, after
                    // d_ino (8), d_off (8), d_reclen (2) and d_type (1).
                    var nameStart = entry + 19;
                    var length = 0;
                    while (Marshal.ReadByte(nameStart, length) != 0) length++;
                    if (length is 1 or 2 && Marshal.ReadByte(nameStart) == '.' && (length == 1 || Marshal.ReadByte(nameStart, 1) == '.')) continue;
                    var name = new byte[length + 1];
                    Marshal.Copy(nameStart, name, 0, length);
                    names.Add(name);
                }
            }
            finally
            {
                closedir(stream);
            }
            return names;
        }

        /// <summary>A new file (never an existing one, nor through a link at its name).</summary>
        public FileStream CreateNew(string name, int bufferSize)
        {
            var fd = openat(Fd, name, WriteOnly | Create | Exclusive | CloseOnExec, 0x1B6 /* 0666, less the umask */);
            if (fd < 0) throw Failure(Marshal.GetLastPInvokeError(), name);
            return new FileStream(new SafeFileHandle(fd, ownsHandle: true), FileAccess.Write, bufferSize, isAsync: false);
        }

        /// <summary>Renames within this folder, over whatever is at <paramref name="to"/> (a link at that name itself, never its target).</summary>
        public void Replace(string from, string to)
        {
            if (renameat2(Fd, from, Fd, to, 0) != 0) throw Failure(Marshal.GetLastPInvokeError(), to);
        }

        /// <summary>Removes a file (or a link) of this folder; gone already is fine.</summary>
        public void Delete(string name)
        {
            if (unlinkat(Fd, name, 0) != 0 && Marshal.GetLastPInvokeError() is var error && error != NoSuchEntry) throw Failure(error, name);
        }

        public void Dispose() => handle.Dispose();
    }

    private static SafeFileHandle Open(string path, int flags, string shownPath)
    {
        var fd = open(path, flags, 0);
        if (fd < 0) throw Failure(Marshal.GetLastPInvokeError(), shownPath);
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>Where the open object really is: inside the root, or the request is refused as leaving it.</summary>
    private static void Confine(SafeFileHandle handle, string root, string shownPath)
    {
        var buffer = new byte[4096];
        var length = readlink($"/proc/self/fd/{(int)handle.DangerousGetHandle()}", buffer, buffer.Length);
        if (length <= 0 || length >= buffer.Length) throw new IOException($"The platform could not tell where '{shownPath}' is.");
        var actual = System.Text.Encoding.UTF8.GetString(buffer, 0, (int)length);
        if (!PosixPath.IsWithin(actual, root))
            throw ValidationException.For("path", $"'{shownPath}' leads outside the storage (a symbolic link changed while it was opened).");
    }

    private static int TypeOf(SafeFileHandle handle)
    {
        var buffer = new byte[StatxBufferSize];
        if (statx((int)handle.DangerousGetHandle(), "", EmptyPath, StatxType, buffer) != 0)
            throw new IOException($"statx failed (errno {Marshal.GetLastPInvokeError()}).");
        return ModeOf(buffer) & TypeMask;
    }

    // struct statx is the same on every Linux architecture: stx_mode is the 16-bit field at offset 28,
    // stx_size the 64-bit one at 40, stx_mtime seconds (64-bit) and nanoseconds (32-bit) at 112 and 120.
    private const int StatxBufferSize = 256;
    private static int ModeOf(byte[] statxBuffer) => BitConverter.ToUInt16(statxBuffer, 28);
    private static long SizeOf(byte[] statxBuffer) => BitConverter.ToInt64(statxBuffer, 40);
    private static DateTime ModifiedOf(byte[] statxBuffer)
    {
        // Any 64-bit time a task sets is kept by tmpfs or btrfs: shown as the nearest one a DateTime holds.
        var seconds = BitConverter.ToInt64(statxBuffer, 112);
        if (seconds < EarliestSeconds) return DateTime.SpecifyKind(DateTime.MinValue, DateTimeKind.Utc);
        if (seconds > LatestSeconds) return DateTime.SpecifyKind(DateTime.MaxValue, DateTimeKind.Utc);
        return DateTime.UnixEpoch.AddSeconds(seconds).AddTicks(BitConverter.ToUInt32(statxBuffer, 120) / 100);
    }

    // In whole ticks: TotalSeconds, a double, rounds the latest up to a second DateTime cannot hold.
    private static readonly long EarliestSeconds = (DateTime.MinValue.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerSecond;
    private static readonly long LatestSeconds = (DateTime.MaxValue.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerSecond;

    /// <summary>A name as the system takes it: its UTF-8 bytes and a closing NUL.</summary>
    private static byte[] FileName(string name)
    {
        var bytes = new byte[System.Text.Encoding.UTF8.GetByteCount(name) + 1];
        System.Text.Encoding.UTF8.GetBytes(name, bytes);
        return bytes;
    }

    /// <summary>A name's bytes (with their closing NUL) for a message; what is not UTF-8 shows as U+FFFD.</summary>
    private static string Shown(byte[] name) => System.Text.Encoding.UTF8.GetString(name, 0, name.Length - 1);

    private static Exception Failure(int errno, string shownPath) => errno switch
    {
        NoSuchEntry => new StorageEntryNotFoundException($"Nothing is at '{shownPath}' in this storage."),
        // A link where a file or folder was looked at a moment before (only ever opened without following one).
        TooManyLinks => new ConflictException($"'{shownPath}' changed while it was being opened (it is a symbolic link now); try again."),
        PermissionDenied or NotPermitted => new StorageAccessDeniedException($"The platform may not open '{shownPath}' on its host."),
        // Creating a file or folder, or renaming into a full directory block, on a file system out of room or inodes.
        NoSpace or QuotaExceeded => StorageLimitException.HostDiskFull(),
        _ => new IOException($"'{shownPath}' could not be opened (errno {errno})."),
    };

    [DllImport("libc", SetLastError = true)]
    private static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, int mode);

    [DllImport("libc", SetLastError = true)]
    private static extern int openat(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, int mode);

    [DllImport("libc", SetLastError = true)]
    private static extern int renameat2(int fromDirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string from, int toDirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string to, uint flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int mkdirat(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int mode);

    [DllImport("libc", SetLastError = true)]
    private static extern int unlinkat(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int openat(int dirfd, byte[] path, int flags, int mode);

    [DllImport("libc", SetLastError = true)]
    private static extern int unlinkat(int dirfd, byte[] path, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int dup(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern int close(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern nint fdopendir(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern void rewinddir(nint stream);

    [DllImport("libc", SetLastError = true)]
    private static extern nint readdir(nint stream);

    [DllImport("libc", SetLastError = true)]
    private static extern int closedir(nint stream);

    [DllImport("libc", SetLastError = true)]
    private static extern nint readlink([MarshalAs(UnmanagedType.LPUTF8Str)] string path, byte[] buffer, nint size);

    [DllImport("libc", SetLastError = true)]
    private static extern int statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte[] buffer);
}
