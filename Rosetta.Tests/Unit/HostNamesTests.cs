using Rosetta.Core.Validation;

namespace Rosetta.Tests.Unit;

public sealed class HostNamesTests
{
    [Theory]
    [InlineData("localhost")]
    [InlineData("login01.cluster.example.org")]
    [InlineData("127.0.0.1")]
    [InlineData("10.0.0.255")]
    [InlineData("0.0.0.0")]
    [InlineData("::1")]
    [InlineData("fe80::1")]
    [InlineData("2001:db8::8a2e:370:7334")]
    [InlineData("host-1.a1")]
    [InlineData("1host.example.org")]
    public void UsableHostsPass(string host) => Assert.Null(HostNames.Problem(host));

    [Theory]
    [InlineData("999.1.1.1", "four numbers from 0 to 255")]
    [InlineData("1.2.3", "four numbers from 0 to 255")]
    [InlineData("1.2.3.4.5", "four numbers from 0 to 255")]
    [InlineData("010.0.0.1", "four numbers from 0 to 255")]
    [InlineData("example.123", "four numbers from 0 to 255")]
    [InlineData("1.2.3.", "is not a host name")]
    [InlineData("[::1]", "without brackets")]
    [InlineData("::g", "is not a host name or IP address: a name has no ':'")]
    [InlineData("fe80::1%eth0", "cannot carry an IPv6 zone")]
    [InlineData("192.168.1.10:22", "the port goes in 'port'")]
    [InlineData("1:2", "the port goes in 'port'")]
    [InlineData("1:2:3", "not a valid IPv6")]
    [InlineData("cluster.example.org:22", "must be the host alone; the port goes in 'port'")]
    [InlineData("http://bad host", "without 'ssh://', 'http://' or a path")]
    [InlineData("ssh://cluster.example.org", "without 'ssh://', 'http://' or a path")]
    [InlineData("bad host;rm", "is not a host name")]
    [InlineData("-leading.example.org", "is not a host name")]
    [InlineData("under_score.example.org", "is not a host name")]
    [InlineData("a..b", "is not a host name")]
    [InlineData("ünïcode.example", "is not a host name")]
    public void UnusableHostsAreRefusedWithWhatToFix(string host, string expected) =>
        Assert.Contains(expected, HostNames.Problem(host));

    [Fact]
    public void OverlongNamesAreRefused()
    {
        var name = string.Join('.', Enumerable.Repeat(new string('a', 63), 4)); // 255 characters
        Assert.Contains("at most 253", HostNames.Problem(name));
        Assert.Contains("is not a host name", HostNames.Problem(new string('a', 64) + ".org"));
    }
}
