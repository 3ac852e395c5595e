using System.Text;
using Rosetta.Core.Domain;
using Rosetta.Core.Storages;
using Rosetta.Core.Validation;

namespace Rosetta.Tests.Unit;

/// <summary>
/// File operations on a real folder next to an "outside" folder that must never be read, listed,
/// written or deleted through the storage, whatever links a task planted inside it.
/// </summary>
public sealed class ConfinedDirectoryTests : IDisposable
{
    private readonly string _base = Path.Combine(Path.GetTempPath(), "rosetta-confined", Guid.NewGuid().ToString("N"));
    private readonly string _root;
    private readonly string _outside;
    private readonly ConfinedDirectory _folder;

    public ConfinedDirectoryTests()
    {
        _root = Path.Combine(_base, "root");
        _outside = Path.Combine(_base, "outside");
        Directory.CreateDirectory(_outside);
        File.WriteAllText(Path.Combine(_outside, "secret.txt"), "secret");
        _folder = new ConfinedDirectory(_root);
        // What a task could do through its bind: links pointing out, absolute and relative, to a folder and to a file.
        File.CreateSymbolicLink(Path.Combine(_root, "out"), _outside);
        File.CreateSymbolicLink(Path.Combine(_root, "out-relative"), "../outside");
        File.CreateSymbolicLink(Path.Combine(_root, "secret-link"), Path.Combine(_outside, "secret.txt"));
        Directory.CreateDirectory(Path.Combine(_root, "data"));
        File.WriteAllText(Path.Combine(_root, "data", "a.txt"), "hello");
        File.CreateSymbolicLink(Path.Combine(_root, "inside-link"), "data");
    }

    public void Dispose() => Directory.Delete(_base, recursive: true);

    private static StoragePath P(string path) => StoragePath.Parse(path);

    [Theory]
    [InlineData("out")]
    [InlineData("out/secret.txt")]
    [InlineData("out-relative/secret.txt")]
    [InlineData("secret-link")]
    [InlineData("out/missing.txt")]
    public void LinksLeadingOutAreNeverFollowed(string path)
    {
        var error = Assert.Throws<ValidationException>(() => _folder.Follow(P(path)));
        Assert.Contains("outside the storage", error.Message);
        Assert.Throws<ValidationException>(() => _folder.List(P(path), StorageSort.Name, false, removeAbandonedTransfers: false));
        Assert.Throws<ValidationException>(() => _folder.Copy(P(path), P("copy"), null, _ => new Exception()));
    }

    [Fact]
    public async Task WritesThroughALinkOutAreRefusedAndNothingAppearsOutside()
    {
        await Assert.ThrowsAsync<ValidationException>(() => _folder.WriteAsync(P("out/new.txt"), Stream(10), long.MaxValue, _ => new Exception(), default));
        Assert.Throws<ValidationException>(() => _folder.CreateFolder(P("out/new-folder")));
        Assert.Throws<ValidationException>(() => _folder.Move(P("data/a.txt"), P("out/a.txt")));
        Assert.Throws<ValidationException>(() => _folder.Copy(P("data"), P("out-relative/data"), null, _ => new Exception()));
        Assert.Throws<ValidationException>(() => _folder.Delete(P("out/secret.txt")));
        Assert.Equal(["secret.txt"], Directory.GetFileSystemEntries(_outside).Select(Path.GetFileName));
    }

    [Fact]
    public async Task ReplacingOrDeletingALinkActsOnTheLinkNotItsTarget()
    {
        await _folder.WriteAsync(P("secret-link"), Stream(3), long.MaxValue, _ => new Exception(), default);
        Assert.Equal("secret", File.ReadAllText(Path.Combine(_outside, "secret.txt")));
        Assert.Null(new FileInfo(Path.Combine(_root, "secret-link")).LinkTarget);

        _folder.Delete(P("out"));
        Assert.True(File.Exists(Path.Combine(_outside, "secret.txt")));
        Assert.False(Path.Exists(Path.Combine(_root, "out")));
    }

    [Fact]
    public void DeletingAFolderUnlinksTheLinksInsideWithoutFollowingThem()
    {
        File.CreateSymbolicLink(Path.Combine(_root, "data", "escape"), _outside);
        _folder.Delete(P("data"));
        Assert.False(Directory.Exists(Path.Combine(_root, "data")));
        Assert.True(File.Exists(Path.Combine(_outside, "secret.txt")));
    }

