using Rosetta.Core.Domain;
using Rosetta.Core.Persistence;
using Rosetta.Core.Validation;

namespace Rosetta.Tests.Unit;

public sealed class TaskRequestValidatorTests
{
    private static readonly Software Jupyter = BundledCatalogue.Software().Single(s => s.Id == "jupyter");
    private static readonly ComputingResource Local = BundledCatalogue.LocalComputing();
    private static readonly ComputingCapacity TwoCores = new(2, 4L << 30);

    private static ValidationErrors Validate(TaskOptions options, ComputingResource? computing = null)
    {
        var errors = new ValidationErrors();
        TaskRequestValidator.ValidateOptions(errors, options, Jupyter, computing ?? Local, TwoCores);
        return errors;
    }

    [Fact]
    public void SensibleOptionsPass() =>
        Assert.True(Validate(new TaskOptions { Cpus = 1.5, Memory = "1G", Walltime = "01:00:00", Env = new() { ["MY_VAR"] = "x y $(z) `w`" } }).IsValid);

    [Fact]
    public void LineBreaksInEnvironmentValuesAreRefusedOnlyWhereTheyCannotTravel()
    {
        var options = new TaskOptions { Env = new() { ["MULTI"] = "one\ntwo", ["CR"] = "a\rb" } };
        Assert.True(Validate(options).IsValid); // the local engine takes any value through its API
        var remote = new ComputingResource { Id = "h", Name = "My host", Kind = ComputingKind.Ssh, Host = "h", Username = "u" };
        var errors = Validate(options, remote).ToDictionary();
        Assert.Contains("line break", errors["options.env.MULTI"][0]);
        Assert.Contains("line break", errors["options.env.CR"][0]);
    }

    /// <summary>
    /// A value is measured in UTF-8 bytes: docker and podman read the env file that carries a remote task's environment
    /// with a 64 KiB line limit, and 25,000 CJK characters (75,000 bytes) passed a limit in characters, then failed the
    /// launch ("bufio.Scanner: token too long").
    /// </summary>
    [Fact]
    public void AnEnvironmentValueIsMeasuredInBytes()
    {
        Assert.True(Validate(new TaskOptions { Env = new() { ["MOST"] = new string('a', TextRules.MaxEnvValueBytes) } }).IsValid);
        var errors = Validate(new TaskOptions { Env = new() { ["CJK"] = new string('\u6F22', 25_000), ["ONE_MORE"] = new string('a', TextRules.MaxEnvValueBytes + 1) } }).ToDictionary();
        Assert.Equal(["is 75000 bytes long in UTF-8; use at most 32768."], errors["options.env.CJK"]);
        Assert.Equal(["is 32769 bytes long in UTF-8; use at most 32768."], errors["options.env.ONE_MORE"]);

        // And all together: nine values of the most each are more than a task or a catalogue entry may hold; seven are not.
        var nine = Enumerable.Range(0, 9).ToDictionary(i => $"V{i}", _ => new string('a', TextRules.MaxEnvValueBytes));
        Assert.Equal(["holds 294930 bytes in all (names and values, in UTF-8); at most 262144 are allowed."], Validate(new TaskOptions { Env = nine }).ToDictionary()["options.env"]);
        nine.Remove("V8");
        nine.Remove("V7");
        Assert.True(Validate(new TaskOptions { Env = nine }).IsValid);
    }

    /// <summary>A software's own fixed value with a line break failed the task after it was accepted (the env file cannot carry it).</summary>
    [Fact]
    public void ASoftwaresOwnMultiLineVariableIsRefusedWhereItCannotTravelUnlessTheTaskOverridesIt()
    {
        var software = new Software { Id = "app", Name = "App", Image = "app", InterfacePort = 80, Env = new() { ["BANNER"] = "one\ntwo" } };
        var remote = new ComputingResource { Id = "h", Name = "My host", Kind = ComputingKind.Ssh, Host = "h", Username = "u" };
        ValidationErrors Check(TaskOptions options, ComputingResource computing)
        {
            var errors = new ValidationErrors();
            TaskRequestValidator.ValidateOptions(errors, options, software, computing, TwoCores);
            return errors;
        }
        Assert.True(Check(new TaskOptions(), Local).IsValid);
        Assert.Contains("'App' sets BANNER to a value with a line break", Check(new TaskOptions(), remote).ToDictionary()["software"][0]);
        Assert.True(Check(new TaskOptions { Env = new() { ["BANNER"] = "one line" } }, remote).IsValid);
    }

