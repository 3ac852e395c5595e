using System.Buffers;
using Rosetta.Core.Domain;
using Rosetta.Core.Validation;

namespace Rosetta.Core.Storages;

/// <summary>
/// File operations on the platform host confined to one folder. Paths arrive as validated
/// <see cref="StoragePath"/>s; every path that is followed is canonicalised with realpath(3) and
/// must stay inside the root, so a symbolic link planted by a task (which can write the folder
/// through its bind) never leads the platform outside. Operations on an entry itself (rename,
/// delete, replace by upload) resolve its folder and act on the link, never on what it points to;
/// copies and archives skip links.
/// </summary>
/// <remarks>
/// Check-then-use: a task racing the platform could swap a folder for a link between the check and
/// the call. The window is small and every step re-checks; openat2(RESOLVE_BENEATH) would close it.
/// </remarks>
public sealed class ConfinedDirectory : IStorageFolder
{
    /// <summary>Uploads in progress are written under this prefix in the target folder and hidden from listings.</summary>
    public const string UploadPrefix = ".rosetta-upload-";

    /// <summary>
    /// A hidden upload or copy untouched this long was cut off by a platform that stopped (a crash, a
    /// restart) before it could remove it; a transfer in progress writes to it all the time. Listing
    /// its folder removes it, so a leftover does not stay for good.
    /// </summary>
    public static readonly TimeSpan AbandonedAfter = TimeSpan.FromHours(24);

    /// <summary>Whether an entry is one of our hidden transfers, untouched for <see cref="AbandonedAfter"/>.</summary>
    public static bool IsAbandonedTransfer(string name, DateTime lastWriteUtc) =>
        name.StartsWith(UploadPrefix, StringComparison.Ordinal) && DateTime.UtcNow - lastWriteUtc > AbandonedAfter;
    private const int BufferSize = 128 * 1024;

    /// <summary>
    /// Uploads are written in pieces this large, each in one synchronous write while the next piece
    /// arrives (<see cref="LimitedCopy"/>): on a busy machine 8,192 asynchronous writes of 128 KiB,
    /// each a hop through the thread pool, made a 1 GiB upload many times slower than cp (bench/storage.sh).
    /// </summary>
    private const int UploadBufferSize = 1024 * 1024;

    private readonly TaskFileOwner _owner;

    /// <param name="owner">Who gets what the platform creates here (the root folder when it makes it, uploads, folders, copies).</param>
    public ConfinedDirectory(string root, TaskFileOwner? owner = null)
    {
        _owner = owner ?? TaskFileOwner.Unchanged;
        var made = !Directory.Exists(root);
        try
        {
            Directory.CreateDirectory(root);
        }
        catch (IOException e)
        {
            // E.g. a file where the folder should be: the storage's base path needs an admin's attention.
            throw new ConflictException($"The storage folder {root} cannot be made on the platform host ({e.Message}); its base path must name a folder.");
        }
        catch (UnauthorizedAccessException)
        {
            throw new StorageAccessDeniedException($"The platform may not make the storage folder {root} on its host.");
        }
        Root = PosixPath.Canonical(root) ?? throw new DirectoryNotFoundException($"The storage folder {root} cannot be opened.");
        if (made) _owner.Apply(Root); // a folder that existed (an admin's) keeps its owner
    }

    /// <summary>The root folder, canonical.</summary>
    public string Root { get; }

    /// <summary>The existing object <paramref name="path"/> names, every link resolved; inside the root or a 400.</summary>
    public string Follow(StoragePath path, string field = "path")
    {
        path.EnsureFitsUnder(Root, field);
        var joined = Join(path);
        var canonical = PosixPath.Canonical(joined);
        if (canonical is null)
        {
            // Say "outside" rather than "not found" when the way there already leaves the root, so
            // answers reveal nothing about what exists outside.
            if (ExistingAncestorLeaves(joined)) throw Outside(field, path);
            throw new StorageEntryNotFoundException($"Nothing is at '{path}' in this storage.");
        }
        if (!PosixPath.IsWithin(canonical, Root)) throw Outside(field, path);
        return canonical;
    }

