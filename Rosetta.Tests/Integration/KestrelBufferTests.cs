using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Rosetta.Tests.Infrastructure;

namespace Rosetta.Tests.Integration;

/// <summary>
/// The platform's Kestrel receives a large body in pieces bigger than its own 4 KiB blocks
/// (<see cref="Rosetta.App.Hosting.LargeBlockMemoryPool"/>), which is what makes uploads fast.
/// A probe endpoint, added for this test only, reports the largest piece it was handed.
/// </summary>
public sealed class KestrelBufferTests
{
    private const string ProbePath = "/test-probe/largest-body-piece";

    [Fact]
    public async Task ARequestBodyArrivesInPiecesLargerThanKestrelsOwnBlocks()
    {
        await using var app = new RosettaAppFactory(services: s => s.AddTransient<IStartupFilter, LargestPieceProbe>());
        using var client = new HttpClient { BaseAddress = app.BaseAddress };

        var answer = await client.PutAsync(ProbePath, new ByteArrayContent(new byte[8 * 1024 * 1024]));

        answer.EnsureSuccessStatusCode();
        var largest = int.Parse(await answer.Content.ReadAsStringAsync());
        Assert.True(largest > 4096, $"the largest piece of an 8 MiB body was {largest} bytes");
    }

    /// <summary>
    /// The test host above registers the pool itself (see <see cref="RosettaAppFactory"/>), so this
    /// checks that the production host, built as Program builds it, hands Kestrel the same pool.
    /// </summary>
    [Fact]
    public async Task TheProductionHostGivesKestrelTheLargeBlocks()
    {
        var data = Directory.CreateTempSubdirectory("rosetta-host-").FullName;
        try
        {
            await using var host = Rosetta.App.Hosting.RosettaHost.Build(["--applicationName=Rosetta.App",
                $"--Rosetta:DataDirectory={data}", $"--ConnectionStrings:Rosetta=Data Source={Path.Combine(data, "rosetta.db")}"]);
            var factory = host.Services.GetRequiredService<Microsoft.AspNetCore.Connections.IMemoryPoolFactory<byte>>();
            using var pool = factory.Create();
            Assert.Equal(Rosetta.App.Hosting.LargeBlockMemoryPool.BlockSize, pool.MaxBufferSize);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    private sealed class LargestPieceProbe : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Map(ProbePath, probe => probe.Run(async context =>
            {
                long largest = 0;
                while (true)
                {
                    var read = await context.Request.BodyReader.ReadAsync();
                    foreach (var piece in read.Buffer) largest = Math.Max(largest, piece.Length);
                    context.Request.BodyReader.AdvanceTo(read.Buffer.End);
                    if (read.IsCompleted) break;
                }
                await context.Response.WriteAsync(largest.ToString());
            }));
            next(app);
        };
    }
}
