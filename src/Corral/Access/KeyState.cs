using Corral.Fleet;

namespace Corral.Access;

/// <summary>
/// What one key has used: its rate buckets (requests a minute, tokens a minute, tokens a day), its requests in
/// flight (<see cref="Concurrency"/>, counted by the scheduler) and when it was last used. Lives as long as the key,
/// across reloads of the key ring, so a change to the key's limits keeps what it used.
/// </summary>
internal sealed class KeyState(TimeProvider time)
{
    private static readonly TimeSpan s_minute = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan s_day = TimeSpan.FromDays(1);
    private static readonly long s_usedResolution = TimeSpan.TicksPerSecond;

    private readonly Lock _gate = new();
    private RateBucket? _requests;
    private RateBucket? _tokensMinute;
    private RateBucket? _tokensDay;
    private long _lastUsedTicks;

    public KeyLimits Limits { get; private set; } = KeyLimits.None;

    /// <summary>The key's requests holding slots; the limit is its <c>maxConcurrency</c>.</summary>
    public ConcurrencyLimit Concurrency { get; } = new();

    /// <summary>When the key was last presented by a client, if it was since Corral started.</summary>
    public DateTimeOffset? LastUsed => Volatile.Read(ref _lastUsedTicks) is var ticks and > 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

    /// <summary>Takes the key's (new) limits; what was used in the current windows stays used.</summary>
    public void Configure(KeyLimits limits)
    {
        lock (_gate)
        {
            var now = time.GetTimestamp();
            _requests = Bucket(_requests, limits.RequestsPerMinute, s_minute, now);
            _tokensMinute = Bucket(_tokensMinute, limits.TokensPerMinute, s_minute, now);
            _tokensDay = Bucket(_tokensDay, limits.TokensPerDay, s_day, now);
            Concurrency.Limit = limits.MaxConcurrency ?? int.MaxValue;
            Limits = limits;
        }
    }

    /// <summary>Notes that the key was used now (to the second: a shared field is written about once a second, not per request).</summary>
    public void MarkUsed(DateTimeOffset now)
    {
        var ticks = now.UtcTicks;
        if (ticks - Volatile.Read(ref _lastUsedTicks) >= s_usedResolution)
        {
            Volatile.Write(ref _lastUsedTicks, ticks);
        }
    }

    /// <summary>Counts a request against the key's rates; a refusal (the limit it hit, when to retry) when one is used up.</summary>
    public RateRefusal? TryStart()
    {
        if (!Limits.HasRates)
        {
            return null;
        }

        lock (_gate)
        {
            var now = time.GetTimestamp();
            var frequency = time.TimestampFrequency;
            _requests?.Refill(now, frequency);
            _tokensMinute?.Refill(now, frequency);
            _tokensDay?.Refill(now, frequency);
            if (_requests is { } requests && !requests.Has(1))
            {
                return new RateRefusal("requestsPerMinute", requests.Capacity, "requests", requests.Until(1));
            }

            if (_tokensMinute is { } minute && !minute.Has(1))
            {
                return new RateRefusal("tokensPerMinute", minute.Capacity, "tokens", minute.Until(1));
            }

            if (_tokensDay is { } day && !day.Has(1))
            {
                return new RateRefusal("tokensPerDay", day.Capacity, "tokens", day.Until(1));
            }

            _requests?.Take(1);
            return null;
        }
    }

    /// <summary>Charges the tokens of an answer that ended.</summary>
    public void Charge(long tokens)
    {
        if (tokens <= 0 || (Limits.TokensPerMinute is null && Limits.TokensPerDay is null))
        {
            return;
        }

        lock (_gate)
        {
            var now = time.GetTimestamp();
            ReadOnlySpan<RateBucket?> buckets = [_tokensMinute, _tokensDay];
            foreach (var bucket in buckets)
            {
                bucket?.Refill(now, time.TimestampFrequency);
                bucket?.Take(tokens);
            }
        }
    }

    /// <summary>What remains of each rate now, and when each is whole again.</summary>
    public RateStatus Status()
    {
        lock (_gate)
        {
            var now = time.GetTimestamp();
            return new RateStatus(Window(_requests, now), Window(_tokensMinute, now), Window(_tokensDay, now));
        }
    }

    private RateWindow? Window(RateBucket? bucket, long now)
    {
        if (bucket is null)
        {
            return null;
        }

        bucket.Refill(now, time.TimestampFrequency);
        return new RateWindow(bucket.Capacity, bucket.Remaining, bucket.UntilFull);
    }

    private static RateBucket? Bucket(RateBucket? existing, long? capacity, TimeSpan window, long now)
    {
        if (capacity is not { } limit)
        {
            return null;
        }

        if (existing is null)
        {
            return new RateBucket(limit, window, now);
        }

        existing.Resize(limit);
        return existing;
    }
}

/// <summary>A request refused by a rate: the limit's field name and value, OpenAI's type for it, and when to retry.</summary>
internal sealed record RateRefusal(string Limit, long Value, string Type, TimeSpan RetryAfter);

/// <summary>One rate of a key now: its limit, what remains, and how long until it is whole again.</summary>
internal sealed record RateWindow(long Limit, long Remaining, TimeSpan Reset);

/// <summary>The key's rates now; null for a rate it does not have.</summary>
internal sealed record RateStatus(RateWindow? Requests, RateWindow? TokensPerMinute, RateWindow? TokensPerDay);
