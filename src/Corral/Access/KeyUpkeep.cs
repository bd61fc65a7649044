namespace Corral.Access;

/// <summary>
/// Writes when keys were last used to the store once a minute and when Corral stops: a request only notes it in
/// memory (<see cref="KeyState.MarkUsed"/>), so using a key costs no database write.
/// </summary>
internal sealed partial class KeyUpkeep(KeyRing keys, TimeProvider time, ILogger<KeyUpkeep> logger) : BackgroundService
{
    private static readonly TimeSpan s_interval = TimeSpan.FromMinutes(1);

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await SaveAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(s_interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await SaveAsync(stoppingToken);
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