    /// <summary>The entry itself: its folder resolved and confined, the last segment not followed.</summary>
    public string Entry(StoragePath path, string field = "path")
    {
        if (path.IsRoot) return Root;
        path.EnsureFitsUnder(Root, field); // before anything is looked up or made on the way
        var parent = Follow(path.Parent, field);
        if (!Directory.Exists(parent)) throw ValidationException.For(field, $"'{path.Parent}' is a file, not a folder.");
        return Path.Join(parent, path.Name);
    }

    public IReadOnlyList<StorageEntry> List(StoragePath path, StorageSort sort, bool descending, bool removeAbandonedTransfers)
    {
        var folder = Follow(path);
        if (!Directory.Exists(folder)) throw ValidationException.For("path", $"'{path}' is a file, not a folder; download it instead.");
        // Listed through the folder held open: a task swapping it for a link after the check lists nothing outside.
        using var held = AnchoredFiles.OpenFolder(folder, Root, path.ToString());
        var entries = new List<StorageEntry>();
        foreach (var info in new DirectoryInfo(held.Through).EnumerateFileSystemInfos("*", new EnumerationOptions
                 { AttributesToSkip = 0, IgnoreInaccessible = true, RecurseSubdirectories = false }))
        {
            if (info.Name.StartsWith(UploadPrefix, StringComparison.Ordinal))
            {
                if (removeAbandonedTransfers && !IsLink(info) && IsAbandonedTransfer(info.Name, ModifiedOf(held, info))) RemoveAbandoned(held, info.Name);
                continue;
            }
            var kind = Unnameable(info) ? StorageEntry.UnnameableKind : IsLink(info) ? "link" : info is DirectoryInfo ? "folder" : "file";
            long? size = kind == "file" ? ((FileInfo)info).Length : null;
            var entryPath = path.IsRoot ? info.Name : $"{path}/{info.Name}";
            entries.Add(new StorageEntry(info.Name, entryPath, kind, size, ModifiedOf(held, info)));
        }
        return StorageEntry.Order(entries, sort, descending);
    }

    /// <summary>
    /// .NET throws for a file time past year 9999 or before year 1, which a task can set; the folder's own look at the
    /// entry gives the nearest time a listing can carry.
    /// </summary>
    private static DateTime ModifiedOf(AnchoredFiles.AnchoredFolder folder, FileSystemInfo info)
    {
        try
        {
            return info.LastWriteTimeUtc;
        }
        catch (ArgumentOutOfRangeException)
        {
            return folder.InfoOf(info.Name).Modified;
        }
    }

    /// <summary>
    /// Best effort: what cannot be removed now is tried again at the next listing. Removed relative to the folder held
    /// open, links unlinked and never followed (a task may swap a folder inside for one while the tree goes: a
    /// path-based recursive delete, as root, would then delete what the link points to).
    /// </summary>
    private static void RemoveAbandoned(AnchoredFiles.AnchoredFolder folder, string name)
    {
        try
        {
            folder.DeleteTree(name);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ConflictException or ValidationException
                                      or StorageAccessDeniedException or StorageEntryNotFoundException)
        {
        }
    }

    /// <summary>Creates the folder and any missing parents; 409 when it exists already (unless <paramref name="existingIsFine"/>).</summary>
    public void CreateFolder(StoragePath path, bool existingIsFine = false)
    {
        if (path.IsRoot)
        {
            if (existingIsFine) return;
            throw new ConflictException("The storage's root exists already.");
        }
        path.EnsureFitsUnder(Root); // not half a tree of folders before the refusal
        for (var depth = 1; depth <= path.Segments.Count; depth++)
        {
            var prefix = StoragePath.Parse(string.Join('/', path.Segments.Take(depth)));
            var entry = Entry(prefix);
            var last = depth == path.Segments.Count;
            if (EntryExists(entry))
            {
                if (last && !(existingIsFine && Directory.Exists(entry))) throw new ConflictException($"'{prefix}' exists already.");
                if (!Directory.Exists(entry)) throw new ConflictException($"'{prefix}' is a file, not a folder.");
                continue; // a link is checked by the next Entry() call, which follows it
            }
            using var parent = AnchoredFiles.OpenFolder(Path.GetDirectoryName(entry)!, Root, prefix.Parent.ToString());
            if (parent.CreateFolder(prefix.Name, prefix.ToString(), _owner)) continue;
            // Made meanwhile (a parallel upload into the same new folder, or a task): fine if it is a folder.
            if (last && !existingIsFine) throw new ConflictException($"'{prefix}' exists already.");
            if (parent.KindOf(prefix.Name) != AnchoredFiles.EntryKind.Folder && !Directory.Exists(entry)) throw new ConflictException($"'{prefix}' is a file, not a folder.");
        }
    }

