using Rosetta.Core.Backends;
using Rosetta.Core.Backends.Cli;
using Rosetta.Core.Domain;
using Rosetta.Core.Remote;
using Rosetta.Core.Storages;

namespace Rosetta.Tests.Unit;

/// <summary>The engine command lines for remote hosts: quoted, and never carrying the environment.</summary>
public sealed class ContainerCliTests
{
    private static readonly ContainerSpec Spec = new()
    {
        Name = "rosetta-0123456789abcdef",
        Image = "registry.example.org:5000/team/app:1.0",
        InterfacePort = 8888,
        Env = new Dictionary<string, string> { ["JUPYTER_TOKEN"] = "s3cret-token-value", ["NOTE"] = "it's $(hostile)" },
        Labels = new Dictionary<string, string> { [ContainerLabels.Task] = "0123456789abcdef", [ContainerLabels.Instance] = "inst" },
        Cpus = 1.5,
        MemoryBytes = 512L << 20,
    };

    private static readonly TaskFileOwner TaskUser = new(1000, 1000);

    [Fact]
    public void RunPublishesOnTheHostsLoopbackWithLabelsAndLimitsAndReadsTheEnvironmentFromStandardInput()
    {
        var run = new ContainerCli(ContainerEngineKind.Docker).Run(Spec, TaskUser, "");
        Assert.Equal("docker run -d --name rosetta-0123456789abcdef --env-file /dev/stdin -p 127.0.0.1::8888 " +
            "--label rosetta.task=0123456789abcdef --label rosetta.instance=inst --cpus 1.5 --memory 536870912 " +
            "registry.example.org:5000/team/app:1.0", run);
        // Secrets and other values never appear on the remote command line (a process list shows it).
        Assert.DoesNotContain("s3cret", run);
        Assert.DoesNotContain("hostile", run);
    }

