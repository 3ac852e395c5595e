using System.Net;
using System.Net.WebSockets;

namespace Rosetta.Tests.Infrastructure;

/// <summary>WebSockets held open through the proxy, to check that the platform cuts them when access ends.</summary>
public static class HeldWebSockets
{
    /// <summary>Opens a WebSocket with a cookie jar (a share link's) or an <c>Authorization</c> header (an API token).</summary>
    public static async Task<ClientWebSocket> OpenAsync(Uri uri, CookieContainer? cookies = null, string? authorization = null)
    {
        var socket = new ClientWebSocket();
        if (cookies is not null) socket.Options.Cookies = cookies;
        if (authorization is not null) socket.Options.SetRequestHeader("Authorization", authorization);
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        await socket.ConnectAsync(uri, CancellationToken.None);
        return socket;
    }

    /// <summary>The platform cuts the connection (whatever the interface sent before is read and dropped).</summary>
    public static async Task AssertEndsAsync(ClientWebSocket socket)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var buffer = new byte[64 * 1024];
        var ended = false;
        while (!ended && !timeout.IsCancellationRequested)
        {
            try
            {
                var result = await socket.ReceiveAsync(buffer, timeout.Token);
                ended = result.MessageType == WebSocketMessageType.Close;
            }
            catch (WebSocketException)
            {
                ended = true;
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested)
            {
            }
        }
        Assert.True(ended, "The WebSocket was still open 15 s after access to it ended.");
    }
}
