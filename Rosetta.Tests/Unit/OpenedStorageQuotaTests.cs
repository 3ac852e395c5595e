using Rosetta.Core.Domain;
using Rosetta.Core.Storages;

namespace Rosetta.Tests.Unit;

/// <summary>Copies hold their size of the quota while they are written, as uploads do: side by side they cannot together pass it.</summary>
public sealed class OpenedStorageQuotaTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("rosetta-quota").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void CopiesSideBySideCannotTogetherPassTheQuota()
    {
        const long size = 40L << 20;
        File.WriteAllBytes(Path.Combine(_root, "data.bin"), new byte[size]);
        const long quota = size * 5 / 2; // room for one copy more, not two
        var storage = new OpenedStorage(
            new Storage { Id = "quota", Name = "Quota", Kind = StorageKind.Local, ComputingId = "local", BasePath = _root, BindPath = "/storages/quota" },
            new ConfinedDirectory(_root), new StorageOptions { QuotaBytes = quota });
        var refused = 0;
        using var start = new Barrier(2);
        var copies = Enumerable.Range(0, 2).Select(i => new Thread(() =>
        {
            start.SignalAndWait();
            try
            {
                storage.Copy(StoragePath.Parse("data.bin"), StoragePath.Parse($"copy{i}.bin"));
            }
            catch (StorageLimitException)
            {
                Interlocked.Increment(ref refused);
            }
        })).ToList();
        copies.ForEach(t => t.Start());
        copies.ForEach(t => t.Join());

        Assert.Equal(1, refused);
        Assert.True(new ConfinedDirectory(_root).Usage() <= quota);
    }
}
