using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Rosetta.App.Proxy;
using Rosetta.Core.Domain;

namespace Rosetta.Tests.Unit;

/// <summary>Per-task host names: the configuration's shape, which hosts are task hosts, and the paths the software gets.</summary>
public sealed class TaskHostNamesTests
{
    private const string Id = "0123456789abcdef";

    private static TaskHostNames Names(string? pattern, string? publicUrl = null) => new(new ConfigurationBuilder()
        .AddInMemoryCollection(new Dictionary<string, string?> { [TaskHostNames.ConfigurationKey] = pattern, ["Rosetta:PublicUrl"] = publicUrl })
        .Build());

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void EmptyMeansPathMode(string? pattern)
    {
        var names = Names(pattern);
        Assert.False(names.Enabled);
        Assert.False(names.TryMatch(new HostString($"{Id}.tasks.example.org"), out _));
    }

    [Theory]
    [InlineData("tasks.example.org")]
    [InlineData("{id}tasks.example.org")]
    [InlineData("tasks.{id}.example.org")]
    [InlineData("{id}.{id}.example.org")]
    [InlineData("{id}.tasks.example.org:99999")]
    [InlineData("{id}.bad host.org")]
    [InlineData("{id}.org")]
    public void MalformedPatternsAreRefusedAtStart(string pattern) =>
        Assert.Contains(TaskHostNames.ConfigurationKey, Assert.Throws<InvalidOperationException>(() => Names(pattern)).Message);

    [Fact]
    public void APublicUrlThatIsNoUrlIsRefusedOnlyWhenTaskHostsNeedIt()
    {
        Assert.False(Names(null, "not a url").Enabled);
        Assert.Contains("Rosetta:PublicUrl", Assert.Throws<InvalidOperationException>(() => Names("{id}.tasks.example.org", "not a url")).Message);
    }

    [Theory]
    [InlineData(Id + ".tasks.example.org", true)]
    [InlineData("0123456789ABCDEF.Tasks.Example.Org:8443", true)] // host names are case-insensitive; ports are not compared
    [InlineData("tasks.example.org", false)]
    [InlineData("x" + Id + ".tasks.example.org", false)]
    [InlineData("a." + Id + ".tasks.example.org", false)]
    [InlineData(Id + ".tasks.example.org.evil.com", false)]
    [InlineData(Id + ".othertasks.example.org", false)]
    [InlineData("rosetta.example.org", false)]
    public void OnlyWellFormedTaskIdsUnderTheSuffixAreTaskHosts(string host, bool match)
    {
        Assert.Equal(match, Names("{id}.tasks.example.org").TryMatch(new HostString(host), out var taskId));
        if (match) Assert.Equal(Id, taskId);
    }

    [Theory]
    [InlineData(Id + ".tasks.example.org", true)]
    [InlineData("login.tasks.example.org", true)] // no task: answered 404, not with the dashboard
    [InlineData("a." + Id + ".Tasks.Example.org", true)]
    [InlineData("tasks.example.org", false)]
    [InlineData("rosetta.example.org", false)]
    [InlineData("evil-tasks.example.org", false)]
    public void EveryNameUnderTheSuffixIsTheTasksDomain(string host, bool under) =>
        Assert.Equal(under, Names("{id}.tasks.example.org").IsUnderTaskDomain(new HostString(host)));

    [Fact]
    public void ADashboardUnderTheTaskHostsDomainIsRefusedAtStart() =>
        Assert.Contains("Rosetta:PublicUrl", Assert.Throws<InvalidOperationException>(() => Names("{id}.tasks.example.org", "https://rosetta.tasks.example.org")).Message);

    [Fact]
    public void OriginsFollowThePublicUrlElseTheDashboardRequest()
    {
        var request = new DefaultHttpContext().Request;
        request.Scheme = "http";
        request.Host = new HostString("127.0.0.1", 8080);
        Assert.Equal($"http://{Id}.tasks.localhost:8080", Names("{id}.tasks.localhost").OriginOf(Id, request));
        Assert.Equal("http://127.0.0.1:8080", Names("{id}.tasks.localhost").DashboardOrigin(request));
        Assert.Null(Names("{id}.tasks.localhost").DashboardEntry(Id, request));

        var published = Names("{id}.tasks.example.org", "https://rosetta.example.org");
        Assert.Equal($"https://{Id}.tasks.example.org", published.OriginOf(Id, request));
        Assert.Equal("https://rosetta.example.org", published.DashboardOrigin(request));
        request.Path = "/tree";
        Assert.Equal($"https://rosetta.example.org/t/{Id}/tree", published.DashboardEntry(Id, request));
        Assert.Equal($"https://{Id}.tasks.example.org:9443", Names("{id}.tasks.example.org:9443", "https://rosetta.example.org").OriginOf(Id, request));
    }

    [Theory]
    // Software served at "/": path mode strips the prefix; a task host has none.
    [InlineData(false, false, "/t/" + Id + "/a/b", "/a/b")]
    [InlineData(false, false, "/t/" + Id, "/")]
    [InlineData(false, true, "/a/b", "/a/b")]
    [InlineData(false, true, "/t/" + Id + "/a", "/t/" + Id + "/a")]
    [InlineData(false, false, "/t/" + Id + "/api/queues/%2F/q%C0%AF", "/api/queues/%2F/q%C0%AF")] // as encoded
    [InlineData(false, false, "/t/" + Id + "x/a", "/t/" + Id + "x/a")] // not its prefix
    // Software served under its prefix: it always gets /t/{id}/…, added on a task host unless already there.
    [InlineData(true, false, "/t/" + Id + "/a", "/t/" + Id + "/a")]
    [InlineData(true, true, "/", "/t/" + Id + "/")]
    [InlineData(true, true, "/a/b", "/t/" + Id + "/a/b")]
    [InlineData(true, true, "/t/" + Id + "/a", "/t/" + Id + "/a")]
    public void TheSoftwareGetsThePathItExpects(bool keepsPrefix, bool onTaskHost, string requested, string upstream)
    {
        var task = new TaskRecord { Id = Id, OwnerId = "u", Name = "t", SoftwareId = "s", ComputingId = "local", ProxyKeepsPrefix = keepsPrefix };
        Assert.Equal(upstream, TaskForwarding.UpstreamPath(task, requested, onTaskHost));
    }
}
