using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Rosetta.Tests.Infrastructure;

/// <summary>Small helpers to drive the task API from tests.</summary>
public static class TaskApi
{
    public static async Task<JsonObject> StartAsync(HttpClient client, object body)
    {
        var response = await client.PostAsJsonAsync("/api/v1/tasks", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Created, $"POST /api/v1/tasks answered {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    public static async Task<JsonObject> GetAsync(HttpClient client, string id)
    {
        var response = await client.GetAsync($"/api/v1/tasks/{id}");
        response.EnsureSuccessStatusCode();
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
    }

    /// <summary>Waits until the task has <paramref name="status"/>; fails with the task's last state otherwise.</summary>
    public static async Task<JsonObject> WaitForStatusAsync(HttpClient client, string id, string status, int seconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        JsonObject task;
        do
        {
            task = await GetAsync(client, id);
            if ((string?)task["status"] == status) return task;
            await Task.Delay(100);
        } while (DateTime.UtcNow < deadline);
        Assert.Fail($"Task {id} did not reach '{status}' within {seconds} s; it is: {task.ToJsonString()}");
        return task;
    }

    /// <summary>Waits until the monitor reports a computing resource in <paramref name="state"/> (<c>available</c> or <c>unreachable</c>).</summary>
    /// <returns>The resource as the API showed it in that state (its reason too).</returns>
    public static async Task<JsonObject> WaitForComputingStateAsync(HttpClient client, string computingId, string state, int seconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        JsonObject? computing = null;
        while (DateTime.UtcNow < deadline)
        {
            computing = await client.GetFromJsonAsync<JsonObject>($"/api/v1/computing/{computingId}");
            if ((string?)computing!["state"] == state) return computing;
            await Task.Delay(100);
        }
        Assert.Fail($"computing '{computingId}' did not become {state}: {computing?.ToJsonString()}");
        return computing!;
    }

    /// <summary>Waits until the task's interface answers 200 through the proxy (after an outage, a restart).</summary>
    public static async Task WaitForInterfaceAsync(HttpClient client, string id, int seconds)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        System.Net.HttpStatusCode status;
        do
        {
            await Task.Delay(250);
            status = (await client.GetAsync($"/t/{id}/")).StatusCode;
        } while (status != System.Net.HttpStatusCode.OK && DateTime.UtcNow < deadline);
        Assert.True(status == System.Net.HttpStatusCode.OK, $"/t/{id}/ still answers {(int)status} after {seconds} s");
    }

    /// <summary>Stops (if needed) and deletes a task, leaving no container behind.</summary>
    public static async Task StopAndDeleteAsync(HttpClient client, string id)
    {
        var task = await GetAsync(client, id);
        if ((string?)task["status"] is "created" or "queued" or "starting" or "running" or "stopping")
        {
            (await client.PostAsync($"/api/v1/tasks/{id}/stop", null)).EnsureSuccessStatusCode();
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while ((string?)(await GetAsync(client, id))["status"] is "stopping" or "running" or "starting" or "created" or "queued" && DateTime.UtcNow < deadline)
                await Task.Delay(100);
        }
        var deleted = await client.DeleteAsync($"/api/v1/tasks/{id}");
        Assert.Equal(System.Net.HttpStatusCode.NoContent, deleted.StatusCode);
    }

    public static async Task<JsonObject> ProblemAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
    }

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
}