    public void Move(StoragePath from, StoragePath to)
    {
        StoragePath.EnsureMovable(from, to);
        var source = Entry(from, "from");
        if (!EntryExists(source)) throw new StorageEntryNotFoundException($"Nothing is at '{from}' in this storage.");
        var target = Entry(to, "to");
        // Both folders held open: a task swapping one for a link meanwhile cannot send the entry elsewhere.
        using var sourceFolder = AnchoredFiles.OpenFolder(Path.GetDirectoryName(source)!, Root, from.Parent.ToString());
        using var targetFolder = AnchoredFiles.OpenFolder(Path.GetDirectoryName(target)!, Root, to.Parent.ToString());
        sourceFolder.MoveTo(from.Name, targetFolder, to.Name, from.ToString(), to.ToString());
    }

    /// <summary>Copies a file or a folder tree (links inside are skipped); at most <paramref name="allowedBytes"/> are written.</summary>
    public void Copy(StoragePath from, StoragePath to, long? allowedBytes, Func<long, Exception> tooLarge, Func<long, IDisposable?>? hold = null)
    {
        try
        {
            CopyInto(from, to, allowedBytes, tooLarge, hold);
        }
        catch (IOException e) when (IsDiskFull(e))
        {
            throw StorageLimitException.HostDiskFull();
        }
    }

    /// <summary>ENOSPC or EDQUOT: on Linux .NET's IOException carries the errno as its HResult.</summary>
    private static bool IsDiskFull(IOException e) => e.HResult is 28 or 122;

    private void CopyInto(StoragePath from, StoragePath to, long? allowedBytes, Func<long, Exception> tooLarge, Func<long, IDisposable?>? hold)
    {
        StoragePath.EnsureCopyable(from, to);
        var source = Follow(from, "from");
        var target = Entry(to, "to");
        if (EntryExists(target)) throw new ConflictException($"'{to}' exists already; delete it first or choose another name.");
        var bytes = Directory.Exists(source) ? SizeOf(source, from) : new FileInfo(source).Length;
        if (bytes > allowedBytes) throw tooLarge(bytes);
        // Held while the copy is written under its hidden name, which the quota's count leaves out.
        using var held = hold?.Invoke(bytes);
        if (!Directory.Exists(source))
        {
            CopyFileAtomically(source, target, from, to);
            return;
        }
        using var folder = AnchoredFiles.OpenFolder(Path.GetDirectoryName(target)!, Root, to.Parent.ToString());
        var partial = $"{UploadPrefix}{Guid.NewGuid():N}.part";
        try
        {
            CopyTree(source, from, folder, partial, finalPath: target);
            folder.MoveTo(partial, folder, to.Name, from.ToString(), to.ToString());
        }
        catch
        {
            folder.DeleteTree(partial);
            throw;
        }
    }

    public void Delete(StoragePath path)
    {
        if (path.IsRoot) throw ValidationException.For("path", "The storage's root cannot be deleted; delete what is inside it.");
        var entry = Entry(path);
        // A link is removed itself, never what it points to, and so are the links inside a folder.
        using var folder = AnchoredFiles.OpenFolder(Path.GetDirectoryName(entry)!, Root, path.Parent.ToString());
        if (!folder.DeleteTree(path.Name)) throw new StorageEntryNotFoundException($"Nothing is at '{path}' in this storage.");
    }

