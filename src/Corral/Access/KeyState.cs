using Corral.Fleet;
using Corral.Storage;

namespace Corral.Access;

/// <summary>
/// What one key has used: its rates (requests a minute, tokens a minute, tokens a day), its requests in flight
/// (<see cref="Concurrency"/>, counted by the scheduler) and when it was last used. Lives as long as the key,
/// across reloads of the key ring, so a change to the key's limits keeps what it used.
/// </summary>
/// <remarks>
/// Alone, a Corral keeps each rate in a local <see cref="RateBucket"/>. With a <see cref="IQuotaStore"/> (several
/// Corrals on one database) the bucket is in the database: this Corral leases a share of it (a twentieth of the
/// limit, or what is left) and spends that locally, so a request costs a database round trip only when its lease is
/// spent; what it does not spend within <see cref="LeaseLifetime"/> goes back. Requests can then never exceed a
/// limit across Corrals; tokens, charged when answers end, by at most the answers in flight. While the database
/// cannot be reached, each Corral keeps the limits on its own (its local buckets are kept all along).
/// </remarks>
internal sealed class KeyState(TimeProvider time, string keyId = "", IQuotaStore? quotas = null)
{
    /// <summary>How long a share leased from the database is kept before what is left of it is given back.</summary>
    public static readonly TimeSpan LeaseLifetime = TimeSpan.FromSeconds(2);

    private const int LeaseFraction = 20;
    private static readonly TimeSpan s_minute = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan s_day = TimeSpan.FromDays(1);
    private static readonly TimeSpan s_retryDatabase = TimeSpan.FromSeconds(5);
    private static readonly long s_usedResolution = TimeSpan.TicksPerSecond;

    private readonly Lock _gate = new();
    private Rate? _requests;
    private Rate? _tokensMinute;
    private Rate? _tokensDay;
    private long _lastUsedTicks;
    private long _databaseBackAt;

    public KeyLimits Limits { get; private set; } = KeyLimits.None;

    /// <summary>The key's requests holding slots; the limit is its <c>maxConcurrency</c>.</summary>
    public ConcurrencyLimit Concurrency { get; } = new();

    /// <summary>When the key was last presented by a client, if it was since Corral started.</summary>
    public DateTimeOffset? LastUsed => Volatile.Read(ref _lastUsedTicks) is var ticks and > 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

    private bool Shared => quotas is not null && time.GetTimestamp() >= Volatile.Read(ref _databaseBackAt);