    [Fact]
    public void LinksInsideTheRootAreFollowedAndListingsShowLinksAsLinks()
    {
        Assert.Equal(Path.Combine(_folder.Root, "data"), _folder.Follow(P("inside-link")));
        Assert.Equal(["a.txt"], _folder.List(P("inside-link"), StorageSort.Name, false, removeAbandonedTransfers: false).Select(e => e.Name));
        var root = _folder.List(StoragePath.Root, StorageSort.Name, false, removeAbandonedTransfers: false);
        Assert.Equal("data", root[0].Name); // folders first
        Assert.All(root.Where(e => e.Name != "data"), e => Assert.Equal("link", e.Kind));
        Assert.All(root, e => Assert.Null(e.Size)); // a link's target is never measured
    }

    [Fact]
    public void ADanglingLinkIsListedAsALinkAndNeverCopied()
    {
        File.CreateSymbolicLink(Path.Combine(_root, "data", "dangling"), Path.Combine(_outside, "gone"));
        File.CreateSymbolicLink(Path.Combine(_root, "data", "dangling-folder"), Path.Combine(_outside, "gone") + "/");
        var listed = _folder.List(P("data"), StorageSort.Name, false, removeAbandonedTransfers: false);
        Assert.Equal("link", listed.Single(e => e.Name == "dangling").Kind);
        Assert.Equal("link", listed.Single(e => e.Name == "dangling-folder").Kind);
        _folder.Copy(P("data"), P("data-copy"), null, _ => new Exception());
        Assert.Equal(["a.txt"], _folder.List(P("data-copy"), StorageSort.Name, false, removeAbandonedTransfers: false).Select(e => e.Name));
    }

    [Fact]
    public void ACopyOntoItsOwnNameIsAConflictThatAsksForAnotherName()
    {
        var refused = Assert.Throws<ConflictException>(() => _folder.Copy(P("data/a.txt"), P("data/a.txt"), null, _ => new Exception()));
        Assert.Equal("'data/a.txt' exists already: a copy needs another name.", refused.Message);
        Assert.Throws<ConflictException>(() => _folder.Copy(P("data"), P("data"), null, _ => new Exception()));
    }

    [Fact]
    public async Task AnUploadThatFailsHalfwayLeavesNothingAndKeepsTheOldFile()
    {
        await _folder.WriteAsync(P("data/big.bin"), Stream(100), long.MaxValue, _ => new Exception(), default);
        await Assert.ThrowsAsync<IOException>(() => _folder.WriteAsync(P("data/big.bin"), new FailingStream(50_000), long.MaxValue, _ => new Exception(), default));
        await Assert.ThrowsAsync<StorageLimitException>(() => _folder.WriteAsync(P("data/new.bin"), Stream(1000), 999, n => new StorageLimitException($"{n}"), default));
        Assert.Equal(["a.txt", "big.bin"], Directory.GetFiles(Path.Combine(_root, "data")).Select(Path.GetFileName).Order());
        Assert.Equal(100, new FileInfo(Path.Combine(_root, "data", "big.bin")).Length);
    }

    [Fact]
    public async Task OperationsDoWhatTheySay()
    {
        _folder.CreateFolder(P("x/y/z"));
        Assert.Throws<ConflictException>(() => _folder.CreateFolder(P("x/y")));
        await _folder.WriteAsync(P("x/y/z/f.txt"), new MemoryStream(Encoding.UTF8.GetBytes("content")), long.MaxValue, _ => new Exception(), default);
        _folder.Copy(P("x"), P("x-copy"), null, _ => new Exception());
        Assert.Equal("content", File.ReadAllText(Path.Combine(_root, "x-copy/y/z/f.txt")));
        Assert.Throws<ValidationException>(() => _folder.Move(P("x"), P("x/y/inside")));
        Assert.Throws<ConflictException>(() => _folder.Move(P("x"), P("x-copy")));
        _folder.Move(P("x/y/z/f.txt"), P("renamed.txt"));
        Assert.Equal("content", File.ReadAllText(Path.Combine(_root, "renamed.txt")));
        Assert.Throws<StorageEntryNotFoundException>(() => _folder.Delete(P("x/y/z/f.txt")));
        Assert.Throws<ValidationException>(() => _folder.Delete(StoragePath.Root));
        Assert.Equal(5 + 7 + 7, _folder.Usage()); // a.txt, x-copy's f.txt, renamed.txt; links not counted
        var bySize = _folder.List(StoragePath.Root, StorageSort.Size, descending: true, removeAbandonedTransfers: false).Where(e => e.Kind == "file").ToList();
        Assert.Equal("renamed.txt", bySize[0].Name);
    }

