using System.Globalization;
using Rosetta.Core.Domain;
using Rosetta.Core.Remote;
using Rosetta.Core.Storages;

namespace Rosetta.Core.Backends.Cli;

/// <summary>
/// Command lines for a container engine's CLI (docker or podman) on a remote POSIX host. Every
/// argument goes through <see cref="ShellCommand"/>; the few shell constructs used here (a variable
/// holding container ids the engine printed) are fixed text, never user input.
/// </summary>
public sealed class ContainerCli(ContainerEngineKind engine)
{
    public ContainerEngineKind Engine { get; } = engine;

    public string Program { get; } = engine switch
    {
        ContainerEngineKind.Docker => "docker",
        ContainerEngineKind.Podman => "podman",
        _ => throw new ArgumentOutOfRangeException(nameof(engine), engine, "Only docker and podman run containers over SSH."),
    };

    /// <summary>
    /// <c>run -d</c> with the labels, limits and the interface port published on the remote loopback
    /// with an engine-chosen port. The environment is read from standard input
    /// (<c>--env-file /dev/stdin</c>, see <see cref="EnvFile"/>), so no value — the interface secret
    /// least of all — appears in a process list on the remote host. Prints the container id.
    /// </summary>
    /// <param name="imageUser">The image's own <c>USER</c> (<see cref="ContainerCliOutput.ParseImageUser"/>), kept under <see cref="NeedsKeepId"/>.</param>
    public string Run(ContainerSpec spec, TaskFileOwner storageUser, string imageUser)
    {
        var arguments = new List<string> { Program, "run", "-d", "--name", spec.Name, "--env-file", "/dev/stdin",
            "-p", $"127.0.0.1::{spec.InterfacePort.ToString(CultureInfo.InvariantCulture)}" };
        foreach (var (name, value) in spec.Labels) arguments.AddRange(["--label", $"{name}={value}"]);
        if (spec.Cpus is { } cpus) arguments.AddRange(["--cpus", cpus.ToString(CultureInfo.InvariantCulture)]);
        if (spec.MemoryBytes is { } memory) arguments.AddRange(["--memory", memory.ToString(CultureInfo.InvariantCulture)]);
        arguments.AddRange(StorageArguments(Engine, spec, storageUser));
        if (NeedsKeepId(Engine, spec, storageUser)) arguments.AddRange(["--user", UserUnderKeepId(imageUser)]);
        arguments.Add(spec.Image);
        return ShellCommand.Join(arguments);
    }

    /// <summary>
    /// The binds and, for rootless podman with a read-write storage, the user namespace that lets the
    /// image's user write them (see <see cref="NeedsKeepId"/>). Shared with the Slurm job script.
    /// </summary>
    public static IEnumerable<string> StorageArguments(ContainerEngineKind engine, ContainerSpec spec, TaskFileOwner storageUser)
    {
        if (NeedsKeepId(engine, spec, storageUser))
        {
            yield return "--userns";
            yield return $"keep-id:uid={storageUser.Uid.ToString(CultureInfo.InvariantCulture)},gid={storageUser.Gid.ToString(CultureInfo.InvariantCulture)}";
        }
        // Storage paths never hold ':' or ',' (StorageRules), so the short -v syntax cannot be misread.
        foreach (var bind in spec.Binds)
        {
            yield return "-v";
            yield return $"{bind.HostPath}:{bind.ContainerPath}{(bind.ReadOnly ? ":ro" : "")}";
        }
    }

    /// <summary>
    /// Rootless podman maps the SSH login to root inside the container, so the image's user (uid
    /// <see cref="TaskFileOwner.Uid"/>) sees the login's storage folders as someone else's. With
    /// <c>keep-id:uid=…,gid=…</c> (podman 4.3 or later) the login becomes that user inside: what it
    /// owns is the task's, and what the task writes is the login's (the file manager's). Only tasks
    /// with a read-write storage get it.
    /// </summary>
    /// <remarks>
    /// keep-id also makes the keep-id user the default for an image that names no <c>USER</c>, which
    /// would run an image meant to start as root (the bundled ssh image: it creates its user, uid
    /// 1000, at start) as uid 1000 and break it. So the image's own user goes along as <c>--user</c>
    /// (<see cref="UserUnderKeepId"/>; the Slurm script reads it on the node).
    /// </remarks>
    public static bool NeedsKeepId(ContainerEngineKind engine, ContainerSpec spec, TaskFileOwner storageUser) =>
        engine == ContainerEngineKind.Podman && storageUser.Uid >= 0 && spec.Binds.Any(b => !b.ReadOnly);

    /// <summary>The <c>--user</c> under keep-id: the image's own, root when it names none.</summary>
    public static string UserUnderKeepId(string imageUser) => string.IsNullOrEmpty(imageUser) ? "0:0" : imageUser;

