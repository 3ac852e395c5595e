namespace Rosetta.Tests.Infrastructure;

/// <summary>A clock tests move forward (registered as the app's TimeProvider) to expire links, codes and sessions without waiting.</summary>
public sealed class MovableClock : TimeProvider
{
    public TimeSpan Offset { get; set; }
    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Offset;
}
