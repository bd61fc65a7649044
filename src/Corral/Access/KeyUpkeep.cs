namespace Corral.Access;

/// <summary>
/// Writes when keys were last used to the store once a minute and when Corral stops: a request only notes it in
/// memory (<see cref="KeyState.MarkUsed"/>), so using a key costs no database write. With rates shared through the
/// database, gives back every second what is left of leases older than <see cref="KeyState.LeaseLifetime"/>, and
/// all of them when Corral stops.
/// </summary>
internal sealed partial class KeyUpkeep(KeyRing keys, TimeProvider time, ILogger<KeyUpkeep> logger) : BackgroundService
{
    private static readonly TimeSpan s_interval = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan s_leaseInterval = TimeSpan.FromSeconds(1);

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await SaveAsync(cancellationToken);
        if (keys.SharesRates)
        {
            try
            {
                await keys.ReturnLeasesAsync(cancellationToken, all: true);
            }
            catch (OperationCanceledException)
            {
                // Stopping in a hurry: what was leased comes back as the buckets refill.
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(keys.SharesRates ? s_leaseInterval : s_interval, time);
        var ticksPerSave = keys.SharesRates ? (int)(s_interval / s_leaseInterval) : 1;
        try
        {
            for (var tick = 1; await timer.WaitForNextTickAsync(stoppingToken); tick++)
            {
                if (keys.SharesRates)
                {
                    await keys.ReturnLeasesAsync(stoppingToken);
                }

                if (tick % ticksPerSave == 0)
                {
                    await SaveAsync(stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task SaveAsync(CancellationToken cancellationToken)
    {
        try
        {
            await keys.SaveUsesAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogSaveFailed(logger, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not record when keys were last used: {Reason}")]
    private static partial void LogSaveFailed(ILogger logger, string reason);
}