    [Fact]
    public void ListingRemovesTransfersAStoppedPlatformLeftAndNothingElse()
    {
        var stale = DateTime.UtcNow - ConfinedDirectory.AbandonedAfter - TimeSpan.FromMinutes(1);
        var staleUpload = Path.Combine(_root, "data", ".rosetta-upload-1.part");
        File.WriteAllText(staleUpload, "half");
        File.SetLastWriteTimeUtc(staleUpload, stale);
        // A folder copy cut off, holding a link to the outside: the link goes, never what it points to.
        var staleCopy = Path.Combine(_root, "data", ".rosetta-upload-2.part");
        Directory.CreateDirectory(Path.Combine(staleCopy, "inner"));
        File.CreateSymbolicLink(Path.Combine(staleCopy, "inner", "out"), _outside);
        Directory.SetLastWriteTimeUtc(staleCopy, stale);
        var inProgress = Path.Combine(_root, "data", ".rosetta-upload-3.part");
        File.WriteAllText(inProgress, "still coming");
        var staleLink = Path.Combine(_root, "data", ".rosetta-upload-4.part"); // not ours: a link
        File.CreateSymbolicLink(staleLink, _outside);
        var oldFile = Path.Combine(_root, "data", "old.txt"); // the user's own, however old
        File.WriteAllText(oldFile, "old");
        File.SetLastWriteTimeUtc(oldFile, stale);

        Assert.Equal(["a.txt", "old.txt"], _folder.List(P("data"), StorageSort.Name, false, removeAbandonedTransfers: false).Select(e => e.Name));
        Assert.True(File.Exists(staleUpload) && Directory.Exists(staleCopy), "only a listing allowed to clean removes anything");

        Assert.Equal(["a.txt", "old.txt"], _folder.List(P("data"), StorageSort.Name, false, removeAbandonedTransfers: true).Select(e => e.Name));
        Assert.False(File.Exists(staleUpload));
        Assert.False(Directory.Exists(staleCopy));
        Assert.True(File.Exists(inProgress), "a transfer written to recently may still be going on");
        Assert.True(File.Exists(oldFile));
        Assert.Equal("secret", File.ReadAllText(Path.Combine(_outside, "secret.txt")));
        Assert.True(Path.Exists(staleLink));
    }

    /// <summary>
    /// A task swaps a checked folder for a link to the outside between the platform's check and its use
    /// (simulated: the swap happens before the path the check returned is opened).
    /// </summary>
    [Fact]
    public void AFolderSwappedForALinkAfterTheCheckIsNotFollowedForReadingOrWriting()
    {
        File.WriteAllText(Path.Combine(_outside, "a.txt"), "outside");
        var checkedFile = Path.Combine(_root, "data", "a.txt"); // what the check returned
        var checkedFolder = Path.Combine(_root, "data");
        Directory.Move(checkedFolder, Path.Combine(_root, "data-moved"));
        File.CreateSymbolicLink(checkedFolder, _outside);

        var read = Assert.Throws<ValidationException>(() => AnchoredFiles.OpenRead(checkedFile, _folder.Root, "data/a.txt", 0));
        Assert.Contains("outside the storage", read.Message);
        var write = Assert.Throws<ValidationException>(() => AnchoredFiles.OpenFolder(checkedFolder, _folder.Root, "data"));
        Assert.Contains("outside the storage", write.Message);
        Assert.Equal(["a.txt", "secret.txt"], Directory.GetFiles(_outside).Select(Path.GetFileName).Order());
    }