    /// <summary>
    /// The environment in the engine's env-file format: one <c>NAME=value</c> per line, taken
    /// literally by docker and podman. Apptainer evaluates its env file as shell assignments
    /// (<paramref name="shellQuoted"/>): there a value is quoted, or a space would end it and a <c>$</c>
    /// expand on the node. A value cannot hold a line break here; <see cref="Validation.TaskRequestValidator"/>
    /// refuses those for remote resources before a launch.
    /// </summary>
    public static string EnvFile(IReadOnlyDictionary<string, string> env, bool shellQuoted = false)
    {
        // Never empty (a comment line is ignored by both engines): the file travels as standard input, which must end.
        var file = new System.Text.StringBuilder("# environment of a Rosetta task\n");
        foreach (var (name, value) in env)
        {
            if (value.AsSpan().IndexOfAny('\n', '\r') >= 0)
                throw new ArgumentException($"The value of {name} contains a line break, which an env file cannot carry.", nameof(env));
            file.Append(name).Append('=').Append(shellQuoted ? ShellCommand.Quote(value) : value).Append('\n');
        }
        return file.ToString();
    }

    /// <summary>Creates the host folders of a task's binds, so the engine never makes them (as root, or not at all).</summary>
    public static string CreateFolders(IEnumerable<string> folders) => ShellCommand.Join(["mkdir", "-p", "--", .. folders]);

    /// <summary>The exit status of <see cref="GrantTaskAccess"/> when the host has no setfacl (Debian's package: acl).</summary>
    public const int AclToolMissingStatus = 3;

    /// <summary>
    /// The exit status of <see cref="GrantTaskAccess"/> when every grant it made succeeded but it left a folder
    /// closed because it is the login's home, a folder above it or one of its hidden folders; standard error
    /// ends with a sentence naming them, for the task's status.
    /// </summary>
    public const int HomeLeftClosedStatus = 4;

    /// <summary>
    /// Docker on an SSH host or Slurm node: the storage folders are the SSH login's, the image runs
    /// as <paramref name="taskUser"/> (the same uid on the host under rootful docker, a subordinate
    /// uid of the login under rootless docker: see <see cref="HostUidOfTaskUser"/>), so the task could
    /// only read them. POSIX ACLs grant that uid rwX on each folder (access entries) and make everything
    /// created inside inherit rwX for both the task's uid and the login's (default entries): files
    /// the task writes stay writable and deletable by the login (the file manager over SFTP), and
    /// files the file manager uploads are writable by the task. Under a default ACL the umask does
    /// not apply; the creating call's mode still caps the entries (the ACL mask), so a file a
    /// program makes 0600 stays its owner's alone. The first grant on a folder is recursive, so what
    /// it already holds (earlier uploads) is included; later launches re-apply to the folder only,
    /// since its contents inherit. Runs in a subshell: exit 0 when granted,
    /// <see cref="AclToolMissingStatus"/> without setfacl, 1 when a folder refused (the file
    /// system lacks ACLs, or the folder is not the login's; the reason is on standard error), or
    /// <see cref="HomeLeftClosedStatus"/>. The login's home, the folders above it and its hidden folders
    /// (<c>.ssh</c>, wherever it links to, <c>.config</c>, <c>.local</c>…) get no grant: whoever holds the granted
    /// uid (under rootful docker, the host account with that number) could add a key to <c>authorized_keys</c>
    /// or a line to a start-up file and act as the login; and with an ACL entry the home's group bits show
    /// the ACL's mask (rwx), for which upstream sshd (StrictModes) refuses every key of the login, the
    /// platform's own included (Debian's sshd lets a private group pass). Compared by physical path, so a
    /// storage reached through a link to the home is caught too, and granted on that path with <c>-P</c>.
    /// </summary>
    /// <remarks>
    /// Only for docker: rootless podman uses <see cref="NeedsKeepId"/> instead (there the host's uid
    /// 1000 is an unrelated account that must get nothing), and Apptainer runs as the login already.
    /// The login's uid comes from <c>id -u</c> on the host itself; the folders are quoted.
    /// </remarks>
    public static string GrantTaskAccess(IEnumerable<string> folders, TaskFileOwner taskUser)
    {
        if (taskUser.Uid < 0) throw new ArgumentOutOfRangeException(nameof(taskUser), "Files are left as created (Rosetta:Storage:OwnerUid = -1): there is nobody to grant access to.");
        const string entries = "\"u:$uid:rwX,d:u:$uid:rwX,d:u:$login:rwX\"";
        var list = string.Join(' ', folders.Select(ShellCommand.Quote));
        // A folder left closed is named after the loop, so a failed grant's own message comes first on standard error.
        const string leftClosed = "{ closed=\"$closed$folder, \"; [ $status = 0 ] && status=4; continue; }";
        return $"(command -v setfacl >/dev/null 2>&1 || exit {AclToolMissingStatus.ToString(CultureInfo.InvariantCulture)}; login=$(id -u) || exit 1; " +
               HostUidOfTaskUser(taskUser.Uid) + "status=0; closed=; " +
               "home=$(cd -P -- \"${HOME:-/nonexistent}\" 2>/dev/null && pwd -P) || home=/nonexistent; home=${home%/}; " +
               "keys=$(cd -P -- \"$home/.ssh\" 2>/dev/null && pwd -P) || keys=$home/.ssh; " +
               $"for folder in {list}; do " +
               "real=$(cd -P -- \"$folder\" 2>/dev/null && pwd -P) || real=$folder; " +
               $"case \"$home/\" in \"${{real%/}}\"/*) {leftClosed};; esac; " +
               $"case \"$keys/\" in \"${{real%/}}\"/*) {leftClosed};; esac; " + // holds .ssh where it links to
               $"case \"$real/\" in \"$home/.\"*|\"$keys/\"*) {leftClosed};; esac; " +
               // The physical path, not the name: a folder swapped for a link since is skipped (-P), never followed.
               $"if getfacl -cEnP -- \"$real\" 2>/dev/null | grep -qx \"default:user:$uid:rwx\"; then setfacl -P -m {entries} -- \"$real\"; " +
               $"else setfacl -R -P -m {entries} -- \"$real\"; fi || status=1; done; " +
               "[ -z \"$closed\" ] || echo \"storage folders not opened to this task's user: ${closed%, }. The task writes there only if it runs as the login: " +
               "the login's home, the folders above it and its hidden folders such as .ssh are the login's alone (its SSH keys are there). " +
               "A storage in another folder of the home can be opened.\" >&2; exit $status)";
    }

