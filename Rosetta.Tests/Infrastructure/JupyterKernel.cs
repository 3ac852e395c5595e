using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Rosetta.Tests.Infrastructure;

/// <summary>A minimal Jupyter client: starts a kernel through the proxy and runs code over its WebSocket channels.</summary>
public static class JupyterKernel
{
    /// <summary>Runs <paramref name="code"/> in a new kernel of task <paramref name="taskId"/> and returns what it printed first.</summary>
    public static async Task<string?> RunAsync(Uri platform, HttpClient client, string token, string taskId, string code) =>
        (string?)(await ExecuteAsync(platform, client, token, taskId, code)).FirstOrDefault(m => (string?)m["msg_type"] == "stream")?["content"]?["text"];

    /// <summary>
    /// Runs <paramref name="code"/> in a new kernel of task <paramref name="taskId"/> over the kernel's
    /// WebSocket through the proxy, and returns the messages it sent about it (stream, display_data,
    /// execute_result, error...) until the kernel is idle again.
    /// </summary>
    public static async Task<IReadOnlyList<JsonNode>> ExecuteAsync(Uri platform, HttpClient client, string token, string taskId, string code, int seconds = 30)
    {
        var kernel = await client.PostAsJsonAsync($"/t/{taskId}/api/kernels", new { name = "python3" });
        if (kernel.StatusCode != HttpStatusCode.Created)
            throw new InvalidOperationException($"Starting a kernel answered {(int)kernel.StatusCode}: {await kernel.Content.ReadAsStringAsync()}");
        var kernelId = (string)(await kernel.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;

        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");
        await socket.ConnectAsync(new Uri($"ws://{platform.Authority}/t/{taskId}/api/kernels/{kernelId}/channels"), CancellationToken.None);
        var msgId = Guid.NewGuid().ToString("N");
        var request = new JsonObject
        {
            ["header"] = new JsonObject { ["msg_id"] = msgId, ["username"] = "test", ["session"] = Guid.NewGuid().ToString("N"), ["msg_type"] = "execute_request", ["version"] = "5.3" },
            ["parent_header"] = new JsonObject(), ["metadata"] = new JsonObject(), ["buffers"] = new JsonArray(), ["channel"] = "shell",
            ["content"] = new JsonObject { ["code"] = code, ["silent"] = false, ["store_history"] = false, ["user_expressions"] = new JsonObject(), ["allow_stdin"] = false, ["stop_on_error"] = true },
        };
        await socket.SendAsync(Encoding.UTF8.GetBytes(request.ToJsonString()), WebSocketMessageType.Text, true, CancellationToken.None);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        var buffer = new byte[64 * 1024];
        var answers = new List<JsonNode>();
        while (true)
        {
            using var message = new MemoryStream();
            WebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer, timeout.Token);
                message.Write(buffer, 0, result.Count);
            } while (!result.EndOfMessage);
            var reply = JsonNode.Parse(message.ToArray())!;
            if ((string?)reply["parent_header"]?["msg_id"] != msgId) continue;
            // Idle on iopub ends the request's output (the shell's execute_reply can overtake the last of it).
            if ((string?)reply["msg_type"] == "status" && (string?)reply["content"]?["execution_state"] == "idle")
            {
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
                return answers;
            }
            answers.Add(reply);
        }
    }
}