    /// <summary>
    /// Folder operations act by name inside folders held open: a folder a task swapped for a link after
    /// the check is deleted as the link, and a move or a new folder never lands on (or through) what
    /// appeared at the target meanwhile.
    /// </summary>
    [Fact]
    public void DeletingMovingAndMakingFoldersActOnWhatIsThereNeverThroughALinkSwappedIn()
    {
        Directory.Move(Path.Combine(_root, "data"), Path.Combine(_root, "data-moved"));
        File.CreateSymbolicLink(Path.Combine(_root, "data"), _outside); // swapped after the platform checked "data"
        using (var root = AnchoredFiles.OpenFolder(_root, _folder.Root, ""))
        {
            Assert.True(root.DeleteTree("data"));
            Assert.False(root.DeleteTree("data"));

            File.WriteAllText(Path.Combine(_root, "b.txt"), "b");
            using var moved = AnchoredFiles.OpenFolder(Path.Combine(_root, "data-moved"), _folder.Root, "data-moved");
            Assert.Throws<ConflictException>(() => root.MoveTo("b.txt", moved, "a.txt", "b.txt", "data-moved/a.txt"));
            Assert.Equal("hello", File.ReadAllText(Path.Combine(_root, "data-moved", "a.txt")));
            root.MoveTo("b.txt", moved, "b.txt", "b.txt", "data-moved/b.txt");
            Assert.Equal("b", File.ReadAllText(Path.Combine(_root, "data-moved", "b.txt")));

            Assert.False(root.CreateFolder("out", "out", TaskFileOwner.Unchanged)); // a link is there: nothing made, through it or instead of it
            Assert.NotEqual(AnchoredFiles.EntryKind.Folder, root.KindOf("out"));
            Assert.Throws<ValidationException>(() => root.MoveTo("data-moved", moved, "inner", "data-moved", "data-moved/inner"));
        }
        Assert.False(Path.Exists(Path.Combine(_root, "data")));
        Assert.Equal(["secret.txt"], Directory.GetFileSystemEntries(_outside).Select(Path.GetFileName));
        Assert.Equal(["a.txt", "b.txt"], Directory.GetFileSystemEntries(Path.Combine(_root, "data-moved")).Select(Path.GetFileName).Order());
    }

    /// <summary>What a copy walks: a name that is (or became) a link is never opened through, folder or file.</summary>
    [Fact]
    public void AWalkThroughHeldFoldersNeverOpensALink()
    {
        using var root = AnchoredFiles.OpenFolder(_root, _folder.Root, "");
        Assert.Equal(AnchoredFiles.EntryKind.Other, root.KindOf("out"));
        Assert.Equal(AnchoredFiles.EntryKind.Other, root.KindOf("secret-link"));
        Assert.Equal(AnchoredFiles.EntryKind.Folder, root.KindOf("data"));
        // As if each had been swapped for a link after KindOf said folder or file:
        Assert.Throws<IOException>(() => root.OpenChild("out"));
        Assert.Contains("not a regular file", Assert.Throws<ValidationException>(() => root.OpenFile("secret-link", "secret-link")).Message);
        using var data = root.OpenChild("data");
        Assert.Equal(["a.txt"], data.Names());
        using var file = data.OpenFile("a.txt", "data/a.txt");
        Assert.Equal("hello", new StreamReader(file).ReadToEnd());
    }