    /// <summary>Takes the key's (new) limits; what was used in the current windows stays used.</summary>
    public void Configure(KeyLimits limits)
    {
        lock (_gate)
        {
            var now = time.GetTimestamp();
            _requests = Rate.For(_requests, "requestsPerMinute", "requests", limits.RequestsPerMinute, s_minute, now);
            _tokensMinute = Rate.For(_tokensMinute, "tokensPerMinute", "tokens", limits.TokensPerMinute, s_minute, now);
            _tokensDay = Rate.For(_tokensDay, "tokensPerDay", "tokens", limits.TokensPerDay, s_day, now);
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

    /// <summary>
    /// Counts a request against the key's rates; a refusal (the limit it hit, when to retry) when one is used up.
    /// Completes at once unless a share must be leased from the database.
    /// </summary>
    public ValueTask<RateRefusal?> TryStartAsync()
    {
        if (!Limits.HasRates)
        {
            return ValueTask.FromResult<RateRefusal?>(null);
        }

        if (!Shared)
        {
            return ValueTask.FromResult(TryStartLocally());
        }

        lock (_gate)
        {
            if (AllLeased())
            {
                Start();
                return ValueTask.FromResult<RateRefusal?>(null);
            }

            // A shared bucket found empty is not asked again before it can hold a unit: a key over its limit costs
            // the database nothing per refused request.
            if (StillRefused(time.GetTimestamp()) is { } refused)
            {
                return ValueTask.FromResult<RateRefusal?>(refused);
            }
        }

        return TryStartSharedAsync();
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
            foreach (var rate in (ReadOnlySpan<Rate?>)[_tokensMinute, _tokensDay])
            {
                if (rate is not null)
                {
                    rate.Local.Refill(now, time.TimestampFrequency);
                    rate.Local.Take(tokens);
                    // Spent from the lease; beyond it, a debt the next lease or give-back hands to the database.
                    rate.Lease -= tokens;
                    rate.LeasedAt = rate.LeasedAt == 0 ? now : rate.LeasedAt;
                }
            }
        }
    }

    /// <summary>What remains of each rate now, and when each is whole again.</summary>
    public RateStatus Status()
    {
        lock (_gate)
        {
            var now = time.GetTimestamp();
            var shared = Shared;
            return new RateStatus(Window(_requests, now, shared), Window(_tokensMinute, now, shared), Window(_tokensDay, now, shared));
        }
    }

    /// <summary>
    /// Gives back to the database what is left of leases older than <see cref="LeaseLifetime"/> (every lease when
    /// <paramref name="all"/>: Corral stops), and any debt, so that other Corrals can use it. Called about once a
    /// second (<see cref="KeyUpkeep"/>); nothing to do when alone.
    /// </summary>
    public async Task ReturnLeasesAsync(CancellationToken cancellationToken, bool all = false)
    {
        if (quotas is null)
        {
            return;
        }

        List<(Rate Rate, double GiveBack)> returns = [];
        lock (_gate)
        {
            var now = time.GetTimestamp();
            foreach (var rate in (ReadOnlySpan<Rate?>)[_requests, _tokensMinute, _tokensDay])
            {
                if (rate is { Lease: not 0 } && (all || time.GetElapsedTime(rate.LeasedAt, now) >= LeaseLifetime))
                {
                    returns.Add((rate, rate.Lease));
                    rate.Lease = 0;
                    rate.LeasedAt = 0;
                }
            }
        }

        foreach (var (rate, giveBack) in returns)
        {
            try
            {
                var lease = await quotas.LeaseAsync(new QuotaRequest(keyId, rate.Name, rate.Local.Capacity, rate.Local.Window, 0, giveBack), cancellationToken);
                lock (_gate)
                {
                    rate.SharedLevel = lease.Level;
                }
            }
            catch (Exception e) when (IsDatabaseFailure(e))
            {
                // The share is lost to the others until the bucket refills; the limit is not exceeded for it.
                DatabaseFailed();
            }
        }
    }

    private async ValueTask<RateRefusal?> TryStartSharedAsync()
    {
        // Concurrent requests of the key may spend a lease as soon as it is taken: a few rounds, then a refusal.
        for (var round = 0; round < 3; round++)
        {
            foreach (var rate in (Rate?[])[_requests, _tokensMinute, _tokensDay])
            {
                if (rate is null)
                {
                    continue;
                }

                double giveBack;
                lock (_gate)
                {
                    if (rate.Lease >= 1)
                    {
                        continue;
                    }

                    // A debt (tokens charged beyond the lease) is paid with this lease.
                    giveBack = Math.Min(rate.Lease, 0);
                    rate.Lease -= giveBack;
                }

                QuotaLease lease;
                try
                {
                    var wanted = Math.Max(1, rate.Local.Capacity / LeaseFraction);
                    lease = await quotas!.LeaseAsync(new QuotaRequest(keyId, rate.Name, rate.Local.Capacity, rate.Local.Window, wanted, giveBack), CancellationToken.None);
                }
                catch (Exception e) when (IsDatabaseFailure(e))
                {
                    lock (_gate)
                    {
                        rate.Lease += giveBack;
                    }

                    DatabaseFailed();
                    return TryStartLocally();
                }

                lock (_gate)
                {
                    rate.Lease += lease.Taken;
                    rate.SharedLevel = lease.Level;
                    rate.LeasedAt = rate.LeasedAt == 0 ? time.GetTimestamp() : rate.LeasedAt;
                    if (lease.Taken == 0 && rate.Lease < 1)
                    {
                        // The shared bucket itself is used up.
                        var refusal = Refusal(rate);
                        rate.RefusedUntil = time.GetTimestamp() + (long)(refusal.RetryAfter.TotalSeconds * time.TimestampFrequency);
                        return refusal;
                    }
                }
            }

            lock (_gate)
            {
                if (AllLeased())
                {
                    Start();
                    return null;
                }
            }
        }

        lock (_gate)
        {
            return RefusedFirst();
        }
    }

    // Under the lock: every rate has a unit leased for one more request.
    private bool AllLeased() =>
        _requests is not { Lease: < 1 } && _tokensMinute is not { Lease: < 1 } && _tokensDay is not { Lease: < 1 };

    // Under the lock: the request starts, spending one request of the lease (tokens are charged when it ends).
    private void Start()
    {
        var now = time.GetTimestamp();
        if (_requests is { } requests)
        {
            requests.Lease--;
            requests.LeasedAt = requests.LeasedAt == 0 ? now : requests.LeasedAt;
            requests.Local.Refill(now, time.TimestampFrequency);
            requests.Local.Take(1);
        }
    }

    // Under the lock: a refusal while a rate found empty in the database cannot have refilled a unit yet.
    private RateRefusal? StillRefused(long now)
    {
        foreach (var rate in (ReadOnlySpan<Rate?>)[_requests, _tokensMinute, _tokensDay])
        {
            if (rate is { Lease: < 1 } && now < rate.RefusedUntil)
            {
                var left = rate.Refused;
                return left with { RetryAfter = TimeSpan.FromSeconds((double)(rate.RefusedUntil - now) / time.TimestampFrequency) };
            }
        }

        return null;
    }

    // Under the lock: the first rate whose lease cannot pay for a request, as a refusal.
    private RateRefusal? RefusedFirst()
    {
        foreach (var rate in (ReadOnlySpan<Rate?>)[_requests, _tokensMinute, _tokensDay])
        {
            if (rate is { Lease: < 1 })
            {
                return Refusal(rate);
            }
        }

        return null;
    }

    // A refusal by a shared rate: retry when the shared bucket will hold a unit again.
    private static RateRefusal Refusal(Rate rate)
    {
        var perSecond = rate.Local.Capacity / rate.Local.Window.TotalSeconds;
        return new RateRefusal(rate.Name, rate.Local.Capacity, rate.Type, TimeSpan.FromSeconds(Math.Max(0, 1 - rate.SharedLevel - Math.Max(rate.Lease, 0)) / perSecond));
    }

    private RateRefusal? TryStartLocally()
    {
        lock (_gate)
        {
            var now = time.GetTimestamp();
            var frequency = time.TimestampFrequency;
            foreach (var rate in (ReadOnlySpan<Rate?>)[_requests, _tokensMinute, _tokensDay])
            {
                rate?.Local.Refill(now, frequency);
            }

            foreach (var rate in (ReadOnlySpan<Rate?>)[_requests, _tokensMinute, _tokensDay])
            {
                if (rate is not null && !rate.Local.Has(1))
                {
                    return new RateRefusal(rate.Name, rate.Local.Capacity, rate.Type, rate.Local.Until(1));
                }
            }

            _requests?.Local.Take(1);
            return null;
        }
    }

    private RateWindow? Window(Rate? rate, long now, bool shared)
    {
        if (rate is null)
        {
            return null;
        }

        rate.Local.Refill(now, time.TimestampFrequency);
        if (!shared)
        {
            return new RateWindow(rate.Local.Capacity, rate.Local.Remaining, rate.Local.UntilFull);
        }

        // What the database held at the last lease, and what this Corral holds of it.
        var remaining = (long)Math.Clamp(Math.Floor(rate.SharedLevel + rate.Lease), 0, rate.Local.Capacity);
        var perSecond = rate.Local.Capacity / rate.Local.Window.TotalSeconds;
        return new RateWindow(rate.Local.Capacity, remaining, TimeSpan.FromSeconds((rate.Local.Capacity - remaining) / perSecond));
    }

    private void DatabaseFailed() => Volatile.Write(ref _databaseBackAt, time.GetTimestamp() + (long)(s_retryDatabase.TotalSeconds * time.TimestampFrequency));

    private static bool IsDatabaseFailure(Exception e) => e is not (OutOfMemoryException or OperationCanceledException);

    /// <summary>One of the key's rates: its local bucket (alone, or while the database is away) and its lease of the shared one.</summary>
    private sealed class Rate(string name, string type, RateBucket local)
    {
        public string Name { get; } = name;

        /// <summary>OpenAI's error type for it: <c>requests</c> or <c>tokens</c>.</summary>
        public string Type { get; } = type;

        public RateBucket Local { get; } = local;

        /// <summary>Units leased from the database and not spent yet; below zero, a debt.</summary>
        public double Lease { get; set; }

        /// <summary>When the current lease was taken (a timestamp; 0: none).</summary>
        public long LeasedAt { get; set; }

        /// <summary>Until when the shared bucket cannot hold a unit, after a lease found it empty (a timestamp).</summary>
        public long RefusedUntil { get; set; }

        /// <summary>The refusal this rate gives while <see cref="RefusedUntil"/> lasts.</summary>
        public RateRefusal Refused => new(Name, Local.Capacity, Type, TimeSpan.Zero);

        /// <summary>What the shared bucket held after this Corral's last lease.</summary>
        public double SharedLevel { get; set; } = local.Capacity;

        public static Rate? For(Rate? existing, string name, string type, long? capacity, TimeSpan window, long now)
        {
            if (capacity is not { } limit)
            {
                return null;
            }

            if (existing is null)
            {
                return new Rate(name, type, new RateBucket(limit, window, now));
            }

            existing.Local.Resize(limit);
            return existing;
        }
    }
}