    /// <summary>
    /// Writes <paramref name="content"/> to a temporary file in the target folder and renames it over
    /// the target only once complete: an interrupted or refused upload leaves nothing under the final
    /// name (and an existing file intact). Throws <paramref name="tooLarge"/> past <paramref name="limit"/> bytes.
    /// </summary>
    public async Task<long> WriteAsync(StoragePath path, Stream content, long limit, Func<long, Exception> tooLarge, CancellationToken ct,
        Func<long, long, Exception?>? beforeReplacing = null)
    {
        if (path.IsRoot) throw ValidationException.For("path", "names the storage's root; give a file name.");
        var target = Entry(path);
        if (Directory.Exists(target) && !IsLink(target)) throw new ConflictException($"'{path}' is a folder.");
        using var folder = AnchoredFiles.OpenFolder(Path.GetDirectoryName(target)!, Root, path.Parent.ToString());
        var temporary = $"{UploadPrefix}{Guid.NewGuid():N}.part";
        var committed = false;
        var first = ArrayPool<byte>.Shared.Rent(UploadBufferSize);
        var second = ArrayPool<byte>.Shared.Rent(UploadBufferSize);
        try
        {
            long written;
            await using (var file = folder.CreateNew(temporary, 0))
            {
                written = await LimitedCopy.CopyAsync(content, file, first.AsMemory(0, UploadBufferSize), second.AsMemory(0, UploadBufferSize),
                    limit, tooLarge, ct);
                _owner.Apply(file.SafeFileHandle);
                if (!OperatingSystem.IsWindows()) KeepPermissions(target, file.SafeFileHandle);
            }
            if (beforeReplacing?.Invoke(written, folder.InfoOf(path.Name) is { Kind: AnchoredFiles.EntryKind.File } old ? old.Size : 0) is { } refused) throw refused;
            // rename(2) replaces the target (or a link at its name) in one step.
            folder.Replace(temporary, path.Name);
            committed = true;
            return written;
        }
        catch (IOException e) when (IsDiskFull(e))
        {
            throw StorageLimitException.HostDiskFull();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(first);
            ArrayPool<byte>.Shared.Return(second);
            if (!committed) folder.Delete(temporary);
        }
    }