    [Fact]
    public void LimitsAboveTheComputingCapacityAreRefusedWithTheCapacity()
    {
        var errors = Validate(new TaskOptions { Cpus = 3, Memory = "8G" }).ToDictionary();
        Assert.Contains("has 2", errors["options.cpus"][0]);
        Assert.Contains("4 GiB", errors["options.memory"][0]);
    }

    [Theory]
    [InlineData("lots", "memory", "is not a memory size")]
    [InlineData("99999999T", "memory", "is more memory than any machine has")]
    [InlineData("soon", "walltime", "is not a duration")]
    [InlineData("00:00:00", "walltime", "is zero")]
    [InlineData("01:75:00", "walltime", "minutes or seconds over 59")]
    [InlineData("1-30:00:00", "walltime", "more than 23 hours after the day")]
    public void AQuantityInTheRightNotationIsRefusedForWhatIsWrongWithIt(string text, string field, string expected)
    {
        var options = field == "memory" ? new TaskOptions { Memory = text } : new TaskOptions { Walltime = text };
        var errors = Validate(options).ToDictionary();
        Assert.Contains(expected, Assert.Single(errors[$"options.{field}"]));
    }

    [Fact]
    public void AnInfiniteNumberOfCoresIsTooLargeNotAskedOfTheResource()
    {
        var message = Assert.Single(Validate(new TaskOptions { Cpus = double.PositiveInfinity }).ToDictionary()["options.cpus"]);
        Assert.Equal("is too large to be a number of cores; write e.g. 2 or 0.5.", message);
    }

    [Fact]
    public void PlatformManagedVariablesCannotBeOverridden()
    {
        var errors = Validate(new TaskOptions { Env = new() { ["JUPYTER_TOKEN"] = "guessable", ["BASE_URL"] = "/", ["ROSETTA_STORAGES"] = "/etc" } }).ToDictionary();
        Assert.True(errors.ContainsKey("options.env.JUPYTER_TOKEN"));
        Assert.True(errors.ContainsKey("options.env.BASE_URL"));
        Assert.Equal(["is set by the platform for this software and cannot be overridden."], errors["options.env.ROSETTA_STORAGES"]); // it was dropped without a word

        var desktop = BundledCatalogue.Software().Single(s => s.Id == "desktop");
        var forDesktop = new ValidationErrors();
        TaskRequestValidator.ValidateOptions(forDesktop, new TaskOptions { Env = new() { ["VNC_VIEW_ONLY_PASSWORD"] = "known" } }, desktop, Local, TwoCores);
        Assert.True(forDesktop.ToDictionary().ContainsKey("options.env.VNC_VIEW_ONLY_PASSWORD"));
    }

    [Fact]
    public void SlurmOptionsAreRefusedOffSlurmAndCheckedOnIt()
    {
        Assert.True(Validate(new TaskOptions { Partition = "debug", Gpus = 1 }).ToDictionary().Keys.ToHashSet().SetEquals(["options.partition", "options.gpus"]));
        var slurm = new ComputingResource { Id = "c", Name = "Cluster", Kind = ComputingKind.Slurm };
        Assert.True(Validate(new TaskOptions { Partition = "debug", Account = "proj-1", Gpus = 1 }, slurm).IsValid);
        var errors = Validate(new TaskOptions { Partition = "debug; rm -rf /", Gpus = 65 }, slurm).ToDictionary();
        Assert.False(Validate(new TaskOptions { Partition = "debug\n" }, slurm).IsValid);
        Assert.True(errors.ContainsKey("options.partition") && errors.ContainsKey("options.gpus"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("9LIVES")]
    [InlineData("HAS SPACE")]
    [InlineData("A=B")]
    [InlineData("ÜMLAUT")]
    [InlineData("HOME\n")] // an env file line of its own: a bare name imports the remote shell's variable
    public void InvalidVariableNamesAreRefused(string name) =>
        Assert.False(Validate(new TaskOptions { Env = new() { [name] = "v" } }).IsValid);
}
