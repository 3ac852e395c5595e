using Rosetta.Core.Domain;

namespace Rosetta.Core.Persistence;

/// <summary>The software and computing every installation starts with (images built from <c>images/</c>).</summary>
public static class BundledCatalogue
{
    public const string LocalComputingId = "local";

    public static IEnumerable<Software> Software() =>
    [
        new()
        {
            Id = "hello", Name = "Hello", Image = "rosetta/hello", InterfacePort = 8080,
            Description = "A tiny HTTP server that answers 'Hello from Rosetta'. Handy to try the platform.",
            PortEnv = "PORT",
        },
        new()
        {
            Id = "jupyter", Name = "Jupyter Notebook", Image = "rosetta/jupyter", InterfacePort = 8888,
            Description = "Jupyter Notebook with a Python 3 kernel.",
            PortEnv = "JUPYTER_PORT", SecretEnv = "JUPYTER_TOKEN", ProxyAuthorizationScheme = "token",
            BasePathEnv = "BASE_URL",
        },
        new()
        {
            Id = "desktop", Name = "Remote desktop", Image = "rosetta/desktop", InterfacePort = 8590,
            Description = "A Linux desktop in the browser through noVNC.",
            PortEnv = "BASE_PORT", SecretEnv = "VNC_PASSWORD", ProxyAuthorizationScheme = Domain.Software.VncAuthorization,
            ViewOnlySecretEnv = "VNC_VIEW_ONLY_PASSWORD",
        },
        new()
        {
            Id = "ssh", Name = "SSH server", Image = "rosetta/ssh", InterfacePort = 2222,
            InterfaceProtocol = InterfaceProtocol.Ssh,
            Description = "An OpenSSH server: log in with the task's password (shown on its page), or with your own key: set SSH_AUTHORIZED_KEYS to your public key when you start it.",
            PortEnv = "SSH_PORT", SecretEnv = "SSH_PASSWORD",
        },
    ];

    public static ComputingResource LocalComputing() => new()
    {
        Id = LocalComputingId, Name = "Local Docker engine", Kind = ComputingKind.Local,
        Engine = ContainerEngineKind.Docker,
    };
}
