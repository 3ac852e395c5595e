using System.Collections.Concurrent;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Renci.SshNet;
using Rosetta.Core.Domain;
using Rosetta.Core.Persistence;
using Rosetta.Core.Security;

namespace Rosetta.Core.Backends.Ssh;

/// <summary>
/// One <see cref="SshConnection"/> per computing resource and login identity, shared by all tasks
/// there. A user's own resource logs in with that user's key; a platform-wide resource with the
/// platform key (<see cref="SshOptions.PlatformKeyPath"/>). Host keys are pinned on the first
/// successful connection (unless given when the resource was added) and checked on every later one.
/// </summary>
public sealed class SshConnectionPool(
    IDbContextFactory<RosettaDbContext> dbFactory,
    UserKeyService userKeys,
    IOptions<SshOptions> options,
    ILoggerFactory loggers,
    TunnelAdmission admission) : IDisposable
{
    private readonly ConcurrentDictionary<string, SshConnection> _connections = new(StringComparer.Ordinal);
    private readonly SshOptions _options = options.Value;
    private readonly ILogger _logger = loggers.CreateLogger<SshConnection>();

    public SshOptions Options => _options;

    /// <summary>The shared connection for <paramref name="computing"/>; a resource whose address or login changed gets a new one.</summary>
    public SshConnection For(ComputingResource computing) =>
        _connections.GetOrAdd(Key(computing), _ => new SshConnection(computing,
            ct => CredentialsAsync(computing, ct), (fingerprint, ct) => PinAsync(computing.Id, fingerprint, ct), _options, _logger, admission));

    /// <summary>Closes the connection of a resource that was removed.</summary>
    public void Close(ComputingResource computing)
    {
        if (_connections.TryRemove(Key(computing), out var connection)) connection.Dispose();
    }

    /// <summary>Another host key was trusted for the resource: its connection, checked against the one before, is made again.</summary>
    public Task ReconnectUnderNewPinAsync(ComputingResource computing) =>
        _connections.TryGetValue(Key(computing), out var connection) ? connection.ReconnectUnderNewPinAsync(computing.HostKeyFingerprint) : Task.CompletedTask;

    /// <summary>Connections currently up (the benchmark checks that tasks on one host share one).</summary>
    public int ConnectedCount => _connections.Values.Count(c => c.IsConnected);

    private static string Key(ComputingResource c) => string.Join('\n', c.Id, c.Host, c.Port, c.Username, c.OwnerId ?? "(platform)");

    private async Task<SshCredentials> CredentialsAsync(ComputingResource computing, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        // Read afresh: the fingerprint pinned by an earlier connection, or cleared by an admin.
        var pinned = await db.Computing.Where(c => c.Id == computing.Id).Select(c => c.HostKeyFingerprint).FirstOrDefaultAsync(ct);
        string privateKey;
        if (computing.OwnerId is { } ownerId)
        {
            var userName = await db.Users.Where(u => u.Id == ownerId).Select(u => u.UserName).FirstOrDefaultAsync(ct)
                ?? throw new BackendUnavailableException($"The owner of computing resource '{computing.Name}' no longer exists.");
            privateKey = await userKeys.PrivateKeyAsync(ownerId, userName, ct);
        }
        else
        {
            privateKey = await PlatformKeyAsync(computing, ct);
        }
        return new SshCredentials(new PrivateKeyFile(new MemoryStream(Encoding.UTF8.GetBytes(privateKey))), pinned);
    }

    private async Task<string> PlatformKeyAsync(ComputingResource computing, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(_options.PlatformKeyPath))
            throw new BackendUnavailableException($"'{computing.Name}' is a platform-wide SSH resource, which logs in with the platform key, " +
                "and none is configured: set Rosetta:Ssh:PlatformKeyPath to an OpenSSH private key file.");
        try
        {
            return await File.ReadAllTextAsync(_options.PlatformKeyPath, ct);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BackendUnavailableException($"The platform SSH key {_options.PlatformKeyPath} cannot be read: {e.Message}", e);
        }
    }

    /// <summary>Trust on first use: records the fingerprint only if none is pinned yet; answers the one pinned now.</summary>
    private async Task<string?> PinAsync(string computingId, string fingerprint, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.Computing.Where(c => c.Id == computingId && c.HostKeyFingerprint == null)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.HostKeyFingerprint, fingerprint), ct);
        return await db.Computing.Where(c => c.Id == computingId).Select(c => c.HostKeyFingerprint).FirstOrDefaultAsync(ct);
    }

    public void Dispose()
    {
        foreach (var connection in _connections.Values) connection.Dispose();
        _connections.Clear();
        _logger.LogDebug("SSH connections closed");
    }
}