    /// <summary>
    /// A file replaced keeps its permissions (a script its execute bit, a private file its 0600), but not
    /// setuid or setgid: the new bytes are the uploader's, and the file may be the platform's (uid -1).
    /// After the owner is set, which would clear them. A file gone or swapped meanwhile gives the default.
    /// </summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static void KeepPermissions(string replaced, Microsoft.Win32.SafeHandles.SafeFileHandle temporary)
    {
        try
        {
            if (!File.Exists(replaced) || IsLink(replaced)) return;
            File.SetUnixFileMode(temporary, File.GetUnixFileMode(replaced) & ~(UnixFileMode.SetUser | UnixFileMode.SetGroup));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    public bool IsFolder(StoragePath path) => Directory.Exists(Follow(path));

    /// <summary>Opens a file for reading (links followed only within the root).</summary>
    public Stream OpenRead(StoragePath path)
    {
        var file = Follow(path);
        if (Directory.Exists(file)) throw ValidationException.For("path", $"'{path}' is a folder.");
        return AnchoredFiles.OpenRead(file, Root, path.ToString(), BufferSize);
    }

    public async Task DownloadAsync(StoragePath path, Func<long, Stream> start, CancellationToken ct)
    {
        await using var file = OpenRead(path);
        var length = file.Length;
        await LimitedCopy.CopyExactlyAsync(file, start(length), length, UploadBufferSize, ct);
    }

    public async Task WriteZipAsync(StoragePath path, Stream output, CancellationToken ct)
    {
        using var folder = AnchoredFiles.OpenFolder(Follow(path), Root, path.ToString());
        var files = Walk(folder, tooDeep: () => TooDeep("path"));
        await ZipStreaming.WriteAsync(output, files.Select(e => new ZipStreaming.Item(e.RelativePath, e.Info.Kind == AnchoredFiles.EntryKind.Folder,
            e.Info.Modified, () => e.Folder.OpenFile(e.Name, path.IsRoot ? e.RelativePath : $"{path}/{e.RelativePath}"))), ct);
    }

    /// <summary>Bytes in files under the root, links not followed (the quota's measure).</summary>
    public long? Usage()
    {
        using var root = AnchoredFiles.OpenFolder(Root, Root, "");
        // Nothing past the nesting limit is counted: a task could write there through its bind anyway, quota or not.
        return FileBytes(root, tooDeep: null);
    }

    public long ReplacedBytes(StoragePath path)
    {
        if (path.IsRoot) return 0;
        try
        {
            var target = Entry(path);
            using var folder = AnchoredFiles.OpenFolder(Path.GetDirectoryName(target)!, Root, path.Parent.ToString());
            return folder.InfoOf(path.Name) is { Kind: AnchoredFiles.EntryKind.File } file ? file.Size : 0;
        }
        catch (Exception e) when (e is StorageEntryNotFoundException or ValidationException)
        {
            return 0; // its folder is not there yet (the upload makes it), or is not one: the upload says so itself
        }
    }

    private long SizeOf(string folder, StoragePath shown)
    {
        using var anchored = AnchoredFiles.OpenFolder(folder, Root, shown.ToString());
        return FileBytes(anchored, tooDeep: () => TooDeep("from"));
    }

    private static long FileBytes(AnchoredFiles.AnchoredFolder folder, Func<Exception>? tooDeep) =>
        Walk(folder, tooDeep).Where(e => e.Info.Kind == AnchoredFiles.EntryKind.File).Sum(e => e.Info.Size);

    /// <summary>An entry met by <see cref="Walk"/>: <see cref="Folder"/> holds it and stays open until the walk moves on.</summary>
    internal readonly record struct WalkedEntry(AnchoredFiles.AnchoredFolder Folder, string Name, string RelativePath, AnchoredFiles.EntryInfo Info);

    /// <summary>
    /// Every folder and regular file under <paramref name="folder"/>, each looked at by name inside a folder
    /// held open: links, devices, FIFOs, sockets and transfers in progress are skipped, and a folder a task
    /// swaps for a link while the walk is under way is not entered. Past <see cref="AnchoredFiles.AnchoredFolder.MaxDepth"/>
    /// levels <paramref name="tooDeep"/> is thrown, or, when null, nothing deeper is walked.
    /// </summary>
    internal static IEnumerable<WalkedEntry> Walk(AnchoredFiles.AnchoredFolder folder, Func<Exception>? tooDeep, string prefix = "", int depth = 0)
    {
        foreach (var (name, info) in Entries(folder))
        {
            var relative = prefix.Length == 0 ? name : $"{prefix}/{name}";
            yield return new WalkedEntry(folder, name, relative, info);
            if (info.Kind != AnchoredFiles.EntryKind.Folder) continue;
            if (depth == AnchoredFiles.AnchoredFolder.MaxDepth)
            {
                if (tooDeep is null) continue;
                throw tooDeep();
            }
            using var child = folder.TryOpenChild(name);
            if (child is null) continue; // gone, or no longer a folder, since it was looked at
            foreach (var inner in Walk(child, tooDeep, relative, depth + 1)) yield return inner;
        }
    }

    /// <summary>The folders and regular files directly in <paramref name="folder"/>: what walks and copies take (links, devices, FIFOs, sockets and transfers in progress are left out).</summary>
    private static IEnumerable<(string Name, AnchoredFiles.EntryInfo Info)> Entries(AnchoredFiles.AnchoredFolder folder) =>
        folder.Names()
            .Where(name => !name.StartsWith(UploadPrefix, StringComparison.Ordinal))
            .Select(name => (name, folder.InfoOf(name)))
            .Where(entry => entry.Item2.Kind != AnchoredFiles.EntryKind.Other);

    private static ValidationException TooDeep(string field) =>
        ValidationException.For(field, $"has folders nested more than {AnchoredFiles.AnchoredFolder.MaxDepth} deep.");

    /// <summary>
    /// Copies the folder <paramref name="source"/> into <paramref name="name"/>, made new in <paramref name="into"/>
    /// and renamed to <paramref name="finalPath"/> after. Both sides are walked through descriptors: every
    /// folder and file is opened by name inside a folder held open, links never followed (and not copied),
    /// so a folder a task swaps for a link meanwhile leads nowhere.
    /// </summary>
    private void CopyTree(string source, StoragePath from, AnchoredFiles.AnchoredFolder into, string name, string finalPath)
    {
        if (!into.CreateFolder(name, name, _owner)) throw new ConflictException($"'{name}' exists already.");
        using var sourceFolder = AnchoredFiles.OpenFolder(source, Root, from.ToString());
        using var target = into.OpenChild(name);
        CopyFolder(sourceFolder, target, "", System.Text.Encoding.UTF8.GetByteCount(finalPath), from, depth: 0);
    }

    private void CopyFolder(AnchoredFiles.AnchoredFolder source, AnchoredFiles.AnchoredFolder target, string relative, int targetBytes, StoragePath from, int depth)
    {
        if (depth > AnchoredFiles.AnchoredFolder.MaxDepth) throw TooDeep("from");
        foreach (var (name, info) in Entries(source))
        {
            var path = relative.Length == 0 ? name : $"{relative}/{name}";
            // Names relative to open folders have no length limit, but a path past PATH_MAX could be
            // neither listed nor downloaded afterwards: the copy stops (and is undone) instead.
            if (targetBytes + 1 + System.Text.Encoding.UTF8.GetByteCount(path) >= StoragePath.MaxPathLength)
                throw new PathTooLongException($"'{path}' would pass the system's path limit in the copy.");
            var shown = from.IsRoot ? path : $"{from}/{path}";
            if (info.Kind == AnchoredFiles.EntryKind.Folder)
            {
                if (!target.CreateFolder(name, path, _owner)) throw new ConflictException($"'{path}' appeared in the copy while it was made.");
                using var sourceChild = source.OpenChild(name);
                using var targetChild = target.OpenChild(name);
                CopyFolder(sourceChild, targetChild, path, targetBytes, from, depth + 1);
                continue;
            }
            using var input = source.OpenFile(name, shown);
            using var output = target.CreateNew(name, 0);
            CopyContent(input, output);
        }
    }

    /// <summary>
    /// Content, permissions (a script stays executable) and the task's owner. Never setuid, setgid or
    /// sticky: a copy made by a platform running as root would hand a task a root-owned setuid program.
    /// </summary>
    private void CopyContent(FileStream input, FileStream output)
    {
        input.CopyTo(output, UploadBufferSize);
        const UnixFileMode permissions = (UnixFileMode)0b111_111_111;
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(output.SafeFileHandle, File.GetUnixFileMode(input.SafeFileHandle) & permissions);
        _owner.Apply(output.SafeFileHandle);
    }

    private void CopyFileAtomically(string source, string target, StoragePath from, StoragePath to)
    {
        using var folder = AnchoredFiles.OpenFolder(Path.GetDirectoryName(target)!, Root, to.Parent.ToString());
        var temporary = $"{UploadPrefix}{Guid.NewGuid():N}.part";
        var committed = false;
        try
        {
            using (var input = AnchoredFiles.OpenRead(source, Root, from.ToString(), 0))
            using (var output = folder.CreateNew(temporary, 0))
                CopyContent(input, output);
            folder.MoveTo(temporary, folder, to.Name, from.ToString(), to.ToString());
            committed = true;
        }
        finally
        {
            if (!committed) folder.Delete(temporary);
        }
    }

    private string Join(StoragePath path) => path.IsRoot ? Root : Path.Join([Root, .. path.Segments]);

    private bool ExistingAncestorLeaves(string path)
    {
        for (var current = Path.GetDirectoryName(path); current is not null; current = Path.GetDirectoryName(current))
        {
            if (PosixPath.Canonical(current) is { } canonical) return !PosixPath.IsWithin(canonical, Root);
        }
        return false;
    }

    private static bool IsLink(string path) => new FileInfo(path).LinkTarget is not null;

    /// <summary>
    /// For an enumerated entry: from the lstat the enumeration made anyway, where LinkTarget costs a
    /// readlink per entry (10,000 in a big folder). Only for enumerated entries, whose attributes
    /// are always read (a FileInfo of a missing path has every attribute flag set).
    /// </summary>
    private static bool IsLink(FileSystemInfo info) => info.Attributes.HasFlag(FileAttributes.ReparsePoint);

    /// <summary>
    /// A name that is not UTF-8 (a task wrote Latin-1 names, say) reaches .NET with U+FFFD in place of its
    /// odd bytes, and that decoded name names nothing on the disk.
    /// </summary>
    private static bool Unnameable(FileSystemInfo info) => info.Name.Contains('\uFFFD') && !EntryExists(info.FullName);

    private static bool EntryExists(string path) => File.Exists(path) || Directory.Exists(path) || IsLink(path);

    private static ValidationException Outside(string field, StoragePath path) =>
        ValidationException.For(field, $"'{path}' leads outside the storage through a symbolic link; it is not followed.");
}
