using System.Text.Json;
using Corral.Simulator.Http;
using Microsoft.AspNetCore.Http;

namespace Corral.Simulator.Endpoints;

/// <summary>
/// <c>GET /_sim/state</c> and <c>POST /_sim/faults</c>: the simulator's switches for out-of-process
/// users (bench, demo, e2e). Not Ollama routes, not journaled, not subject to faults.
/// </summary>
internal sealed class ControlEndpoints
{
    private readonly SimulatedOllama _simulator;

    public ControlEndpoints(SimulatedOllama simulator)
    {
        _simulator = simulator;
    }

    public async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value;
        var method = context.Request.Method;
        switch (path)
        {
            case "/_sim/state" when HttpMethods.IsGet(method):
                await WriteStateAsync(context).ConfigureAwait(false);
                return;
            case "/_sim/faults" when HttpMethods.IsPost(method):
                await SetFaultsAsync(context).ConfigureAwait(false);
                return;
            case "/_sim/state" or "/_sim/faults":
                await Responses.TextAsync(context, StatusCodes.Status405MethodNotAllowed, Responses.GinTextContentType, "405 method not allowed").ConfigureAwait(false);
                return;
            default:
                await Responses.TextAsync(context, StatusCodes.Status404NotFound, Responses.GinTextContentType, "404 page not found").ConfigureAwait(false);
                return;
        }
    }

    private Task WriteStateAsync(HttpContext context)
    {
        var loaded = _simulator.Scheduler.Loaded();
        var faults = _simulator.Faults;
        return Responses.JsonAsync(context, StatusCodes.Status200OK, w =>
        {
            w.WriteStartObject();
            w.WriteNumber("activeRequests", _simulator.ActiveRequests);
            w.WriteNumber("pendingRequests", _simulator.PendingRequests);
            w.WriteNumber("journalEntries", _simulator.Journal.Entries.Count);
            w.WriteStartArray("models");
            foreach (var name in _simulator.ModelNames)
            {
                w.WriteStringValue(name);
            }

            w.WriteEndArray();
            w.WriteStartArray("loaded");
            foreach (var (model, _) in loaded)
            {
                w.WriteStringValue(model.Name);
            }

            w.WriteEndArray();
            w.WriteStartObject("faults");
            w.WriteBoolean("refuseConnections", faults.RefuseConnections);
            w.WriteBoolean("hang", faults.Hang);
            w.WriteNumber("firstByteDelayMs", (long)faults.FirstByteDelay.TotalMilliseconds);
            w.WriteNumber("dieAfterLines", faults.DieAfterLines);
            w.WriteNumber("errorAfterLines", faults.ErrorAfterLines);
            w.WriteEndObject();
            w.WriteEndObject();
        });
    }

    private async Task SetFaultsAsync(HttpContext context)
    {
        JsonElement update;
        try
        {
            using var document = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted).ConfigureAwait(false);
            update = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            await Responses.ErrorAsync(context, StatusCodes.Status400BadRequest, e.Message).ConfigureAwait(false);
            return;
        }

        if (update.ValueKind != JsonValueKind.Object)
        {
            await Responses.ErrorAsync(context, StatusCodes.Status400BadRequest, "expected a JSON object").ConfigureAwait(false);
            return;
        }

        var faults = _simulator.Faults;
        bool? refuse = null;
        var refuseForMs = 0;
        try
        {
            foreach (var property in update.EnumerateObject())
            {
                switch (property.Name)
                {
                    case "reset" when property.Value.GetBoolean():
                        faults.Hang = false;
                        faults.FirstByteDelay = TimeSpan.Zero;
                        faults.DieAfterLines = 0;
                        faults.ErrorAfterLines = 0;
                        break;
                    case "reset":
                        break;
                    case "hang":
                        faults.Hang = property.Value.GetBoolean();
                        break;
                    case "firstByteDelayMs":
                        faults.FirstByteDelay = TimeSpan.FromMilliseconds(property.Value.GetDouble());
                        break;
                    case "dieAfterLines":
                        faults.DieAfterLines = property.Value.GetInt32();
                        break;
                    case "errorAfterLines":
                        faults.ErrorAfterLines = property.Value.GetInt32();
                        break;
                    case "refuseConnections":
                        refuse = property.Value.GetBoolean();
                        break;
                    case "refuseConnectionsForMs":
                        refuseForMs = property.Value.GetInt32();
                        break;
                    default:
                        await Responses.ErrorAsync(context, StatusCodes.Status400BadRequest, $"unknown fault '{property.Name}'").ConfigureAwait(false);
                        return;
                }
            }
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            await Responses.ErrorAsync(context, StatusCodes.Status400BadRequest, e.Message).ConfigureAwait(false);
            return;
        }

        if (refuse == true)
        {
            // Stopping waits for this very request, so answer first and close the listener afterwards.
            context.Response.OnCompleted(() =>
            {
                _ = Task.Run(async () =>
                {
                    await _simulator.StopAsync().ConfigureAwait(false);
                    if (refuseForMs > 0)
                    {
                        await Task.Delay(TimeSpan.FromMilliseconds(refuseForMs), _simulator.Time).ConfigureAwait(false);
                        await _simulator.RestartAsync().ConfigureAwait(false);
                    }
                });
                return Task.CompletedTask;
            });
        }

        await WriteStateAsync(context).ConfigureAwait(false);
    }
}
