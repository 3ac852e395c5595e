namespace Rosetta.Tests.Infrastructure;

/// <summary>
/// A platform with the demo Slurm cluster as platform-wide <c>demo-slurm</c> (as `./rosetta.sh demo`
/// registers it): the demo sshd is its login host, the platform key logs in, and the cluster is polled every second.
/// </summary>
public sealed class SlurmPlatformFixture : IAsyncLifetime
{
    public const string DemoComputing = "demo-slurm";
    private DirectoryInfo? _keys;

    public RosettaAppFactory App { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await DockerEngine.EnsureAvailableAsync();
        await SlurmCluster.EnsureAvailableAsync();
        App = new RosettaAppFactory(settings: await SettingsAsync(_keys = Directory.CreateTempSubdirectory("rosetta-slurm-keys")));
    }

    /// <summary>The configuration of a platform with demo-slurm, a platform key and fast polling.</summary>
    public static async Task<Dictionary<string, string?>> SettingsAsync(DirectoryInfo keys) => new()
    {
        ["Rosetta:Ssh:PlatformKeyPath"] = await DemoSshHost.TestKeyFileAsync(keys.FullName),
        ["Rosetta:Slurm:PollIntervalSeconds"] = "1",
        ["Rosetta:Demo:Slurm:Host"] = DemoSshHost.Host,
        ["Rosetta:Demo:Slurm:Port"] = DemoSshHost.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Rosetta:Demo:Slurm:Username"] = DemoSshHost.User,
    };

    public async Task DisposeAsync()
    {
        var instance = App.InstanceId;
        await App.DisposeAsync();
        await RosettaAppFactory.RemoveContainersAsync(instance);
        _keys?.Delete(recursive: true);
    }
}

/// <summary>Slurm tests share one node: they run one after another.</summary>
[CollectionDefinition("slurm")]
public sealed class SlurmCollection : ICollectionFixture<SlurmPlatformFixture>;