    /// <summary>
    /// Sets <c>uid</c> to the host uid the task's user writes files as. Rootful docker: the same
    /// number. Rootless docker (its <c>docker info</c> says <c>name=rootless</c>): container uid 0 is
    /// the login and uid N ≥ 1 is the login's first subordinate uid + N − 1 (/etc/subuid), so the
    /// grant goes to that uid, and never to the unrelated host account that has the same number.
    /// </summary>
    private static string HostUidOfTaskUser(int taskUid)
    {
        var n = taskUid.ToString(CultureInfo.InvariantCulture);
        var mapped = taskUid == 0 ? "uid=$login" :
            "first=$(awk -F: -v name=\"$(id -un)\" -v id=\"$login\" '$1 == name || $1 == id { print $2; exit }' /etc/subuid); " +
            "[ -n \"$first\" ] || { echo \"docker is rootless but /etc/subuid has no range for $(id -un)\" >&2; exit 1; }; " +
            $"uid=$((first + {n} - 1))";
        return $"uid={n}; if docker info --format '{{{{json .SecurityOptions}}}}' 2>/dev/null | grep -q 'name=rootless'; then {mapped}; fi; ";
    }

    /// <summary>The read-write binds' folders that <see cref="GrantTaskAccess"/> must open to the task, if the engine needs it at all.</summary>
    public static IReadOnlyList<string> FoldersToGrant(ContainerEngineKind engine, ContainerSpec spec, TaskFileOwner taskUser) =>
        engine == ContainerEngineKind.Docker && taskUser.Uid >= 0
            ? spec.Binds.Where(b => !b.ReadOnly).Select(b => b.HostPath).Distinct(StringComparer.Ordinal).ToList()
            : [];

    /// <summary>The image's metadata as a JSON array (exit status 1 when the image is not on the host).</summary>
    public string InspectImage(string image) => ShellCommand.Join(Program, "image", "inspect", image);

    public string Pull(string image) => ShellCommand.Join(Program, "pull", image);

    public string Inspect(string container) => ShellCommand.Join(Program, "inspect", container);

    /// <summary>
    /// Every container of the instance, inspected, as one JSON array: one command per host however many
    /// tasks run there. The container ids come from the engine itself (hexadecimal).
    /// </summary>
    public string InspectAll(string instanceId)
    {
        var list = ShellCommand.Join(Program, "ps", "-aq", "--no-trunc", "--filter", $"label={ContainerLabels.Instance}={instanceId}");
        var inspect = $"{ShellCommand.Quote(Program)} inspect $ids";
        // A container removed between the listing and the inspection ("No such object") fails the whole
        // inspect: list again (twice at most) rather than report the host unusable; the last try's error stands.
        return $"for try in 1 2; do ids=$({list}) || exit $?; [ -n \"$ids\" ] || {{ echo '[]'; exit 0; }}; " +
               $"if out=$({inspect} 2>/dev/null); then printf '%s\\n' \"$out\"; exit 0; fi; done; " +
               $"ids=$({list}) && if [ -n \"$ids\" ]; then {inspect}; else echo '[]'; fi";
    }

    public string Stop(string container, int graceSeconds) =>
        ShellCommand.Join(Program, "stop", "-t", graceSeconds.ToString(CultureInfo.InvariantCulture), container);

    public string Remove(string container) => ShellCommand.Join(Program, "rm", "-f", container);

    public string Logs(string container, int? tail, bool follow)
    {
        var arguments = new List<string> { Program, "logs", "--timestamps" };
        if (tail is { } n) arguments.AddRange(["--tail", n.ToString(CultureInfo.InvariantCulture)]);
        if (follow) arguments.Add("--follow");
        arguments.Add(container);
        return ShellCommand.Join(arguments);
    }

    /// <summary>Engine version, CPUs and memory as JSON (the two engines name the fields differently).</summary>
    public string Info() => ShellCommand.Join(Program, "info", "--format", "{{json .}}");
}
