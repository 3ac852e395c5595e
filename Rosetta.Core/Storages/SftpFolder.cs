using Renci.SshNet;
using Renci.SshNet.Common;
using Renci.SshNet.Sftp;
using Rosetta.Core.Domain;
using Rosetta.Core.Validation;

namespace Rosetta.Core.Storages;

/// <summary>
/// A storage folder on an SSH resource, through SFTP (no shell commands). Confinement is checked on
/// the platform side before each call: paths arrive validated, and every existing segment below the
/// root is examined with lstat — on sftp storages symbolic links are listed but never followed, not
/// even to a place inside the root (the platform cannot resolve them atomically over SFTP).
/// </summary>
/// <remarks>
/// SSH.NET canonicalises every path with SFTP's realpath before using it, which resolves a link at
/// the end of a path: its delete, rename or write would act on the link's target. So links are
/// never the object of a change here either (a 400 says to change them on the host), and a folder
/// holding one is not deleted.
/// </remarks>
public sealed class SftpFolder : IStorageFolder
{
    private readonly SftpClient _sftp;

    public SftpFolder(SftpClient sftp, string root)
    {
        _sftp = sftp;
        Root = root.TrimEnd('/');
        // The per-user folder is made on first use, parent by parent.
        var current = "";
        foreach (var segment in Root.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            current += "/" + segment;
            if (!_sftp.Exists(current)) _sftp.CreateDirectory(current);
        }
    }

    public string Root { get; }

    public IReadOnlyList<StorageEntry> List(StoragePath path, StorageSort sort, bool descending)
    {
        var folder = Checked(path);
        if (!IsDirectory(folder)) throw ValidationException.For("path", $"'{path}' is a file, not a folder; download it instead.");
        var entries = _sftp.ListDirectory(folder)
            .Where(f => f.Name is not "." and not ".." && !f.Name.StartsWith(ConfinedDirectory.UploadPrefix, StringComparison.Ordinal))
            .Select(f =>
            {
                var kind = f.IsSymbolicLink ? "link" : f.IsDirectory ? "folder" : "file";
                return new StorageEntry(f.Name, path.IsRoot ? f.Name : $"{path}/{f.Name}", kind, kind == "file" ? f.Length : null, f.LastWriteTimeUtc);
            }).ToList();
        return StorageEntry.Order(entries, sort, descending);
    }

    public void CreateFolder(StoragePath path, bool existingIsFine = false)
    {
        if (path.IsRoot)
        {
            if (existingIsFine) return;
            throw new ConflictException("The storage's root exists already.");
        }
        for (var depth = 1; depth <= path.Segments.Count; depth++)
        {
            var prefix = StoragePath.Parse(string.Join('/', path.Segments.Take(depth)));
            var remote = Checked(prefix, mustExist: false);
            var attributes = LStat(remote);
            var last = depth == path.Segments.Count;
            if (attributes is null) _sftp.CreateDirectory(remote);
            else if (!attributes.IsDirectory) throw new ConflictException($"'{prefix}' is a file, not a folder.");
            else if (last && !existingIsFine) throw new ConflictException($"'{prefix}' exists already.");
        }
    }

    public void Move(StoragePath from, StoragePath to)
    {
        if (from.IsRoot) throw ValidationException.For("from", "The storage's root cannot be moved.");
        if (to.IsRoot) throw ValidationException.For("to", "is the storage's root, which exists already.");
        if (from.Contains(to)) throw ValidationException.For("to", "is inside the folder being moved.");
        var source = Entry(from, "from");
        var attributes = LStat(source) ?? throw new StorageEntryNotFoundException($"Nothing is at '{from}' in this storage.");
        if (attributes.IsSymbolicLink) throw LinkUnchangeable("from", from);
        var target = Entry(to, "to");
        if (LStat(target) is not null) throw new ConflictException($"'{to}' exists already; delete it first or choose another name.");
        _sftp.RenameFile(source, target, isPosix: false); // plain SFTP rename: refuses to replace
    }

    public void Copy(StoragePath from, StoragePath to, long? allowedBytes, Func<long, Exception> tooLarge) =>
        throw ValidationException.For("from", "Copying is not available on sftp storages yet; download and upload instead.");

    public void Delete(StoragePath path)
    {
        if (path.IsRoot) throw ValidationException.For("path", "The storage's root cannot be deleted; delete what is inside it.");
        var entry = Entry(path);
        var attributes = LStat(entry) ?? throw new StorageEntryNotFoundException($"Nothing is at '{path}' in this storage.");
        if (attributes.IsSymbolicLink) throw LinkUnchangeable("path", path);
        if (attributes.IsDirectory && Walk(entry, "", includeLinks: true).FirstOrDefault(f => f.File.IsSymbolicLink) is { File: not null } link)
            throw LinkUnchangeable("path", StoragePath.Parse(path.IsRoot ? link.Relative : $"{path}/{link.Relative}"));
        DeleteTree(entry, attributes);
    }

