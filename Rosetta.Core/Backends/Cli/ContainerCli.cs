using System.Globalization;
using Rosetta.Core.Domain;
using Rosetta.Core.Remote;

namespace Rosetta.Core.Backends.Cli;

/// <summary>
/// Command lines for a container engine's CLI (docker or podman) on a remote POSIX host. Every
/// argument goes through <see cref="ShellCommand"/>; the few shell constructs used here (a variable
/// holding container ids the engine printed) are fixed text, never user input.
/// </summary>
public sealed class ContainerCli(ContainerEngineKind engine)
{
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
    public string Run(ContainerSpec spec)
    {
        var arguments = new List<string> { Program, "run", "-d", "--name", spec.Name, "--env-file", "/dev/stdin",
            "-p", $"127.0.0.1::{spec.InterfacePort.ToString(CultureInfo.InvariantCulture)}" };
        foreach (var (name, value) in spec.Labels) arguments.AddRange(["--label", $"{name}={value}"]);
        if (spec.Cpus is { } cpus) arguments.AddRange(["--cpus", cpus.ToString(CultureInfo.InvariantCulture)]);
        if (spec.MemoryBytes is { } memory) arguments.AddRange(["--memory", memory.ToString(CultureInfo.InvariantCulture)]);
        // Storage paths never hold ':' or ',' (StorageRules), so the short -v syntax cannot be misread.
        foreach (var bind in spec.Binds) arguments.AddRange(["-v", $"{bind.HostPath}:{bind.ContainerPath}{(bind.ReadOnly ? ":ro" : "")}"]);
        arguments.Add(spec.Image);
        return ShellCommand.Join(arguments);
    }

    /// <summary>
    /// The environment in the engine's env-file format: one <c>NAME=value</c> per line, taken
    /// literally. A value cannot hold a line break here; <see cref="Validation.TaskRequestValidator"/>
    /// refuses those for remote resources before a launch.
    /// </summary>
    public static string EnvFile(IReadOnlyDictionary<string, string> env)
    {
        // Never empty (a comment line is ignored by both engines): the file travels as standard input, which must end.
        var file = new System.Text.StringBuilder("# environment of a Rosetta task\n");
        foreach (var (name, value) in env)
        {
            if (value.AsSpan().IndexOfAny('\n', '\r') >= 0)
                throw new ArgumentException($"The value of {name} contains a line break, which an env file cannot carry.", nameof(env));
            file.Append(name).Append('=').Append(value).Append('\n');
        }
        return file.ToString();
    }

    /// <summary>Creates the host folders of a task's binds, so the engine never makes them (as root, or not at all).</summary>
    public static string CreateFolders(IEnumerable<string> folders) => ShellCommand.Join(["mkdir", "-p", "--", .. folders]);

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
