using Corral.Hosting;
using Corral.Pipeline;

namespace Corral.Access;

/// <summary>
/// Authenticates every request except the health probes with <c>Authorization: Bearer &lt;key&gt;</c> (or the
/// header an endpoint names, <see cref="KeyHeader"/>: Anthropic's <c>x-api-key</c>), and
/// refuses user keys on admin-only endpoints. A key with rates gets them in the headers of every answer of a
/// surface that shows them (<see cref="IRateLimitHeaders"/>); the rates themselves are counted by the pipeline,
/// for requests that name a model. Runs after routing so that it can read the endpoint's metadata.
/// An endpoint marked <see cref="MetricsTokenEndpoint"/> also takes the <c>--metrics-token</c>, held here only as its
/// hash and compared in constant time.
/// </summary>
internal sealed class AccessMiddleware(RequestDelegate next, KeyRing keys, CorralSettings settings, TrustedAddresses trusted)
{
    private readonly KeyHash? _metricsToken = settings.MetricsToken is { } token ? KeyHash.Of(token) : null;

    public Task InvokeAsync(HttpContext context)
    {
        var endpoint = context.GetEndpoint();
        if (endpoint?.Metadata.GetMetadata<AnonymousEndpoint>() is not null)
        {
            return next(context);
        }

        var record = context.Features.Get<RequestRecord>();
        var address = ClientAddress.Of(context, trusted.Proxies);
        if (record is not null)
        {
            record.ClientAddress = address;
        }

        Caller? caller;
        if (!settings.AuthEnabled)
        {
            caller = Caller.Anonymous;
        }
        else
        {
            var token = BearerToken(context.Request.Headers.Authorization.ToString());
            if (token.IsEmpty && endpoint?.Metadata.GetMetadata<KeyHeader>() is { } header)
            {
                token = context.Request.Headers[header.Name].ToString().AsSpan().Trim();
            }

            if (IsMetricsToken(token, endpoint))
            {
                return next(context);
            }

            // A key, when one is sent, decides (a wrong key is refused even from a trusted network).
            caller = token.IsEmpty ? Trusted(address) : keys.Authenticate(token, ConnectionMemory(context));
            if (caller is null)
            {
                return ErrorWriter.WriteAsync(context, ProxyError.Unauthorized);
            }
        }

        if (record is not null)
        {
            record.Caller = caller;
        }

        if (!caller.IsAdmin && endpoint?.Metadata.GetMetadata<AdminOnlyEndpoint>() is not null)
        {
            return ErrorWriter.WriteAsync(context, ProxyError.Forbidden(endpoint.Metadata.GetMetadata<MetricsTokenEndpoint>() is null
                ? "forbidden: this route needs an admin key"
                : "forbidden: this route needs an admin key or the metrics token"));
        }

        context.Features.Set(caller);

        if (caller.State is { Limits.HasRates: true } state && endpoint?.Metadata.GetMetadata<IRateLimitHeaders>() is { } rateHeaders)
        {
            context.Response.OnStarting(s_writeRateHeaders, (context.Response, state, rateHeaders));
        }

        return next(context);
    }

    private static readonly Func<object, Task> s_writeRateHeaders = static state =>
    {
        var (response, key, headers) = ((HttpResponse, KeyState, IRateLimitHeaders))state;
        headers.Write(response.Headers, key.Status());
        return Task.CompletedTask;
    };

    // The first trusted network the client is in, if any.
    private Caller? Trusted(System.Net.IPAddress? address)
    {
        if (address is null)
        {
            return null;
        }

        foreach (var network in trusted.Networks)
        {
            if (network.Network.Contains(address))
            {
                return network.Caller;
            }
        }

        return null;
    }

    private bool IsMetricsToken(ReadOnlySpan<char> token, Endpoint? endpoint) =>
        _metricsToken is { } metricsToken
        && !token.IsEmpty
        && endpoint?.Metadata.GetMetadata<MetricsTokenEndpoint>() is not null
        && KeyHash.Of(token).FixedTimeEquals(metricsToken);

    private static ConnectionKeyMemory? ConnectionMemory(HttpContext context)
    {
        var items = context.Features.Get<Microsoft.AspNetCore.Connections.Features.IConnectionItemsFeature>()?.Items;
        if (items is null)
        {
            return null;
        }

        if (items.TryGetValue(typeof(ConnectionKeyMemory), out var value) && value is ConnectionKeyMemory memory)
        {
            return memory;
        }

        memory = new ConnectionKeyMemory();
        items[typeof(ConnectionKeyMemory)] = memory;
        return memory;
    }

    private static ReadOnlySpan<char> BearerToken(string header)
    {
        var value = header.AsSpan().Trim();
        return value.Length > 7 && value[..7].Equals("Bearer ", StringComparison.OrdinalIgnoreCase)
            ? value[7..].Trim()
            : [];
    }
}

/// <summary>Endpoint metadata: served without a key (health probes).</summary>
internal sealed class AnonymousEndpoint;

/// <summary>Endpoint metadata: needs an admin key.</summary>
internal sealed class AdminOnlyEndpoint;

/// <summary>Endpoint metadata: also served for the <c>--metrics-token</c> (a Prometheus scrape job's), besides admin keys.</summary>
internal sealed class MetricsTokenEndpoint;
