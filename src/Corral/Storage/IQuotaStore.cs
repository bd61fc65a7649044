namespace Corral.Storage;

/// <summary>
/// The shared side of the keys' rates, for several Corrals on one database: one token bucket per key and rate in the
/// database, from which each Corral leases a share and spends it locally (Access/KeyState). SQLite, which serves one
/// Corral, has none.
/// </summary>
internal interface IQuotaStore
{
    /// <summary>
    /// In one atomic step: refills the shared bucket of <see cref="QuotaRequest.Rate"/> to now (creating it full),
    /// adds <see cref="QuotaRequest.GiveBack"/> (an unspent lease, or a debt when negative), then takes up to
    /// <see cref="QuotaRequest.Wanted"/> whole units out of what it holds.
    /// </summary>
    Task<QuotaLease> LeaseAsync(QuotaRequest request, CancellationToken cancellationToken);
}

/// <summary>What a Corral asks of a shared bucket: <paramref name="Capacity"/> units refilling evenly over <paramref name="Window"/>.</summary>
internal sealed record QuotaRequest(string KeyId, string Rate, long Capacity, TimeSpan Window, double Wanted, double GiveBack);

/// <summary>What a lease gave (whole units, maybe none) and what the shared bucket holds after it.</summary>
internal sealed record QuotaLease(double Taken, double Level);