    /// <summary>
    /// The quota's count, archives and copies' sizes walk folders held open: a folder a task swaps for a
    /// link after the walk saw it (and before it goes in) is not entered.
    /// </summary>
    [Fact]
    public void AFolderSwappedForALinkWhileAWalkIsUnderWayIsNotEntered()
    {
        var sub = Path.Combine(_root, "data", "sub");
        Directory.CreateDirectory(sub);
        File.WriteAllText(Path.Combine(sub, "b.txt"), "bb");
        using var data = AnchoredFiles.OpenFolder(Path.Combine(_root, "data"), _folder.Root, "data");
        using var walk = ConfinedDirectory.Walk(data, tooDeep: null).GetEnumerator();
        var seen = new List<string>();
        while (seen.LastOrDefault() != "sub" && walk.MoveNext()) seen.Add(walk.Current.RelativePath);
        Assert.Equal("sub", seen[^1]);
        Assert.Equal(AnchoredFiles.EntryKind.Folder, walk.Current.Info.Kind);

        Directory.Move(sub, sub + "-moved");
        File.CreateSymbolicLink(sub, _outside);
        var rest = new List<string>();
        while (walk.MoveNext()) rest.Add(walk.Current.RelativePath);
        Assert.DoesNotContain(rest, path => path.StartsWith("sub/", StringComparison.Ordinal));
        Assert.Equal(["a.txt", "sub"], seen.Concat(rest).Order());
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task AFileReplacedKeepsItsPermissionsButNotSetuid()
    {
        var script = Path.Combine(_root, "run.sh");
        var secret = Path.Combine(_root, "token.txt");
        File.WriteAllText(script, "old");
        File.WriteAllText(secret, "old");
        // A task's setuid program replaced by an upload (the platform may run as root): the new bytes are the uploader's.
        File.SetUnixFileMode(script, UnixFileMode.SetUser | UnixFileMode.SetGroup | (UnixFileMode)0b111_101_000);
        File.SetUnixFileMode(secret, (UnixFileMode)0b110_000_000);

        await _folder.WriteAsync(P("run.sh"), Stream(4), long.MaxValue, _ => new Exception(), default);
        await _folder.WriteAsync(P("token.txt"), Stream(4), long.MaxValue, _ => new Exception(), default);

        Assert.Equal((UnixFileMode)0b111_101_000, File.GetUnixFileMode(script));
        Assert.Equal((UnixFileMode)0b110_000_000, File.GetUnixFileMode(secret));
        Assert.Equal(4, new FileInfo(secret).Length);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void ACopiedTreeKeepsItsFilesModesAndLeavesItsLinksBehind()
    {
        var tools = Path.Combine(_root, "tools");
        Directory.CreateDirectory(Path.Combine(tools, "bin"));
        File.WriteAllText(Path.Combine(tools, "bin", "run.sh"), "#!/bin/sh\necho hi\n");
        // A task's setuid program: copied by a platform running as root, it must not stay setuid.
        File.SetUnixFileMode(Path.Combine(tools, "bin", "run.sh"), UnixFileMode.SetUser | UnixFileMode.SetGroup | (UnixFileMode)0b111_101_101);
        File.CreateSymbolicLink(Path.Combine(tools, "out"), _outside);

        _folder.Copy(P("tools"), P("data/tools-copy"), null, _ => new Exception());

        var copy = Path.Combine(_root, "data", "tools-copy");
        Assert.Equal("#!/bin/sh\necho hi\n", File.ReadAllText(Path.Combine(copy, "bin", "run.sh")));
        Assert.Equal((UnixFileMode)0b111_101_101, File.GetUnixFileMode(Path.Combine(copy, "bin", "run.sh")));
        Assert.Equal(["bin"], Directory.GetFileSystemEntries(copy).Select(Path.GetFileName));
        Assert.Throws<ConflictException>(() => _folder.Copy(P("tools"), P("data/tools-copy"), null, _ => new Exception()));
        _folder.Delete(P("data/tools-copy"));
        Assert.False(Path.Exists(copy));
        Assert.Equal(["a.txt"], Directory.GetFileSystemEntries(Path.Combine(_root, "data")).Select(Path.GetFileName));
    }

    [Fact]
    public async Task AFolderNestedDeeperThanTheLimitIsRefusedWithAClearErrorAndOneWithinItIsDeleted()
    {
        // What `mkdir d; cd d` in a loop makes; relative to open folders no path limit would stop the walk.
        Directory.CreateDirectory(Path.Combine([_root, "deep", .. Enumerable.Repeat("d", 1100)]));
        Directory.CreateDirectory(Path.Combine([_root, "shallow", .. Enumerable.Repeat("d", 900)]));
        var error = Assert.Throws<ValidationException>(() => _folder.Delete(P("deep")));
        Assert.Contains("nested more than", error.Message);
        Assert.Contains("nested more than", (await Assert.ThrowsAsync<ValidationException>(() => _folder.WriteZipAsync(P("deep"), System.IO.Stream.Null, CancellationToken.None))).Message);
        Assert.Contains("nested more than", Assert.Throws<ValidationException>(() => _folder.Copy(P("deep"), P("deep-copy"), null, _ => new Exception())).Message);
        File.WriteAllText(Path.Combine([_root, "deep", .. Enumerable.Repeat("d", 1100), "below.txt"]), "not counted");
        Assert.Equal(5, _folder.Usage()); // data/a.txt: the quota's count stops at the limit instead of failing
        _folder.Delete(P("shallow"));
        Assert.False(Path.Exists(Path.Combine(_root, "shallow")));
    }

    [Fact]
    public void UploadsSideBySideIntoTheSameNewFolderBothGetIt()
    {
        for (var round = 0; round < 20; round++)
        {
            var failures = new System.Collections.Concurrent.ConcurrentBag<Exception>();
            Parallel.For(0, 8, i =>
            {
                try
                {
                    _folder.CreateFolder(P($"new{round}/shared/f{i}"), existingIsFine: true);
                }
                catch (Exception e)
                {
                    failures.Add(e);
                }
            });
            Assert.Empty(failures);
            Assert.Equal(8, Directory.GetDirectories(Path.Combine(_root, $"new{round}", "shared")).Length);
        }
    }

    /// <summary>
    /// A full file system (not the quota) is said as such, a 413, not a 500, and leaves nothing behind: on a 1 MiB
    /// tmpfs, an upload and a copy of more.
    /// </summary>
    [Fact]
    public Task AFullDiskIsSaidAsSuchAndLeavesNothingBehind() => OnSmallTmpfsAsync("size=1m", async small =>
    {
        var folder = new ConfinedDirectory(small);
        var upload = await Assert.ThrowsAsync<StorageLimitException>(() =>
            folder.WriteAsync(P("big.bin"), new MemoryStream(new byte[2 << 20]), long.MaxValue, _ => new InvalidOperationException(), CancellationToken.None));
        Assert.Contains("disk that holds this storage is full", upload.Message);
        Assert.Empty(Directory.GetFileSystemEntries(small));

        await folder.WriteAsync(P("half.bin"), new MemoryStream(new byte[600_000]), long.MaxValue, _ => new InvalidOperationException(), CancellationToken.None);
        var copy = Assert.Throws<StorageLimitException>(() => folder.Copy(P("half.bin"), P("again.bin"), null, _ => new InvalidOperationException()));
        Assert.Contains("disk that holds this storage is full", copy.Message);
        Assert.Equal(["half.bin"], Directory.GetFileSystemEntries(small).Select(Path.GetFileName));
    });

    /// <summary>
    /// A file system out of inodes refuses the creation itself (openat, mkdirat), not a write: still a 413 that says
    /// the disk is full, not a 500. A tmpfs of three inodes: its root and two folders.
    /// </summary>
    [Fact]
    public Task AFileSystemOutOfInodesIsSaidToBeFull() => OnSmallTmpfsAsync("size=1m,nr_inodes=3", async small =>
    {
        var folder = new ConfinedDirectory(small);
        folder.CreateFolder(P("one"));
        folder.CreateFolder(P("two"));
        var mkdir = Assert.Throws<StorageLimitException>(() => folder.CreateFolder(P("three")));
        Assert.Contains("disk that holds this storage is full", mkdir.Message);
        var upload = await Assert.ThrowsAsync<StorageLimitException>(() =>
            folder.WriteAsync(P("one/data.txt"), new MemoryStream("x"u8.ToArray()), long.MaxValue, _ => new InvalidOperationException(), CancellationToken.None));
        Assert.Contains("disk that holds this storage is full", upload.Message);
        Assert.Equal(["one", "two"], Directory.GetFileSystemEntries(small).Select(Path.GetFileName).Order());
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(small, "one")));
    });