    [Fact]
    public void PodmanGetsTheSameCommandsUnderItsOwnName()
    {
        var cli = new ContainerCli(ContainerEngineKind.Podman);
        Assert.StartsWith("podman run -d ", cli.Run(Spec, TaskUser, ""));
        Assert.Equal("podman logs --timestamps --tail 10 --follow abc", cli.Logs("abc", 10, follow: true));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ContainerCli(ContainerEngineKind.Apptainer));
    }

    [Fact]
    public void HostileImageNamesAndIdsAreQuoted()
    {
        var cli = new ContainerCli(ContainerEngineKind.Docker);
        Assert.Equal("docker pull 'img;touch /tmp/x'", cli.Pull("img;touch /tmp/x"));
        Assert.Equal("docker stop -t 5 '$(id)'", cli.Stop("$(id)", 5));
        Assert.Equal("docker rm -f 'a b'", cli.Remove("a b"));
        Assert.Contains("--filter 'label=rosetta.instance=x y'", cli.InspectAll("x y"));
    }

    [Fact]
    public void TheEnvFileHasOneLiteralLinePerVariableAndIsNeverEmpty()
    {
        var file = ContainerCli.EnvFile(Spec.Env);
        Assert.Equal("# environment of a Rosetta task\nJUPYTER_TOKEN=s3cret-token-value\nNOTE=it's $(hostile)\n", file);
        Assert.NotEmpty(ContainerCli.EnvFile(new Dictionary<string, string>()));
        var error = Assert.Throws<ArgumentException>(() => ContainerCli.EnvFile(new Dictionary<string, string> { ["TWO"] = "a\nb" }));
        Assert.Contains("TWO", error.Message);
    }

    /// <summary>Apptainer reads its env file as shell assignments: sourced by a real shell, every value comes back as given.</summary>
    [Fact]
    public async Task TheShellQuotedEnvFileGivesBackEveryValueExactlyWhenAShellReadsIt()
    {
        var env = new Dictionary<string, string>
        {
            ["SPACES"] = "hello world", ["QUOTES"] = "it's \"quoted\"", ["DOLLAR"] = "$HOME $(touch /tmp/pwned-env) `id`",
            ["HASH"] = "a # not a comment", ["BACKSLASH"] = "c:\\dir\\", ["EMPTY"] = "", ["SEMI"] = "x; exit 3",
        };
        var file = Path.Combine(Path.GetTempPath(), $"rosetta-env-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(file, ContainerCli.EnvFile(env, shellQuoted: true));
        try
        {
            foreach (var (name, value) in env)
            {
                var shell = new System.Diagnostics.ProcessStartInfo("sh", ["-c", $". \"$0\" && printf '%s' \"${name}\"", file]) { RedirectStandardOutput = true };
                using var process = System.Diagnostics.Process.Start(shell)!;
                var output = await process.StandardOutput.ReadToEndAsync();
                await process.WaitForExitAsync();
                Assert.Equal(0, process.ExitCode);
                Assert.Equal(value, output);
            }
            Assert.False(File.Exists("/tmp/pwned-env"));
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static ContainerSpec WithBinds(params BindMount[] binds) => Spec with { Binds = binds };

    [Fact]
    public void OnlyDockersReadWriteFoldersAreGrantedAndPodmanGetsKeepIdInstead()
    {
        var spec = WithBinds(new BindMount("/data/rw", "/storages/rw", false), new BindMount("/data/ro", "/storages/ro", true));
        Assert.Equal(["/data/rw"], ContainerCli.FoldersToGrant(ContainerEngineKind.Docker, spec, TaskUser));
        Assert.Empty(ContainerCli.FoldersToGrant(ContainerEngineKind.Docker, spec, TaskFileOwner.Unchanged));
        // Rootless podman: the host's uid 1000 is an unrelated account there; Apptainer runs as the login.
        Assert.Empty(ContainerCli.FoldersToGrant(ContainerEngineKind.Podman, spec, TaskUser));
        Assert.Empty(ContainerCli.FoldersToGrant(ContainerEngineKind.Apptainer, spec, TaskUser));

        // keep-id would run an image without USER as the keep-id user: its own user (root) goes along.
        Assert.Contains("--userns keep-id:uid=1000,gid=1000 -v /data/rw:/storages/rw -v /data/ro:/storages/ro:ro --user 0:0 ", new ContainerCli(ContainerEngineKind.Podman).Run(spec, TaskUser, ""));
        Assert.Contains(" --user jovyan:users registry", new ContainerCli(ContainerEngineKind.Podman).Run(spec, TaskUser, "jovyan:users"));
        Assert.DoesNotContain("--user", new ContainerCli(ContainerEngineKind.Docker).Run(spec, TaskUser, "1000"));
        Assert.DoesNotContain("--userns", new ContainerCli(ContainerEngineKind.Docker).Run(spec, TaskUser, ""));
        Assert.DoesNotContain("--userns", new ContainerCli(ContainerEngineKind.Podman).Run(spec, TaskFileOwner.Unchanged, ""));
        var readOnly = WithBinds(new BindMount("/data/ro", "/storages/ro", true));
        Assert.DoesNotContain("--userns", new ContainerCli(ContainerEngineKind.Podman).Run(readOnly, TaskUser, ""));
        Assert.Empty(ContainerCli.FoldersToGrant(ContainerEngineKind.Docker, readOnly, TaskUser));
    }

    [Fact]
    public void TheGrantQuotesEveryFolderAndTakesTheLoginsUidFromTheHost()
    {
        var grant = ContainerCli.GrantTaskAccess(["/data/it's $(touch pwned)", "-rf"], new TaskFileOwner(1234, 99));
        Assert.StartsWith(
            "(command -v setfacl >/dev/null 2>&1 || exit 3; login=$(id -u) || exit 1; " +
            "uid=1234; if docker info --format '{{json .SecurityOptions}}' 2>/dev/null | grep -q 'name=rootless'; then " +
            "first=$(awk -F: -v name=\"$(id -un)\" -v id=\"$login\" '$1 == name || $1 == id { print $2; exit }' /etc/subuid); " +
            "[ -n \"$first\" ] || { echo \"docker is rootless but /etc/subuid has no range for $(id -un)\" >&2; exit 1; }; " +
            "uid=$((first + 1234 - 1)); fi; status=0; ", grant);
        Assert.Contains("for folder in '/data/it'\"'\"'s $(touch pwned)' -rf; do ", grant);
        // Granted on the folder's physical path, never following a link (-P); what it does with the home is tested on a real shell below.
        Assert.Contains("then setfacl -P -m \"u:$uid:rwX,d:u:$uid:rwX,d:u:$login:rwX\" -- \"$real\"; " +
            "else setfacl -R -P -m \"u:$uid:rwX,d:u:$uid:rwX,d:u:$login:rwX\" -- \"$real\"; fi || status=1; done; ", grant);
        Assert.EndsWith(" >&2; exit $status)", grant);
        // Under rootless docker, container root is the login itself.
        Assert.Contains("then uid=$login; fi;", ContainerCli.GrantTaskAccess(["/data"], new TaskFileOwner(0, 0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => ContainerCli.GrantTaskAccess(["/data"], TaskFileOwner.Unchanged));
    }

    /// <summary>
    /// The login's home, what holds it and its hidden folders (.ssh wherever it links to) get no ACL entry: the
    /// granted uid could add a key or a start-up line, and a home with one shows as group-writable, for which
    /// upstream sshd refuses the login's keys. Compared by physical path, so a link to the home is caught.
    /// </summary>
    [Fact]
    public async Task TheGrantLeavesTheLoginsHomeAndItsHiddenFoldersClosed()
    {
        var root = Directory.CreateTempSubdirectory("rosetta-acl-home-").FullName;
        try
        {
            var home = Directory.CreateDirectory(Path.Combine(root, "home", "login")).FullName;
            // .ssh a link elsewhere, as on hosts whose keys live on another disk.
            var keysElsewhere = Directory.CreateDirectory(Path.Combine(root, "keys", "login")).FullName;
            File.CreateSymbolicLink(Path.Combine(home, ".ssh"), keysElsewhere);
            var sshSub = Directory.CreateDirectory(Path.Combine(keysElsewhere, "sub")).FullName;
            var authorizedKeys = Path.Combine(keysElsewhere, "authorized_keys");
            await File.WriteAllTextAsync(authorizedKeys, "ssh-ed25519 AAAA login\n");
            var config = Directory.CreateDirectory(Path.Combine(home, ".config", "autostart")).FullName;
            var data = Directory.CreateDirectory(Path.Combine(home, "data")).FullName;
            var link = Path.Combine(root, "link-to-home");
            File.CreateSymbolicLink(link, home);
            var linkToData = Path.Combine(root, "link-to-data");
            File.CreateSymbolicLink(linkToData, data);
            // Closed: the home, above it, its hidden folders, .ssh where it links to, what holds that, and a link to the home.
            string[] closed = [home, Path.Combine(root, "home"), Path.Combine(home, ".ssh"), sshSub, Path.Combine(root, "keys"), config, link];

            var (status, _, error) = await ShAsync(ContainerCli.GrantTaskAccess([.. closed, linkToData], TaskUser), root, home: home);
            Assert.True(status == ContainerCli.HomeLeftClosedStatus, $"status {status}: {error}");
            Assert.Equal($"storage folders not opened to this task's user: {string.Join(", ", closed)}. The task writes there only if it runs as the login: " +
                "the login's home, the folders above it and its hidden folders such as .ssh are the login's alone (its SSH keys are there). " +
                "A storage in another folder of the home can be opened.", error.Trim());
            foreach (var folder in closed.Append(keysElsewhere).Append(authorizedKeys))
                Assert.DoesNotContain("user:1000:", (await ShAsync(ShellCommand.Join("getfacl", "-cEn", "--", folder), root)).Output);
            // A folder of the home is opened, through a link too, on the folder itself.
            Assert.Contains("default:user:1000:rwx", (await ShAsync(ShellCommand.Join("getfacl", "-cEn", "--", data), root)).Output);

            // A failed grant elsewhere is said first (its status, 1, wins), the closed folders after it.
            var failed = await ShAsync(ContainerCli.GrantTaskAccess([home, Path.Combine(root, "missing")], TaskUser), root, home: home);
            Assert.Equal(1, failed.Status);
            var lines = failed.Error.Trim().Split('\n');
            Assert.Contains("missing", lines[0]);
            Assert.StartsWith($"storage folders not opened to this task's user: {home}.", lines[^1]);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>The grant run by a real POSIX shell with the real setfacl (`./rosetta.sh infra` installs acl) on hostile folder names.</summary>
    [Fact]
    public async Task TheGrantGivesTheTaskAndTheLoginInheritedAccessWithoutRunningAnythingFromTheNames()
    {
        var root = Directory.CreateTempSubdirectory("rosetta-acl-").FullName;
        try
        {
            string[] folders = [Path.Combine(root, "it's $(touch pwned)"), Path.Combine(root, "-rf"), Path.Combine(root, "a b")];
            foreach (var folder in folders) Directory.CreateDirectory(Path.Combine(folder, "earlier"));
            await File.WriteAllTextAsync(Path.Combine(folders[2], "earlier", "upload.txt"), "uploaded before the first grant");

            var (status, _, error) = await ShAsync(ContainerCli.GrantTaskAccess(folders, TaskUser), root);
            Assert.True(status == 0, error);
            var login = (await ShAsync("id -u", root)).Output.Trim();
            foreach (var folder in folders)
            {
                var acl = (await ShAsync(ShellCommand.Join("getfacl", "-cEn", "--", folder), root)).Output;
                Assert.Contains("\nuser:1000:rwx\n", acl);
                Assert.Contains("default:user:1000:rwx", acl);
                Assert.Contains($"default:user:{login}:rwx", acl);
            }
            // The first grant reaches what the folder held already; what is created later inherits.
            Assert.Contains("user:1000:rw-", (await ShAsync(ShellCommand.Join("getfacl", "-cEn", "--", Path.Combine(folders[2], "earlier", "upload.txt")), root)).Output);
            Assert.False(File.Exists(Path.Combine(root, "pwned")));
            Assert.False(File.Exists("pwned"));

            // Granted again: only the folder itself, still fine.
            Assert.Equal(0, (await ShAsync(ContainerCli.GrantTaskAccess(folders, TaskUser), root)).Status);
            // A host without setfacl: the distinct status the backends turn into "install the acl package".
            Assert.Equal(ContainerCli.AclToolMissingStatus, (await ShAsync(ContainerCli.GrantTaskAccess(folders, TaskUser), root, path: "/nonexistent")).Status);

            // Rootless docker for a login without subordinate uids (this test's user has none): refused,
            // saying why, rather than a grant to the host account that happens to be uid 1000.
            var bin = Directory.CreateDirectory(Path.Combine(root, "rootless-bin")).FullName;
            await File.WriteAllTextAsync(Path.Combine(bin, "docker"), "#!/bin/sh\necho '[\"name=seccomp,profile=default\",\"name=rootless\"]'\n");
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(Path.Combine(bin, "docker"), (UnixFileMode)0b111_101_101);
            var fresh = Path.Combine(root, "fresh");
            Directory.CreateDirectory(fresh);
            var rootless = await ShAsync(ContainerCli.GrantTaskAccess([fresh], TaskUser), root, path: $"{bin}:/usr/bin:/bin");
            Assert.Equal(1, rootless.Status);
            Assert.Contains("docker is rootless but /etc/subuid has no range for", rootless.Error);
            Assert.DoesNotContain("user:1000:", (await ShAsync(ShellCommand.Join("getfacl", "-cEn", "--", fresh), root)).Output);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static async Task<(int Status, string Output, string Error)> ShAsync(string command, string directory, string? path = null, string? home = null)
    {
        var start = new System.Diagnostics.ProcessStartInfo("/bin/sh", ["-c", command])
        {
            WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        if (path is not null) start.Environment["PATH"] = path;
        if (home is not null) start.Environment["HOME"] = home;
        using var process = System.Diagnostics.Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await error);
    }
}
