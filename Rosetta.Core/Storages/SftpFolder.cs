using System.Net.Sockets;
using Renci.SshNet;
using Renci.SshNet.Common;
using Renci.SshNet.Sftp;
using Rosetta.Core.Backends.Ssh;
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
    private const int CopyBufferSize = 256 * 1024;
    private const int DownloadBufferSize = 1024 * 1024;
    private readonly SftpClient _sftp;
    private readonly SshConnection _connection;

    /// <param name="connection">The pooled connection <paramref name="sftp"/> belongs to: it names a lost connection and removes leftovers once back.</param>
    public SftpFolder(SftpClient sftp, string root, SshConnection connection)
    {
        _sftp = sftp;
        _connection = connection;
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

    public IReadOnlyList<StorageEntry> List(StoragePath path, StorageSort sort, bool descending, bool removeAbandonedTransfers) => OnHost(() =>
    {
        var folder = Checked(path);
        if (!IsDirectory(folder)) throw ValidationException.For("path", $"'{path}' is a file, not a folder; download it instead.");
        var listing = _sftp.ListDirectory(folder).Where(f => f.Name is not "." and not "..").ToList();
        if (removeAbandonedTransfers) RemoveAbandoned(listing);
        var entries = listing
            .Where(f => !f.Name.StartsWith(ConfinedDirectory.UploadPrefix, StringComparison.Ordinal))
            .Select(f =>
            {
                var kind = Unnameable(f) ? StorageEntry.UnnameableKind : f.IsSymbolicLink ? "link" : f.IsDirectory ? "folder" : "file";
                return new StorageEntry(f.Name, path.IsRoot ? f.Name : $"{path}/{f.Name}", kind, kind == "file" ? f.Length : null, f.LastWriteTimeUtc);
            }).ToList();
        return StorageEntry.Order(entries, sort, descending);
    });

    /// <summary>
    /// Best effort, like on the platform host: a refusal is tried again at the next listing. Links are never followed,
    /// and a leftover holding one (a task can write there) stays: deleting it would delete what it points to.
    /// </summary>
    private void RemoveAbandoned(IEnumerable<ISftpFile> listing)
    {
        foreach (var leftover in listing.Where(f => !f.IsSymbolicLink && ConfinedDirectory.IsAbandonedTransfer(f.Name, f.LastWriteTimeUtc)))
        {
            try
            {
                DeleteTree(leftover.FullName, leftover.Attributes);
            }
            catch (Exception e) when (e is SftpPermissionDeniedException or SftpPathNotFoundException or ConflictException
                                          || e is SshException && !IsLostConnection(e))
            {
            }
        }
    }

    public void CreateFolder(StoragePath path, bool existingIsFine = false) => OnHost(() =>
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
    });

    public void Move(StoragePath from, StoragePath to) => OnHost(() =>
    {
        StoragePath.EnsureMovable(from, to);
        var source = Entry(from, "from");
        var attributes = LStat(source) ?? throw new StorageEntryNotFoundException($"Nothing is at '{from}' in this storage.");
        if (attributes.IsSymbolicLink) throw LinkUnchangeable("from", from);
        var target = Entry(to, "to");
        if (LStat(target) is not null) throw new ConflictException($"'{to}' exists already; delete it first or choose another name.");
        _sftp.RenameFile(source, target, isPosix: false); // plain SFTP rename: refuses to replace
    });

    /// <summary>
    /// Copies a file or a folder tree by streaming each file through the platform (SFTP has no copy
    /// call SSH.NET offers, and no shell commands are used). The copy is built under a temporary name
    /// in the target's folder and renamed when complete, so an interrupted copy leaves nothing under
    /// the final name; links inside a folder are skipped, as on local storages.
    /// </summary>
    /// <remarks>No quota applies on a remote host (its own does): <paramref name="hold"/> is not called.</remarks>
    public void Copy(StoragePath from, StoragePath to, long? allowedBytes, Func<long, Exception> tooLarge, Func<long, IDisposable?>? hold = null) => OnHost(() =>
    {
        StoragePath.EnsureCopyable(from, to);
        var source = Checked(from, field: "from");
        var target = Entry(to, "to");
        if (LStat(target) is not null) throw new ConflictException($"'{to}' exists already; delete it first or choose another name.");
        var isFolder = IsDirectory(source);
        var files = isFolder ? Walk(source, "").ToList() : [];
        if (!isFolder) EnsureRegularFile(LStat(source)!, from, "from");
        var bytes = isFolder ? files.Where(f => !f.File.IsDirectory).Sum(f => f.File.Length) : _sftp.GetAttributes(source).Size;
        if (bytes > allowedBytes) throw tooLarge(bytes);

        var temporary = TemporaryNear(target);
        var committed = false;
        try
        {
            if (isFolder)
            {
                _sftp.CreateDirectory(temporary);
                foreach (var (file, relative) in files)
                {
                    if (file.IsDirectory) _sftp.CreateDirectory($"{temporary}/{relative}");
                    else CopyFile($"{source}/{relative}", $"{temporary}/{relative}");
                }
            }
            else
            {
                CopyFile(source, temporary);
            }
            _sftp.RenameFile(temporary, target, isPosix: false); // plain SFTP rename: refuses to replace what appeared meanwhile
            committed = true;
        }
        finally
        {
            if (!committed) TryDelete(temporary);
        }
    });

    public void Delete(StoragePath path) => OnHost(() =>
    {
        if (path.IsRoot) throw ValidationException.For("path", "The storage's root cannot be deleted; delete what is inside it.");
        var entry = Entry(path);
        var attributes = LStat(entry) ?? throw new StorageEntryNotFoundException($"Nothing is at '{path}' in this storage.");
        if (attributes.IsSymbolicLink) throw LinkUnchangeable("path", path);
        if (attributes.IsDirectory && Walk(entry, "", includeLinks: true).FirstOrDefault(f => f.File.IsSymbolicLink || Unnameable(f.File)) is { File: not null } held)
        {
            if (held.File.IsSymbolicLink) throw LinkUnchangeable("path", StoragePath.Parse(path.IsRoot ? held.Relative : $"{path}/{held.Relative}"));
            throw ValidationException.For("path", $"'{path}' holds '{held.Relative}', whose name is not UTF-8, which SFTP cannot name; rename it on the host or inside a task first (e.g. with convmv).");
        }
        DeleteTree(entry, attributes);
    });

    public async Task<long> WriteAsync(StoragePath path, Stream content, long limit, Func<long, Exception> tooLarge, CancellationToken ct,
        Func<long, long, Exception?>? beforeReplacing = null)
    {
        var (target, replaced) = OnHost(() =>
        {
            if (path.IsRoot) throw ValidationException.For("path", "names the storage's root; give a file name.");
            var entry = Entry(path);
            var existing = LStat(entry);
            switch (existing)
            {
                case { IsSymbolicLink: true }: throw LinkUnchangeable("path", path);
                case { IsDirectory: true }: throw new ConflictException($"'{path}' is a folder.");
            }
            return (entry, existing);
        });
        var temporary = TemporaryNear(target);
        var committed = false;
        try
        {
            // SSH.NET's own upload keeps several writes in flight; writing through an SftpFileStream
            // waits for each one's answer (a third slower than scp in bench/storage.sh).
            var limited = new LimitedReadStream(content, limit, tooLarge);
            await _sftp.UploadFileAsync(limited, temporary, canOverride: false, uploadProgress: null, ct);
            if (beforeReplacing?.Invoke(limited.BytesRead, replaced is { IsRegularFile: true } ? replaced.Size : 0) is { } refused) throw refused;
            if (replaced is { IsRegularFile: true }) KeepPermissions(replaced, temporary);
            // OpenSSH's posix-rename replaces the target in one step, like rename(2).
            _sftp.RenameFile(temporary, target, isPosix: true);
            committed = true;
            return limited.BytesRead;
        }
        catch (Exception e) when (IsLostConnection(e))
        {
            throw _connection.ConnectionLost(e);
        }
        catch (SftpPermissionDeniedException e)
        {
            throw PermissionDenied(e);
        }
        finally
        {
            if (!committed) TryDelete(temporary);
        }
    }

    /// <summary>
    /// A file replaced keeps its permissions (a script its execute bit, a private file its 0600), not
    /// setuid or setgid (the new bytes are the uploader's): only the mode is set.
    /// </summary>
    private void KeepPermissions(SftpFileAttributes of, string remote)
    {
        static int Digit(bool read, bool write, bool execute) => (read ? 4 : 0) + (write ? 2 : 0) + (execute ? 1 : 0);
        var attributes = _sftp.GetAttributes(remote);
        // SSH.NET takes the mode as its octal digits written in decimal (0750 as 750) and sends only what changed.
        attributes.SetPermissions((short)(100 * Digit(of.OwnerCanRead, of.OwnerCanWrite, of.OwnerCanExecute)
            + 10 * Digit(of.GroupCanRead, of.GroupCanWrite, of.GroupCanExecute)
            + Digit(of.OthersCanRead, of.OthersCanWrite, of.OthersCanExecute)));
        _sftp.SetAttributes(remote, attributes);
    }

    public bool IsFolder(StoragePath path) => OnHost(() => IsDirectory(Checked(path)));

    public Stream OpenRead(StoragePath path) => OnHost(() =>
    {
        var file = Checked(path);
        if (IsDirectory(file)) throw ValidationException.For("path", $"'{path}' is a folder.");
        EnsureRegularFile(LStat(file)!, path, "path");
        return (Stream)_sftp.OpenRead(file);
    });

    public async Task DownloadAsync(StoragePath path, Func<long, Stream> start, CancellationToken ct)
    {
        var (file, length) = OnHost(() =>
        {
            var remote = Checked(path);
            var attributes = LStat(remote)!;
            if (attributes.IsDirectory) throw ValidationException.For("path", $"'{path}' is a folder.");
            EnsureRegularFile(attributes, path, "path");
            return (remote, attributes.Size);
        });
        // Opened before the response starts: a file the login may not read is a clear 403, not a cut-off 200.
        SftpFileStream input;
        try
        {
            input = await _sftp.OpenAsync(file, FileMode.Open, FileAccess.Read, ct);
        }
        catch (Exception e) when (IsLostConnection(e))
        {
            throw _connection.ConnectionLost(e);
        }
        catch (SftpPermissionDeniedException e)
        {
            throw PermissionDenied(e);
        }
        await using (input)
        {
            var output = start(length);
            try
            {
                // Large reads: SSH.NET's SftpFileStream then keeps several requests in flight. Through the
                // 64 KiB copy of Results.File it read a third of scp's speed; with 1 MiB reads it matched
                // DownloadFileAsync or beat it in a probe against the demo sshd (80-93 MiB/s, loaded machine).
                await LimitedCopy.CopyExactlyAsync(input, output, length, DownloadBufferSize, ct);
            }
            catch (Exception e) when (IsLostConnection(e))
            {
                throw _connection.ConnectionLost(e); // the response has begun: it ends short of its Content-Length
            }
        }
    }

    /// <summary>
    /// The folder as a zip. Entries are opened by the remote paths the walk found (it passes no link),
    /// not parsed again as client paths: a name a task gave a backslash or a control character is
    /// archived like any other.
    /// </summary>
    public Task WriteZipAsync(StoragePath path, Stream output, CancellationToken ct)
    {
        var folder = OnHost(() => Checked(path));
        return ZipStreaming.WriteAsync(output, Walk(folder, "").Select(f => new ZipStreaming.Item(f.Relative, f.File.IsDirectory, f.File.LastWriteTimeUtc,
            () => _sftp.OpenRead(f.File.FullName))), ct);
    }

    /// <summary>No quota on remote folders: the host's own quotas apply.</summary>
    public long? Usage() => null;

    public long ReplacedBytes(StoragePath path) => 0;

    /// <summary>The remote path of an existing entry reached without passing any link.</summary>
    private string Checked(StoragePath path, bool mustExist = true, string field = "path")
    {
        path.EnsureFitsUnder(Root, field);
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
    private SftpFileAttributes? LStat(string remote) => LStat(_sftp, remote);

    private static SftpFileAttributes? LStat(SftpClient sftp, string remote)
    {
        var parent = Parent(remote);
        var name = remote[(parent.Length + 1)..];
        try
        {
            return sftp.ListDirectory(parent.Length == 0 ? "/" : parent).FirstOrDefault(f => f.Name == name)?.Attributes;
        }
        catch (SftpPathNotFoundException)
        {
            return null;
        }
    }

    private bool IsDirectory(string remote) => LStat(remote) is { IsDirectory: true, IsSymbolicLink: false };

    private void DeleteTree(string remote, SftpFileAttributes attributes) => DeleteTree(_sftp, remote, attributes);

    /// <summary>
    /// Deletes a file or a folder tree. A link met on the way (Delete refuses trees holding one, but a task may make
    /// one meanwhile, and leftovers are not walked first) ends it with a 409: SSH.NET would resolve the link and
    /// delete what it points to.
    /// </summary>
    private static void DeleteTree(SftpClient sftp, string remote, SftpFileAttributes attributes)
    {
        if (attributes.IsSymbolicLink)
            throw new ConflictException($"'{remote}' is a symbolic link, made while its folder was being deleted; the platform cannot delete it without deleting what it points to. Remove it on the host.");
        if (!attributes.IsDirectory)
        {
            sftp.DeleteFile(remote);
            return;
        }
        foreach (var child in sftp.ListDirectory(remote).Where(f => f.Name is not "." and not ".."))
            DeleteTree(sftp, child.FullName, child.Attributes);
        sftp.DeleteDirectory(remote);
    }

    private IEnumerable<(ISftpFile File, string Relative)> Walk(string folder, string prefix, bool includeLinks = false)
    {
        foreach (var file in _sftp.ListDirectory(folder).Where(f => f.Name is not "." and not ".."))
        {
            if (file.IsSymbolicLink && !includeLinks) continue;
            if (!file.IsSymbolicLink && !file.IsDirectory && !file.IsRegularFile && !includeLinks) continue; // a FIFO, socket or device: never opened
            if (!includeLinks && Unnameable(file)) continue; // nothing SFTP can open
            if (!file.IsSymbolicLink && !includeLinks && file.Name.StartsWith(ConfinedDirectory.UploadPrefix, StringComparison.Ordinal)) continue;
            var relative = prefix.Length == 0 ? file.Name : $"{prefix}/{file.Name}";
            yield return (file, relative);
            if (file.IsDirectory && !file.IsSymbolicLink) foreach (var inner in Walk($"{folder}/{file.Name}", relative, includeLinks)) yield return inner;
        }
    }

    /// <summary>
    /// A name that is not UTF-8 reaches SSH.NET with U+FFFD for its odd bytes, and that name names nothing
    /// on the host (asked only of names with U+FFFD, which a UTF-8 name seldom holds).
    /// </summary>
    private bool Unnameable(ISftpFile file)
    {
        if (!file.Name.Contains('\uFFFD')) return false;
        try
        {
            _sftp.GetAttributes(file.FullName); // asked by that name (LStat finds names in their folder's listing, where it matches)
            return false;
        }
        catch (SftpPathNotFoundException)
        {
            return true;
        }
    }

    /// <summary>
    /// Only regular files are opened: the host's SFTP server opens a FIFO the way a program does, and
    /// waits for a writer, holding the connection every storage on that resource shares (for everyone
    /// using it) until its requests time out.
    /// </summary>
    private static void EnsureRegularFile(SftpFileAttributes attributes, StoragePath path, string field)
    {
        if (!attributes.IsRegularFile)
            throw ValidationException.For(field, $"'{path}' is not a regular file (a device, a FIFO or a socket), which cannot be read.");
    }

    private static ValidationException LinkUnchangeable(string field, StoragePath path) => ValidationException.For(field,
        $"'{path}' is a symbolic link; on sftp storages the platform cannot change a link without touching what it points to. Change it on the host.");

    private void CopyFile(string source, string target)
    {
        using var input = _sftp.OpenRead(source);
        using var output = _sftp.Open(target, FileMode.CreateNew, FileAccess.Write);
        input.CopyTo(output, CopyBufferSize);
    }

    /// <summary>A hidden name next to <paramref name="target"/> (listings skip it) for a file or folder in the making.</summary>
    private static string TemporaryNear(string target) => $"{Parent(target)}/{ConfinedDirectory.UploadPrefix}{Guid.NewGuid():N}.part";

    /// <summary>Removes our own temporary file or folder (no links in it); when the connection is gone, once it is back.</summary>
    private void TryDelete(string remote)
    {
        try
        {
            RemoveLeftover(_sftp, remote);
        }
        catch (Exception e) when (e is SshException or SocketException or IOException or ObjectDisposedException)
        {
            if (ConnectionGone(e)) _connection.AfterReconnect(sftp => RemoveLeftover(sftp, remote));
        }
        catch (ConflictException)
        {
            // A link was made in it meanwhile: it stays (hidden), rather than what the link points to going.
        }
    }

    private static void RemoveLeftover(SftpClient sftp, string remote)
    {
        if (LStat(sftp, remote) is { } attributes) DeleteTree(sftp, remote, attributes);
    }

    /// <summary>Runs one storage operation; a connection lost under it is named as such (503), not left as a 500.</summary>
    private T OnHost<T>(Func<T> operation)
    {
        try
        {
            return operation();
        }
        catch (Exception e) when (IsLostConnection(e))
        {
            throw _connection.ConnectionLost(e);
        }
        catch (SftpPermissionDeniedException e)
        {
            throw PermissionDenied(e);
        }
    }

    /// <summary>The login on the host may not do this there: the user's to fix on the host, not a platform failure (was a 500).</summary>
    private StorageAccessDeniedException PermissionDenied(SftpPermissionDeniedException e) =>
        new($"The host refused: {e.Message}. The login '{_connection.Login}' lacks the permission there; change the folder's permissions on the host.");

    private void OnHost(Action operation) => OnHost(() =>
    {
        operation();
        return true;
    });

    /// <summary>
    /// A failure of the connection rather than of the request (a client's aborted body is an IOException
    /// too, but leaves SFTP connected). A request that went unanswered is one: the connection is given up.
    /// The client notices a session the host dropped a moment after the request that met it failed (a copy cut
    /// by a host that went away answered 500 now and then): an error that may be the connection's waits that moment.
    /// </summary>
    private bool IsLostConnection(Exception e)
    {
        if (e is SshOperationTimeoutException)
        {
            _connection.GiveUp(_sftp);
            return true;
        }
        return e is SshException or SocketException or IOException or ObjectDisposedException
            && e is not (SftpPathNotFoundException or SftpPermissionDeniedException) && ConnectionGone(e);
    }

    /// <summary>Whether <paramref name="e"/> came of the connection going: said so, or the client finds it gone within a moment.</summary>
    private bool ConnectionGone(Exception e) =>
        e is SshConnectionException or SocketException || SpinWait.SpinUntil(() => !SshConnection.IsUsable(_sftp), TimeSpan.FromMilliseconds(500));

    private static string Parent(string remote) => remote[..remote.LastIndexOf('/')];
}
