using Rosetta.Core.Validation;

namespace Rosetta.Tests.Unit;

public sealed class ResourceQuantitiesTests
{
    [Theory]
    [InlineData("512M", 512L << 20)]
    [InlineData("2G", 2L << 30)]
    [InlineData("2g", 2L << 30)]
    [InlineData("1.5G", 3L << 29)]
    [InlineData("2GiB", 2L << 30)]
    [InlineData("2GB", 2L << 30)]
    [InlineData("1024k", 1L << 20)]
    [InlineData("1048576", 1L << 20)]
    [InlineData(" 1T ", 1L << 40)]
    public void ParsesMemorySizes(string text, long expected)
    {
        Assert.True(ResourceQuantities.TryParseMemory(text, out var bytes));
        Assert.Equal(expected, bytes);
    }

    [Theory]
    [InlineData("")]
    [InlineData("lots")]
    [InlineData("-1G")]
    [InlineData("1X")]
    [InlineData("1 G B")]
    [InlineData("99999999999999999G")]
    [InlineData("1e9")]
    [InlineData("٢G")]
    public void RejectsWhatIsNotAMemorySize(string text) => Assert.False(ResourceQuantities.TryParseMemory(text, out _));

    [Theory]
    [InlineData("02:00:00", 0, 2, 0, 0)]
    [InlineData("0:05:00", 0, 0, 5, 0)]
    [InlineData("1-12:00:00", 1, 12, 0, 0)]
    [InlineData("100:00:00", 4, 4, 0, 0)]
    public void ParsesWalltimes(string text, int days, int hours, int minutes, int seconds)
    {
        Assert.True(ResourceQuantities.TryParseWalltime(text, out var walltime));
        Assert.Equal(new TimeSpan(days, hours, minutes, seconds), walltime);
    }

    [Theory]
    [InlineData("forever")]
    [InlineData("00:00:00")]
    [InlineData("01:60:00")]
    [InlineData("1-25:00:00")]
    [InlineData("12")]
    [InlineData("٠١:٠٠:٠٠")] // digits of another script: \d would take them and int.Parse throw
    [InlineData("０１:００:００")]
    [InlineData("01:00:00\n")] // passed to sbatch as typed
    [InlineData(" 01:00:00")]
    public void RejectsWhatIsNotAWalltime(string text) => Assert.False(ResourceQuantities.TryParseWalltime(text, out _));
}
