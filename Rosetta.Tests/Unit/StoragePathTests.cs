using Rosetta.Core.Storages;
using Rosetta.Core.Validation;

namespace Rosetta.Tests.Unit;

/// <summary>The spelling rules every client path passes before the file system is touched.</summary>
public sealed class StoragePathTests
{
    // Hostile paths, as they arrive after the framework's one URL-decoding.
    public static TheoryData<string> HostilePaths() => new()
    {
        "..", "../", "../etc/passwd", "a/../../b", "a/..", "./a", "a/./b", ".",
        "/etc/passwd", "/", "//server/share", "\\windows", "C:\\Windows", "c:/windows", "C:",
        "a\\..\\..\\b", "a//b", "a\0b", "a/b\0", "\0", "a\nb", "a\rb", "tab\there", "\u001b[31m", "del\u007f", "c1\u0085",
        new string('x', 256), "a/" + new string('é', 128), new string('a', 4097),
    };

    [Theory]
    [MemberData(nameof(HostilePaths))]
    public void HostilePathsAreRefusedWithAMessageOnTheField(string path)
    {
        var error = Assert.Throws<ValidationException>(() => StoragePath.Parse(path, "from"));
        Assert.True(error.Errors.ToDictionary().ContainsKey("from"), error.Message);
    }

    [Fact]
    public void LoneSurrogatesAreRefused()
    {
        // Built here: theory data would be serialised and the lone surrogate replaced on the way.
        Assert.Throws<ValidationException>(() => StoragePath.Parse("bad" + (char)0xD800 + "name"));
        Assert.Throws<ValidationException>(() => StoragePath.Parse("a/" + (char)0xDC00));
        Assert.Equal("😀", StoragePath.Parse("😀").Name);
    }

    [Theory]
    [InlineData("", "")]
    [InlineData(null, "")]
    [InlineData("a", "a")]
    [InlineData("a/b/c.txt", "a/b/c.txt")]
    [InlineData("results/", "results")]
    [InlineData("t:1.log", "t:1.log")] // a name a task may write, not a drive
    [InlineData("runs/a:b", "runs/a:b")]
    [InlineData("%2e%2e%2f", "%2e%2e%2f")] // a double-encoded traversal decodes once to this: an odd, harmless name
    [InlineData("...", "...")]
    [InlineData("..hidden", "..hidden")]
    [InlineData("名前/ファイル.txt", "名前/ファイル.txt")]
    [InlineData("spaces and 'quotes' $(x)", "spaces and 'quotes' $(x)")]
    public void OrdinaryPathsParse(string? path, string expected) => Assert.Equal(expected, StoragePath.Parse(path).ToString());

    [Theory]
    [InlineData("data/c.txt", "data/c.txt", "to", "is where it is already")]
    [InlineData("data", "data/inner", "to", "is inside 'data', which is being moved")]
    [InlineData("a.txt", "a.txt/x", "to", "is inside 'a.txt', which is being moved")]
    [InlineData("", "data", "from", "root cannot be moved")]
    [InlineData("data", "", "to", "storage's root")]
    public void AMoveThatCannotBeMadeSaysWhy(string from, string to, string field, string expected)
    {
        var refused = Assert.Throws<ValidationException>(() => StoragePath.EnsureMovable(StoragePath.Parse(from), StoragePath.Parse(to)));
        Assert.Contains(expected, Assert.Single(refused.Errors.ToDictionary()[field]));
    }

    /// <summary>A deeper tree could be made, but the platform could not delete, copy or archive it after.</summary>
    [Fact]
    public void PathsDeeperThanThePlatformHandlesAreRefused()
    {
        Assert.Equal(StoragePath.MaxDepth, StoragePath.Parse(string.Join('/', Enumerable.Repeat("d", StoragePath.MaxDepth))).Segments.Count);
        var refused = Assert.Throws<ValidationException>(() => StoragePath.Parse(string.Join('/', Enumerable.Repeat("d", StoragePath.MaxDepth + 1))));
        Assert.Contains("more than 1024 levels of folders", Assert.Single(refused.Errors.ToDictionary()["path"]));
    }