    /// <summary>
    /// A file time past year 9999 or before year 1 (tmpfs and btrfs store 64-bit seconds; a task can set any) is shown
    /// as the nearest time a listing can carry, and the folder still lists and zips: it gave a 500.
    /// </summary>
    [Fact]
    public Task FileTimesBeyondWhatADateCanHoldAreClamped() => OnSmallTmpfsAsync("size=1m", async small =>
    {
        var folder = new ConfinedDirectory(small);
        Directory.CreateDirectory(Path.Combine(small, "times"));
        File.WriteAllText(Path.Combine(small, "times", "future.txt"), "f");
        File.WriteAllText(Path.Combine(small, "times", "past.txt"), "p");
        File.WriteAllText(Path.Combine(small, "times", "year-10000.txt"), "y");
        await TouchAsync("@400000000000", Path.Combine(small, "times", "future.txt")); // year 14,645
        await TouchAsync("@-70000000000", Path.Combine(small, "times", "past.txt")); // before year 1
        await TouchAsync("@253402300800", Path.Combine(small, "times", "year-10000.txt")); // the first second past what a DateTime holds

        var listed = folder.List(P("times"), StorageSort.Name, descending: false, removeAbandonedTransfers: false)
            .OrderBy(e => e.Modified).ThenBy(e => e.Name, StringComparer.Ordinal).ToList();
        Assert.Equal(["past.txt", "future.txt", "year-10000.txt"], listed.Select(e => e.Name));
        Assert.Equal(DateTime.MaxValue, listed[2].Modified);
        Assert.Equal(DateTime.MinValue, listed[0].Modified);
        Assert.Equal(DateTime.MaxValue.Year, listed[1].Modified.Year);

        var zip = new MemoryStream();
        await folder.WriteZipAsync(P("times"), zip, CancellationToken.None);
        zip.Position = 0;
        using var archive = new System.IO.Compression.ZipArchive(zip);
        Assert.Equal(["future.txt", "past.txt", "year-10000.txt"], archive.Entries.Select(e => e.FullName).Order());

        static async Task TouchAsync(string time, string file)
        {
            using var process = System.Diagnostics.Process.Start("touch", ["-m", "-d", time, file]);
            await process.WaitForExitAsync();
            Assert.Equal(0, process.ExitCode);
        }
    });

