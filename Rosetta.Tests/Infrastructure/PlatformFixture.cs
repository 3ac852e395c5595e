namespace Rosetta.Tests.Infrastructure;

/// <summary>One running platform shared by the tests of the "platform" collection.</summary>
public sealed class PlatformFixture : IAsyncLifetime
{
    public RosettaAppFactory App { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await DockerEngine.EnsureAvailableAsync();
        App = new RosettaAppFactory();
    }

    public async Task DisposeAsync()
    {
        var instance = App.InstanceId;
        await App.DisposeAsync();
        await RosettaAppFactory.RemoveContainersAsync(instance);
    }
}

[CollectionDefinition("platform")]
public sealed class PlatformCollection : ICollectionFixture<PlatformFixture>;
