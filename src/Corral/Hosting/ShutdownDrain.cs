namespace Corral.Hosting;

/// <summary>
/// The drain after SIGTERM: Kestrel stops accepting at once; running answers go on until the drain deadline
/// (<c>--drain-timeout</c>), when <see cref="Expired"/> fires and each relay ends its stream with an error line.
/// </summary>
internal sealed class ShutdownDrain : IDisposable
{
    private readonly CancellationTokenSource _expired;
    private readonly CancellationTokenRegistration _registration;

    public ShutdownDrain(IHostApplicationLifetime lifetime, CorralSettings settings, TimeProvider time)
    {
        _expired = new CancellationTokenSource(System.Threading.Timeout.InfiniteTimeSpan, time);
        Timeout = settings.DrainTimeout;
        _registration = lifetime.ApplicationStopping.Register(() =>
        {
            Stopping = true;
            _expired.CancelAfter(Timeout);
        });
    }

    public TimeSpan Timeout { get; }

    /// <summary>True once shutdown began.</summary>
    public bool Stopping { get; private set; }

    /// <summary>Fires when the drain deadline passed.</summary>
    public CancellationToken Expired => _expired.Token;

    public void Dispose()
    {
        _registration.Dispose();
        _expired.Dispose();
    }
}