    /// <summary>Runs <paramref name="body"/> on a fresh tmpfs mounted with <paramref name="options"/> (needs root, as the suite does).</summary>
    private static async Task OnSmallTmpfsAsync(string options, Func<string, Task> body)
    {
        var small = Directory.CreateTempSubdirectory("rosetta-full").FullName;
        await RunAsync("mount", "-t", "tmpfs", "-o", options, "tmpfs", small);
        try
        {
            await body(small);
        }
        finally
        {
            await RunAsync("umount", small);
            Directory.Delete(small);
        }

        static async Task RunAsync(string program, params string[] arguments)
        {
            using var process = System.Diagnostics.Process.Start(program, arguments);
            await process.WaitForExitAsync();
            Assert.Equal(0, process.ExitCode);
        }
    }

    /// <summary>A file a task appends to while it is downloaded: the download sends the length it announced, no more.</summary>
    [Fact]
    public async Task AFileGrowingWhileItIsDownloadedSendsTheLengthAnnounced()
    {
        var log = Path.Combine(_root, "data", "run.log");
        File.WriteAllText(log, "0123456789");
        var output = new MemoryStream();
        long announced = -1;
        await _folder.DownloadAsync(P("data/run.log"), length =>
        {
            announced = length;
            File.AppendAllText(log, "more lines");
            return output;
        }, CancellationToken.None);
        Assert.Equal(10, announced);
        Assert.Equal("0123456789", Encoding.UTF8.GetString(output.ToArray()));
    }

    /// <summary>
    /// Not even opened to be refused: opening a device may act by itself (a watchdog arms), and a FIFO's open is what a
    /// writer waiting on it sees. A writer blocked on the FIFO stays blocked while the platform looks at it.
    /// </summary>
    [Fact]
    public async Task AFifoATaskMadeIsNeverOpened()
    {
        var fifo = Path.Combine(_root, "data", "pipe");
        using (var process = System.Diagnostics.Process.Start("mkfifo", [fifo]))
        {
            await process.WaitForExitAsync();
            Assert.Equal(0, process.ExitCode);
        }
        var writer = Task.Run(() => new FileStream(fifo, FileMode.Open, FileAccess.Write)); // waits for a reader
        try
        {
            await Task.Delay(300); // the writer is waiting in its open
            Assert.Throws<ValidationException>(() => _folder.OpenRead(P("data/pipe")).Dispose());
            _folder.Copy(P("data"), P("copy"), null, _ => new InvalidOperationException());
            await _folder.WriteZipAsync(P("data"), System.IO.Stream.Null, CancellationToken.None);
            Assert.NotSame(writer, await Task.WhenAny(writer, Task.Delay(TimeSpan.FromSeconds(1)))); // else the platform opened the FIFO
        }
        finally
        {
            using (new FileStream(fifo, FileMode.Open, FileAccess.Read)) (await writer).Dispose(); // lets the writer go
        }
    }

    /// <summary>Devices, FIFOs and sockets a task made: never opened (a FIFO would block, a device read the host's disk).</summary>
    [Fact]
    public async Task FilesThatAreNotRegularAreRefusedAndLeftOutOfArchivesCopiesAndTheQuota()
    {
        var fifo = Path.Combine(_root, "data", "pipe");
        var device = Path.Combine(_root, "data", "zero");
        foreach (var (program, args) in new[] { ("mkfifo", new[] { fifo }), ("mknod", new[] { device, "c", "1", "5" }) })
        {
            using var process = System.Diagnostics.Process.Start(program, args);
            await process.WaitForExitAsync();
            Assert.Equal(0, process.ExitCode);
        }
        foreach (var name in new[] { "data/pipe", "data/zero" })
        {
            var refused = Assert.Throws<ValidationException>(() => _folder.OpenRead(P(name)).Dispose());
            Assert.Contains("not a regular file", refused.Message);
        }
        Assert.Equal(5, _folder.Usage()); // data/a.txt only

        using var zip = new MemoryStream();
        await _folder.WriteZipAsync(P("data"), zip, CancellationToken.None);
        zip.Position = 0;
        using var archive = new System.IO.Compression.ZipArchive(zip);
        Assert.Equal(["a.txt"], archive.Entries.Select(e => e.FullName));

        _folder.Copy(P("data"), P("copy"), null, _ => new InvalidOperationException());
        Assert.Equal(["a.txt"], Directory.GetFileSystemEntries(Path.Combine(_root, "copy")).Select(Path.GetFileName));
    }

