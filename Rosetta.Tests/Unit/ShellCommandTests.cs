using Rosetta.Core.Remote;

namespace Rosetta.Tests.Unit;

public sealed class ShellCommandTests
{
    [Theory]
    [InlineData("docker", "docker")]
    [InlineData("rosetta/hello:latest", "rosetta/hello:latest")]
    [InlineData("", "''")]
    [InlineData("two words", "'two words'")]
    [InlineData("it's", "'it'\"'\"'s'")]
    [InlineData("$(reboot)", "'$(reboot)'")]
    [InlineData("~", "'~'")]
    [InlineData("*", "'*'")]
    [InlineData("=ls", "'=ls'")] // zsh would put the path of ls there
    [InlineData("--user=1000", "--user=1000")]
    public void QuotesOnlyWhatAShellWouldInterpret(string argument, string expected) =>
        Assert.Equal(expected, ShellCommand.Quote(argument));

    [Fact]
    public void JoinsAnArgumentArray() =>
        Assert.Equal("docker run --label 'rosetta.task=a b' -e 'X=$(id)'", ShellCommand.Join("docker", "run", "--label", "rosetta.task=a b", "-e", "X=$(id)"));

    [Fact]
    public void RefusesNul() => Assert.Throws<ArgumentException>(() => ShellCommand.Quote("a\0b"));
}
