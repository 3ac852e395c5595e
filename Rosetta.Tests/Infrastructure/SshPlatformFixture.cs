namespace Rosetta.Tests.Infrastructure;

/// <summary>
/// A platform whose computing resources include the demo SSH host as platform-wide <c>demo-ssh</c>
/// (as `./rosetta.sh demo` sets it up), logging in with a platform key authorised there.
/// </summary>
public sealed class SshPlatformFixture : IAsyncLifetime
{
    public const string DemoComputing = "demo-ssh";
    private DirectoryInfo? _keys;

    public RosettaAppFactory App { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await DockerEngine.EnsureAvailableAsync();
        App = new RosettaAppFactory(settings: await SettingsAsync(_keys = Directory.CreateTempSubdirectory("rosetta-ssh-keys")));
    }

    /// <summary>The configuration of a platform with demo-ssh, a platform key and fast polling.</summary>
    public static async Task<Dictionary<string, string?>> SettingsAsync(DirectoryInfo keys) => new()
    {
        ["Rosetta:Ssh:PlatformKeyPath"] = await DemoSshHost.TestKeyFileAsync(keys.FullName),
        ["Rosetta:Ssh:PollIntervalSeconds"] = "1",
        ["Rosetta:Ssh:StopGraceSeconds"] = "2",
        ["Rosetta:Demo:Ssh:Host"] = DemoSshHost.Host,
        ["Rosetta:Demo:Ssh:Port"] = DemoSshHost.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Rosetta:Demo:Ssh:Username"] = DemoSshHost.User,
    };

    public async Task DisposeAsync()
    {
        var instance = App.InstanceId;
        await App.DisposeAsync();
        await RosettaAppFactory.RemoveContainersAsync(instance);
        _keys?.Delete(recursive: true);
    }
}

[CollectionDefinition("ssh")]
public sealed class SshCollection : ICollectionFixture<SshPlatformFixture>;