    /// <summary>
    /// A name that is not UTF-8 (a task unpacked a Latin-1 archive) reaches .NET with U+FFFD for its odd
    /// bytes, a name that names nothing: it was listed as a link, and deleting its folder failed half-way.
    /// </summary>
    [Fact]
    public async Task ANameThatIsNotUtf8IsListedAsSuchLeftOutOfArchivesAndDeletedWithItsFolder()
    {
        var folder = Path.Combine(_root, "data", "latin1");
        Directory.CreateDirectory(folder);
        // The odd bytes (0xE9, 0xFF) only a shell can write: .NET would encode U+FFFD as UTF-8.
        using (var process = System.Diagnostics.Process.Start("bash", ["-c", "printf x > \"$1\"/$'caf\\xe9.txt' && mkdir \"$1\"/$'dir\\xff' && printf y > \"$1\"/$'dir\\xff'/inner", "bash", folder]))
        {
            await process.WaitForExitAsync();
            Assert.Equal(0, process.ExitCode);
        }
        File.WriteAllText(Path.Combine(folder, "fine.txt"), "fine");

        var listed = _folder.List(P("data/latin1"), StorageSort.Name, descending: false, removeAbandonedTransfers: false);
        Assert.Equal(3, listed.Count);
        Assert.Equal("file", listed.Single(e => e.Name == "fine.txt").Kind);
        Assert.All(listed.Where(e => e.Name != "fine.txt"), e =>
        {
            Assert.Equal(StorageEntry.UnnameableKind, e.Kind);
            Assert.Contains('\uFFFD', e.Name);
        });

        using (var zip = new MemoryStream())
        {
            await _folder.WriteZipAsync(P("data/latin1"), zip, CancellationToken.None);
            zip.Position = 0;
            using var archive = new System.IO.Compression.ZipArchive(zip);
            Assert.Equal(["fine.txt"], archive.Entries.Select(e => e.FullName));
        }

        _folder.Delete(P("data/latin1"));
        Assert.False(Directory.Exists(folder));
    }

    /// <summary>Zip knows no time before 1980: a file from a reproducible build (modified in 1970) must not end the archive halfway.</summary>
    [Fact]
    public async Task AnArchiveKeepsFileTimesAndTakesFilesModifiedBefore1980()
    {
        File.WriteAllText(Path.Combine(_root, "data", "old.txt"), "old");
        File.SetLastWriteTimeUtc(Path.Combine(_root, "data", "old.txt"), DateTime.UnixEpoch.AddSeconds(1));
        var recent = new DateTime(2026, 5, 4, 3, 2, 2, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(Path.Combine(_root, "data", "a.txt"), recent);

        using var zip = new MemoryStream();
        await _folder.WriteZipAsync(P("data"), zip, CancellationToken.None);
        zip.Position = 0;
        using var archive = new System.IO.Compression.ZipArchive(zip);
        Assert.Equal(["a.txt", "old.txt"], archive.Entries.Select(e => e.FullName).Order());
        Assert.Equal("old", new StreamReader(archive.GetEntry("old.txt")!.Open()).ReadToEnd());
        Assert.Equal(1980, archive.GetEntry("old.txt")!.LastWriteTime.Year);
        Assert.Equal(recent, archive.GetEntry("a.txt")!.LastWriteTime.UtcDateTime);
    }

    /// <summary>A storage whose base path is a file (an admin's mistake) says so, for its listing and its tasks' launch alike.</summary>
    [Fact]
    public void ABasePathThatIsAFileIsAConflictNamingIt()
    {
        var file = Path.Combine(_outside, "secret.txt");
        var error = Assert.Throws<ConflictException>(() => new ConfinedDirectory(file));
        Assert.Contains(file, error.Message);
        Assert.Contains("must name a folder", error.Message);
    }

    private static MemoryStream Stream(int bytes) => new(new byte[bytes]);

    /// <summary>A client that goes away halfway through its upload.</summary>
    private sealed class FailingStream(int failAfter) : MemoryStream(new byte[failAfter * 2])
    {
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            if (Position >= failAfter) throw new IOException("The client disconnected.");
            return await base.ReadAsync(buffer[..Math.Min(buffer.Length, failAfter)], ct);
        }
    }
}