    [Fact]
    public void NameLimitIsCountedInUtf8Bytes()
    {
        Assert.Equal(255, StoragePath.Parse(new string('x', 255)).Name.Length);
        StoragePath.Parse(new string('é', 127)); // 254 bytes
        Assert.Throws<ValidationException>(() => StoragePath.Parse(new string('é', 128))); // 256 bytes
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData("/")]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("")]
    [InlineData("x\0")]
    [InlineData("line\nbreak")]
    public void NamesWithSlashesAndOtherHostilityAreRefused(string name)
    {
        var error = Assert.Throws<ValidationException>(() => StoragePath.CheckName(name, "file"));
        Assert.True(error.Errors.ToDictionary().ContainsKey("file"));
    }

    [Fact]
    public void ContainsKnowsAncestorsSegmentBySegment()
    {
        Assert.True(StoragePath.Parse("a").Contains(StoragePath.Parse("a/b")));
        Assert.True(StoragePath.Parse("a").Contains(StoragePath.Parse("a")));
        Assert.False(StoragePath.Parse("a").Contains(StoragePath.Parse("ab")));
        Assert.True(StoragePath.Root.Contains(StoragePath.Parse("x")));
    }

    [Theory]
    [InlineData("/data/$USER", "alice", null, "/data/alice")]
    [InlineData("/home/$SSH_USER/rosetta/$USER/", "alice", "rosetta-demo", "/home/rosetta-demo/rosetta/alice")]
    public void VariablesAreSubstituted(string basePath, string user, string? sshUser, string expected) =>
        Assert.Equal(expected, StorageRules.Substitute(basePath, user, sshUser));

    [Theory]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("a/b")]
    public void UserNamesThatAreNotOneSegmentAreNeverSubstituted(string user) =>
        Assert.Throws<ValidationException>(() => StorageRules.Substitute("/data/$USER", user, null));

    [Theory]
    [InlineData("relative/path", "/storages/x")]
    [InlineData("/data/../etc", "/storages/x")]
    [InlineData("/data/a:b", "/storages/x")]
    [InlineData("/data/$HOME", "/storages/x")]
    [InlineData("/data", "/etc/x")]
    [InlineData("/data", "/")]
    [InlineData("/data", "/storages/../x")]
    [InlineData("/data", "/storages/a b")]
    public void StoragePathsWithTheWrongShapeAreRefused(string basePath, string bindPath)
    {
        var errors = new ValidationErrors();
        StorageRules.BasePath(errors, basePath, Rosetta.Core.Domain.StorageKind.Local);
        StorageRules.BindPath(errors, bindPath);
        Assert.False(errors.IsValid);
    }

    [Theory]
    [InlineData("$HOME", Rosetta.Core.Domain.StorageKind.Sftp, null)]
    [InlineData("$HOME/data/$USER", Rosetta.Core.Domain.StorageKind.Sftp, null)]
    [InlineData("$HOME", Rosetta.Core.Domain.StorageKind.Local, "$HOME exists only for sftp storages")]
    [InlineData("/data/$HOME", Rosetta.Core.Domain.StorageKind.Sftp, "can hold $HOME only at its start")]
    [InlineData("$HOME/a/$HOME", Rosetta.Core.Domain.StorageKind.Sftp, "can hold $HOME only at its start")]
    [InlineData("$HOMEDIR/a", Rosetta.Core.Domain.StorageKind.Sftp, "must be an absolute path (starting with '/'), or for sftp one starting with $HOME")]
    [InlineData("$HOME/../etc", Rosetta.Core.Domain.StorageKind.Sftp, "cannot contain '.' or '..' segments")]
    [InlineData("$HOME//data", Rosetta.Core.Domain.StorageKind.Sftp, "cannot contain '//'")]
    [InlineData("/data//$USER", Rosetta.Core.Domain.StorageKind.Local, "cannot contain '//'")]
    [InlineData("/data/$USER/", Rosetta.Core.Domain.StorageKind.Local, null)]
    public void HomeStandsOnlyAtTheStartOfAnSftpPath(string basePath, Rosetta.Core.Domain.StorageKind kind, string? problem)
    {
        var errors = new ValidationErrors();
        StorageRules.BasePath(errors, basePath, kind);
        if (problem is null) Assert.True(errors.IsValid, string.Join("; ", errors.ToDictionary().SelectMany(e => e.Value)));
        else Assert.Contains(problem, Assert.Single(errors.ToDictionary()["basePath"]));
    }

    [Theory]
    [InlineData("$HOME", "/home/bob", "/home/bob")]
    [InlineData("$HOME/", "/home/bob/", "/home/bob")]
    [InlineData("$HOME/rosetta/$USER", "/home/bob", "/home/bob/rosetta/alice")]
    [InlineData("$HOME/$SSH_USER", "/srv/$USER", "/srv/$USER/bob")] // the host's answer is taken as it is
    public void HomeIsTheHostsAnswer(string basePath, string home, string expected) =>
        Assert.Equal(expected, StorageRules.Substitute(basePath, "alice", "bob", home));

    [Theory]
    [InlineData("/home/bob", null)]
    [InlineData("/", "the whole host")]
    [InlineData("", "not an absolute path")]
    [InlineData("home/bob", "not an absolute path")]
    [InlineData("/home/b:ob", "bind syntax")]
    [InlineData("/home/b,ob", "bind syntax")]
    [InlineData("/home/b\nob", "bind syntax")]
    [InlineData("/home/../root", "'.' or '..' segments")]
    public void AHomeTheEnginesCannotBindIsRefused(string home, string? problem)
    {
        if (problem is null) Assert.Null(StorageRules.HomeProblem(home));
        else Assert.Contains(problem, StorageRules.HomeProblem(home));
    }
}
