using System.Net;
using System.Security.Cryptography;
using System.Text;
using Corral.FunctionalTests.Infrastructure;
using Corral.Simulator;
using Corral.Usage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

namespace Corral.FunctionalTests.OpenAi;

/// <summary><c>POST /v1/audio/transcriptions</c>: a multipart upload routed by its <c>model</c> field and passed to the backend's own route.</summary>
public sealed class TranscriptionTests
{
    private static Task<CorralInstance> StartAsync(SimulatedOllama simulator, RecordedUsage? usage = null, long? maxBodyBytes = null)
    {
        var presets = TestPresets.Parse("""{"name":"whisper-1","model":"llama3.2"}""");
        return CorralInstance.StartAsync(
            [CorralInstance.Backend(simulator, "a")],
            s => s with { Presets = presets, MaxBodyBytes = maxBodyBytes ?? s.MaxBodyBytes },
            services: usage is null ? null : s => s.AddSingleton<IUsageObserver>(usage));
    }

    // The file first and the model after it, as the openai npm client writes the form (the Python client writes the
    // model first: modelFirst).
    private static MultipartFormDataContent Form(byte[] audio, string? model, string? responseFormat = null, bool modelFirst = false)
    {
        var form = new MultipartFormDataContent();
        if (modelFirst && model is not null)
        {
            form.Add(new StringContent(model), "model");
        }

        var file = new ByteArrayContent(audio);
        file.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("audio/wav");
        form.Add(file, "file", "speech.wav");
        if (!modelFirst && model is not null)
        {
            form.Add(new StringContent(model), "model");
        }

        if (responseFormat is not null)
        {
            form.Add(new StringContent(responseFormat), "response_format");
        }

        return form;
    }

    // The fields of the form the backend received, the file as bytes.
    private static async Task<Dictionary<string, byte[]>> FieldsAsync(JournalEntry entry)
    {
        var boundary = HeaderUtilities.RemoveQuotes(Microsoft.Net.Http.Headers.MediaTypeHeaderValue.Parse(entry.Headers["Content-Type"]).Boundary).Value!;
        var reader = new MultipartReader(boundary, new MemoryStream(entry.Body));
        var fields = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        while (await reader.ReadNextSectionAsync() is { } section)
        {
            using var value = new MemoryStream();
            await section.Body.CopyToAsync(value);
            fields[HeaderUtilities.RemoveQuotes(section.GetContentDispositionHeader()!.Name).Value!] = value.ToArray();
        }

        return fields;
    }

    [Fact]
    public async Task Transcription_ModelAfterTheFile_RoutedAndSentAsItCame()
    {
        var usage = new RecordedUsage();
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartAsync(a, usage);
        using var client = corral.Client();
        var audio = RandomNumberGenerator.GetBytes(200_000);
        using var form = Form(audio, "llama3.2");
        var sentBytes = await form.ReadAsByteArrayAsync();

        using var response = await client.PostAsync("/v1/audio/transcriptions", form);

        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        (await response.JsonAsync()).GetProperty("text").GetString().Should().NotBeNullOrWhiteSpace();
        var received = a.Received("/v1/audio/transcriptions").Single();
        received.Body.Should().Equal(sentBytes, "the upload reaches the backend byte for byte");
        var record = await usage.SingleAsync("/v1/audio/transcriptions");
        record.Model.Should().Be("llama3.2");
        record.Status.Should().Be(200);
        record.BytesIn.Should().Be(sentBytes.Length);
    }

    [Fact]
    public async Task Transcription_Alias_BackendGetsTheBaseInTheModelField_FileIntact_TextFormatPassedOn()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartAsync(a);
        using var client = corral.Client();
        var audio = RandomNumberGenerator.GetBytes(100_000);
        using var form = Form(audio, "whisper-1", "text");

