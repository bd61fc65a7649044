using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Corral.Catalog;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Corral.FunctionalTests.Infrastructure;

/// <summary>
/// A backend that answers one fixture case exactly as recorded (status, content type, JSON, NDJSON lines,
/// server-sent events or text), lists the case's model in /api/tags so that Corral routes to it, and answers Corral's health checks
/// (/api/version, /api/ps) as a healthy Ollama. Records what it receives, apart from those background calls.
/// </summary>
internal sealed class ReplayBackend : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ReplayBackend(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    /// <summary>
    /// Requests received other than the listing and health calls, in order: method, path, content type and the
    /// body as received (a multipart/form-data body byte for byte, boundary included).
    /// </summary>
    public ConcurrentQueue<(string Method, string Path, string? ContentType, byte[] Body)> Received { get; } = new();

    public static async Task<ReplayBackend> StartAsync(FixtureCase fixture)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        ReplayBackend? self = null;
        app.Run(async context =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            var path = context.Request.Path.Value!;
            var background = path is "/api/tags" or "/api/version" or "/api/ps"
                && fixture.Path != path && fixture.UpstreamRequest?.GetProperty("path").GetString() != path;
            if (background)
            {
                await WriteBackgroundAsync(context, path, fixture.Model);
                return;
            }

            self!.Received.Enqueue((context.Request.Method, path, context.Request.ContentType, body.ToArray()));
            if (fixture.Upstream is not { } upstream)
            {
                context.Response.StatusCode = 599;
                return;
            }

            await ReplayAsync(context, upstream);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        self = new ReplayBackend(app, new Uri(address));
        return self;
    }

    private static async Task ReplayAsync(HttpContext context, JsonElement upstream)
    {
        context.Response.StatusCode = upstream.GetProperty("status").GetInt32();
        if (upstream.TryGetProperty("headers", out var headers))
        {
            foreach (var header in headers.EnumerateObject())
            {
                context.Response.Headers[header.Name] = header.Value.GetString();
            }
        }

        if (upstream.TryGetProperty("ndjson", out var lines))
        {
            await context.Response.StartAsync();
            foreach (var line in lines.EnumerateArray())
            {
                await context.Response.WriteAsync(JsonSerializer.Serialize(line) + "\n");
                await context.Response.Body.FlushAsync();
            }
        }
        else if (upstream.TryGetProperty("sse", out var events))
        {
            await context.Response.StartAsync();
            foreach (var frame in events.EnumerateArray())
            {
                await context.Response.WriteAsync(SseFrame(frame));
                await context.Response.Body.FlushAsync();
            }
        }
        else if (upstream.TryGetProperty("body", out var json) && json.ValueKind != JsonValueKind.Null)
        {
            var bytes = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(json));
            context.Response.ContentLength = bytes.Length;
            if (!HttpMethods.IsHead(context.Request.Method))
            {
                await context.Response.Body.WriteAsync(bytes);
            }
        }
        else if (upstream.TryGetProperty("body_text", out var text) && !HttpMethods.IsHead(context.Request.Method))
        {
            await context.Response.WriteAsync(text.GetString()!);
        }
    }

    /// <summary>One recorded event, <c>{"event": "...", "data": {...}}</c>, as <c>event: X\ndata: {...}\n\n</c>; a string is a bare data line.</summary>
    private static string SseFrame(JsonElement frame)
    {
        if (frame.ValueKind == JsonValueKind.String)
        {
            return "data: " + frame.GetString() + "\n\n";
        }

        var data = frame.GetProperty("data");
        var payload = data.ValueKind == JsonValueKind.String ? data.GetString() : JsonSerializer.Serialize(data);
        return frame.TryGetProperty("event", out var name)
            ? "event: " + name.GetString() + "\ndata: " + payload + "\n\n"
            : "data: " + payload + "\n\n";
    }

    /// <summary>What a healthy Ollama holding <paramref name="model"/> answers to the listing and health calls (tags, version, ps).</summary>
    internal static Task WriteBackgroundAsync(HttpContext context, string path, string? model)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        if (path != "/api/tags")
        {
            return context.Response.WriteAsync(path == "/api/version" ? """{"version":"0.12.6"}""" : """{"models":[]}""");
        }

        var name = model is null || model.Length == 0 ? null : JsonSerializer.Serialize(ModelName.Canonical(model));
        var models = name is null
            ? "[]"
            : "[{\"name\":" + name + ",\"model\":" + name + ",\"modified_at\":\"2025-05-04T17:37:44.706015396-07:00\",\"size\":1,"
              + "\"digest\":\"a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72\","
              + "\"details\":{\"parent_model\":\"\",\"format\":\"gguf\",\"family\":\"llama\",\"families\":[\"llama\"],\"parameter_size\":\"3.2B\",\"quantization_level\":\"Q4_K_M\"}}]";
        return context.Response.WriteAsync($$"""{"models":{{models}}}""");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
