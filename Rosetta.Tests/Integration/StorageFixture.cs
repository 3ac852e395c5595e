using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Integration;

/// <summary>
/// A platform with small storage limits (uploads up to 200 kB, 300 kB per folder), so the limits
/// are reached with small files. File operations need no engine, but the platform starts with one.
/// </summary>
public sealed class StorageFixture : IAsyncLifetime
{
    public const long MaxUpload = 200_000;
    public const long Quota = 300_000;
    public RosettaAppFactory App { get; private set; } = null!;
    public string StorageRoot => Path.Combine(App.DataDirectory, "storage");

    public async Task InitializeAsync()
    {
        await DockerEngine.EnsureAvailableAsync();
        App = new RosettaAppFactory(settings: new Dictionary<string, string?>
        {
            ["Rosetta:Storage:MaxUploadBytes"] = MaxUpload.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Rosetta:Storage:QuotaBytes"] = Quota.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
    }

    public async Task DisposeAsync()
    {
        var instance = App.InstanceId;
        await App.DisposeAsync();
        await RosettaAppFactory.RemoveContainersAsync(instance);
    }
}
