// Ceilings for bench/storage.sh (see Ceilings.csproj):
//   http-sink PORT FILE          Kestrel on 127.0.0.1:PORT: PUT /upload reads the body, drops it and answers
//                                the byte count; GET /file sends FILE (as the platform's downloads do). Runs until killed.
//   sftp HOST PORT USER KEY LOCAL REMOTE [CIPHER]
//                                SSH.NET with the platform's cipher order (or only CIPHER, for A/B runs) and read size:
//                                UploadFile LOCAL → REMOTE, then DownloadFile REMOTE → /dev/null; prints
//                                MiB/s for each and the cipher agreed.
//   grant-command FOLDER         prints the shell command the platform runs on an SSH host before a docker task,
//                                giving uid 1000 write access to FOLDER (ContainerCli.GrantTaskAccess), for bench/acl-grant.sh.
using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Renci.SshNet;
using Rosetta.Core.Backends.Ssh;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
return args switch
{
    ["http-sink", var port, var file] => await HttpSinkAsync(int.Parse(port), file),
    ["sftp", var host, var port, var user, var key, var local, var remote] => Sftp(host, int.Parse(port), user, key, local, remote, null),
    ["sftp", var host, var port, var user, var key, var local, var remote, var cipher] => Sftp(host, int.Parse(port), user, key, local, remote, cipher),
    ["grant-command", var folder] => PrintGrantCommand(folder),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Ceilings http-sink PORT FILE | sftp HOST PORT USER KEY LOCAL REMOTE [CIPHER] | grant-command FOLDER");
    return 2;
}

static int PrintGrantCommand(string folder)
{
    Console.WriteLine(Rosetta.Core.Backends.Cli.ContainerCli.GrantTaskAccess([folder], new Rosetta.Core.Storages.TaskFileOwner(1000, 1000)));
    return 0;
}

static async Task<int> HttpSinkAsync(int port, string file)
{
    var builder = WebApplication.CreateSlimBuilder();
    builder.Logging.ClearProviders();
    // Kestrel's transport as the platform sets it up (RosettaHost).
    builder.Services.AddSingleton<Microsoft.AspNetCore.Connections.IMemoryPoolFactory<byte>, Rosetta.App.Hosting.LargeBlockMemoryPoolFactory>();
    builder.WebHost.ConfigureKestrel(k =>
    {
        k.Limits.MaxRequestBodySize = null;
        k.ListenLocalhost(port);
    });
    var app = builder.Build();
    app.MapPut("/upload", async (HttpRequest request) =>
    {
        long received = 0;
        while (true)
        {
            var read = await request.BodyReader.ReadAsync();
            received += read.Buffer.Length;
            request.BodyReader.AdvanceTo(read.Buffer.End);
            if (read.IsCompleted) return Results.Text(received.ToString());
        }
    });
    app.MapGet("/file", () => Results.File(file, "application/octet-stream"));
    await app.RunAsync();
    return 0;
}

static int Sftp(string host, int port, string user, string keyFile, string local, string remote, string? onlyCipher)
{
    var info = new Renci.SshNet.ConnectionInfo(host, port, user, new PrivateKeyAuthenticationMethod(user, new PrivateKeyFile(keyFile)));
    SshCiphers.PreferFastest(info);
    if (onlyCipher is not null)
        foreach (var other in info.Encryptions.Keys.Where(name => name != onlyCipher).ToList()) info.Encryptions.Remove(other);
    using var sftp = new SftpClient(info) { BufferSize = SshConnection.SftpBufferSize }; // as the platform's
    sftp.Connect();
    var mib = new FileInfo(local).Length / 1048576.0;
    var watch = Stopwatch.StartNew();
    using (var input = File.OpenRead(local)) sftp.UploadFile(input, remote);
    Console.WriteLine($"upload {mib / watch.Elapsed.TotalSeconds:F0} MiB/s {watch.Elapsed.TotalSeconds:F2}s");
    watch.Restart();
    using (var output = Stream.Null) sftp.DownloadFile(remote, output);
    Console.WriteLine($"download {mib / watch.Elapsed.TotalSeconds:F0} MiB/s {watch.Elapsed.TotalSeconds:F2}s");
    Console.WriteLine($"cipher {sftp.ConnectionInfo.CurrentClientEncryption}");
    sftp.DeleteFile(remote);
    return 0;
}