        using var response = await client.PostAsync("/v1/audio/transcriptions", form);

        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        response.Content.Headers.ContentType!.MediaType.Should().Be("text/plain");
        (await response.Content.ReadAsStringAsync()).Should().NotBeNullOrWhiteSpace();
        var fields = await FieldsAsync(a.Received("/v1/audio/transcriptions").Single());
        Encoding.UTF8.GetString(fields["model"]).Should().Be("llama3.2");
        fields["file"].Should().Equal(audio);
        Encoding.UTF8.GetString(fields["response_format"]).Should().Be("text");
    }

    [Fact]
    public async Task Transcription_BadForms_OpenAiErrorsWithoutCallingABackend()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartAsync(a, maxBodyBytes: 64 * 1024);
        using var client = corral.Client();

        using var noModel = await client.PostAsync("/v1/audio/transcriptions", Form([1, 2, 3], model: null));
        using var notMultipart = await client.PostJsonAsync("/v1/audio/transcriptions", """{"model":"llama3.2"}""");
        using var unknown = await client.PostAsync("/v1/audio/transcriptions", Form([1, 2, 3], "whisper-large"));
        using var tooLarge = await client.PostAsync("/v1/audio/transcriptions", Form(new byte[100 * 1024], "llama3.2"));

        noModel.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await noModel.JsonAsync()).GetProperty("error").GetProperty("message").GetString().Should().Be("model is required");
        notMultipart.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await notMultipart.JsonAsync()).GetProperty("error").GetProperty("message").GetString().Should().Contain("multipart/form-data");
        unknown.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await unknown.JsonAsync()).GetProperty("error").GetProperty("type").GetString().Should().Be("not_found_error");
        tooLarge.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        (await tooLarge.JsonAsync()).GetProperty("error").GetProperty("message").GetString().Should().Contain("--max-body-size");
        a.Received("/v1/audio/transcriptions").Should().BeEmpty();
    }

    [Fact]
    public async Task Transcription_Upload_ReachesTheBackendWhileTheClientIsStillSendingIt()
    {
        // A backend that says when the first part of the upload has reached it, before the client sends the rest.
        var firstPart = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        await using var backend = builder.Build();
        long received = 0;
        backend.Run(async context =>
        {
            if (context.Request.Path != "/v1/audio/transcriptions")
            {
                await ReplayBackend.WriteBackgroundAsync(context, context.Request.Path.Value!, "llama3.2");
                return;
            }

            var buffer = new byte[16 * 1024];
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer)) > 0)
            {
                received += read;
                if (received >= 256 * 1024)
                {
                    firstPart.TrySetResult();
                }
            }

            context.Response.ContentType = "application/x-ndjson";
            await context.Response.WriteAsync("""{"text":"streamed"}""" + "\n");
        });
        await backend.StartAsync();
        var address = backend.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        await using var corral = await CorralInstance.StartAsync([new Corral.Fleet.BackendOptions { Name = "a", Url = new Uri(address) }]);
        using var client = corral.Client();
        var audio = RandomNumberGenerator.GetBytes(1024 * 1024);
        using var form = Form(audio, "llama3.2", modelFirst: true);
        var bytes = await form.ReadAsByteArrayAsync();
        // Half the upload is sent, then the rest only once the backend has had a quarter of it: a gateway that waited
        // for the whole upload would never send it on.
        using var content = new HeldBackContent(bytes, bytes.Length / 2, firstPart.Task);
        content.Headers.ContentType = form.Headers.ContentType;

        using var response = await client.PostAsync("/v1/audio/transcriptions", content);

        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/json", "a JSON transcription is labelled as JSON, not as Ollama's NDJSON");
        (await response.JsonAsync()).GetProperty("text").GetString().Should().Be("streamed");
        received.Should().Be(bytes.Length);
        content.HeldBack.Should().BeTrue("the rest was sent only once the backend had the first part");
    }

    [Fact]
    public async Task Transcription_WithoutContentLengthOverTheLimit_Is413()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartAsync(a, maxBodyBytes: 64 * 1024);
        using var client = corral.Client();
        using var form = Form(new byte[100 * 1024], "llama3.2");
        var bytes = await form.ReadAsByteArrayAsync();
        using var chunked = new HeldBackContent(bytes, bytes.Length, Task.CompletedTask, declareLength: false);
        chunked.Headers.ContentType = form.Headers.ContentType;

        using var response = await client.PostAsync("/v1/audio/transcriptions", chunked);

        response.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        a.Received("/v1/audio/transcriptions").Should().BeEmpty();
    }

    [Fact]
    public async Task Transcription_FirstBackendRefuses_FailsOverWithTheWholeUpload()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var b = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a"), CorralInstance.Backend(b, "b")]);
        a.Faults.RefuseConnections = true;
        using var client = corral.Client();

        for (var i = 0; i < 2; i++)
        {
            var audio = RandomNumberGenerator.GetBytes(50_000);
            using var form = Form(audio, "llama3.2");
            var bytes = await form.ReadAsByteArrayAsync();
            using var response = await client.PostAsync("/v1/audio/transcriptions", form);

            response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            response.Backend().Should().Be("b");
            b.Received("/v1/audio/transcriptions")[i].Body.Should().Equal(bytes);
        }
    }

    /// <summary>A body sent in two parts: up to <c>split</c>, then, once <c>release</c> completed, the rest (with or without a Content-Length).</summary>
    private sealed class HeldBackContent(byte[] bytes, int split, Task release, bool declareLength = true) : HttpContent
    {
        public bool HeldBack { get; private set; }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(bytes.AsMemory(0, split));
            await stream.FlushAsync();
            await release.WaitAsync(TimeSpan.FromSeconds(30));
            HeldBack = split < bytes.Length;
            await stream.WriteAsync(bytes.AsMemory(split));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = bytes.Length;
            return declareLength;
        }
    }
}