    public async Task<long> WriteAsync(StoragePath path, Stream content, long limit, Func<long, Exception> tooLarge, CancellationToken ct)
    {
        if (path.IsRoot) throw ValidationException.For("path", "names the storage's root; give a file name.");
        var target = Entry(path);
        switch (LStat(target))
        {
            case { IsSymbolicLink: true }: throw LinkUnchangeable("path", path);
            case { IsDirectory: true }: throw new ConflictException($"'{path}' is a folder.");
        }
        var temporary = $"{Parent(target)}/{ConfinedDirectory.UploadPrefix}{Guid.NewGuid():N}.part";
        var committed = false;
        try
        {
            long written;
            await using (var remote = await _sftp.OpenAsync(temporary, FileMode.CreateNew, FileAccess.Write, ct))
            {
                written = await LimitedCopy.CopyAsync(content, remote, new byte[64 * 1024], limit, tooLarge, ct);
            }
            // OpenSSH's posix-rename replaces the target in one step, like rename(2).
            _sftp.RenameFile(temporary, target, isPosix: true);
            committed = true;
            return written;
        }
        finally
        {
            if (!committed) TryDelete(temporary);
        }
    }

    public bool IsFolder(StoragePath path) => IsDirectory(Checked(path));

    public Stream OpenRead(StoragePath path)
    {
        var file = Checked(path);
        if (IsDirectory(file)) throw ValidationException.For("path", $"'{path}' is a folder.");
        return _sftp.OpenRead(file);
    }

    public Task WriteZipAsync(StoragePath path, Stream output, CancellationToken ct) =>
        ZipStreaming.WriteAsync(output, Walk(Checked(path), "").Select(f => new ZipStreaming.Item(f.Relative, f.File.IsDirectory, f.File.LastWriteTimeUtc,
            () => _sftp.OpenRead(Checked(StoragePath.Parse(path.IsRoot ? f.Relative : $"{path}/{f.Relative}"))))), ct);

    /// <summary>No quota on remote folders: the host's own quotas apply.</summary>
    public long? Usage() => null;

    /// <summary>The remote path of an existing entry reached without passing any link.</summary>
    private string Checked(StoragePath path, bool mustExist = true, string field = "path")
    {
        var current = Root;
        foreach (var segment in path.Segments)
        {
            current += "/" + segment;
            var attributes = LStat(current);
            if (attributes is null)
            {
                if (mustExist) throw new StorageEntryNotFoundException($"Nothing is at '{path}' in this storage.");
                return Root + "/" + string.Join('/', path.Segments);
            }
            if (attributes.IsSymbolicLink) throw ValidationException.For(field, $"'{path}' passes through a symbolic link; links on sftp storages are not followed.");
        }
        return current;
    }

    /// <summary>The entry itself: its folder checked (no links on the way), the last segment not followed.</summary>
    private string Entry(StoragePath path, string field = "path")
    {
        var parent = Checked(path.Parent, field: field);
        if (!IsDirectory(parent)) throw ValidationException.For(field, $"'{path.Parent}' is a file, not a folder.");
        return parent + "/" + path.Name;
    }

    /// <summary>
    /// The entry's own attributes, a link not followed. SSH.NET's public calls (GetAttributes, Get)
    /// follow links and its lstat is internal (found by the tests), but a directory listing carries
    /// lstat attributes: the parent is listed and the entry picked out. Costs a listing per segment.
    /// </summary>
    private SftpFileAttributes? LStat(string remote)
    {
        var parent = Parent(remote);
        var name = remote[(parent.Length + 1)..];
        try
        {
            return _sftp.ListDirectory(parent.Length == 0 ? "/" : parent).FirstOrDefault(f => f.Name == name)?.Attributes;
        }
        catch (SftpPathNotFoundException)
        {
            return null;
        }
    }

    private bool IsDirectory(string remote) => LStat(remote) is { IsDirectory: true, IsSymbolicLink: false };

    private void DeleteTree(string remote, SftpFileAttributes attributes)
    {
        if (!attributes.IsDirectory)
        {
            _sftp.DeleteFile(remote); // never a link: Delete refuses trees holding one
            return;
        }
        foreach (var child in _sftp.ListDirectory(remote).Where(f => f.Name is not "." and not ".."))
            DeleteTree(child.FullName, child.Attributes);
        _sftp.DeleteDirectory(remote);
    }

    private IEnumerable<(ISftpFile File, string Relative)> Walk(string folder, string prefix, bool includeLinks = false)
    {
        foreach (var file in _sftp.ListDirectory(folder).Where(f => f.Name is not "." and not ".."))
        {
            if (file.IsSymbolicLink && !includeLinks) continue;
            if (!file.IsSymbolicLink && !includeLinks && file.Name.StartsWith(ConfinedDirectory.UploadPrefix, StringComparison.Ordinal)) continue;
            var relative = prefix.Length == 0 ? file.Name : $"{prefix}/{file.Name}";
            yield return (file, relative);
            if (file.IsDirectory && !file.IsSymbolicLink) foreach (var inner in Walk($"{folder}/{file.Name}", relative, includeLinks)) yield return inner;
        }
    }

    private static ValidationException LinkUnchangeable(string field, StoragePath path) => ValidationException.For(field,
        $"'{path}' is a symbolic link; on sftp storages the platform cannot change a link without touching what it points to. Change it on the host.");

    private void TryDelete(string remote)
    {
        try
        {
            _sftp.DeleteFile(remote);
        }
        catch (Exception e) when (e is SftpPathNotFoundException or SshException)
        {
        }
    }

    private static string Parent(string remote) => remote[..remote.LastIndexOf('/')];
}
