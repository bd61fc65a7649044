using Corral.Fleet;
using Corral.Hosting;

namespace Corral.Forwarding;

/// <summary>
/// Bounds each read of a backend's answer: it is cancelled when the client leaves, when the backend is silent
/// for longer than its idle timeout (timed by the <see cref="TimeProvider"/>), or when the shutdown drain deadline
/// passes, and <see cref="Cause"/> says which, in words for the error that ends the answer.
/// </summary>
internal sealed class RelayDeadline : IDisposable
{
    private readonly CancellationTokenSource _source;
    private readonly CancellationTokenRegistration _onAborted;
    private readonly CancellationTokenRegistration _onDrained;
    private readonly bool _linked;
    private readonly CancellationToken _aborted;
    private readonly CancellationToken _drain;
    private readonly TimeSpan _idle;

    public RelayDeadline(ShutdownDrain? drain, TimeSpan idle, TimeProvider time, CancellationToken aborted)
    {
        _aborted = aborted;
        _drain = drain?.Expired ?? CancellationToken.None;
        _idle = idle;
        if (time == TimeProvider.System)
        {
            // One linked source on the real clock: half the objects of the general case, on every relayed answer.
            _source = CancellationTokenSource.CreateLinkedTokenSource(aborted, _drain);
            _linked = true;
        }
        else
        {
            // A source that follows the given clock (tests), cut by the client leaving or the drain.
            _source = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
            _onAborted = aborted.UnsafeRegister(static s => ((RelayDeadline)s!).Cut(), this);
            _onDrained = _drain.UnsafeRegister(static s => ((RelayDeadline)s!).Cut(), this);
        }
    }

    public CancellationToken Token => _source.Token;

    /// <summary>Starts the idle clock again: call before each read.</summary>
    public void Touch()
    {
        if (_idle > TimeSpan.Zero && _idle != Timeout.InfiniteTimeSpan)
        {
            _source.CancelAfter(_idle);
        }
    }

    /// <summary>Null when the client left (nothing to tell it); otherwise why the read was cut.</summary>
    public string? Cause(Backend backend)
    {
        if (_aborted.IsCancellationRequested)
        {
            return null;
        }

        return _drain.IsCancellationRequested
            ? "Corral is shutting down and the drain deadline passed before the answer was complete"
            : UpstreamFailure.MidStream(backend, $"sent nothing for {Durations.Seconds(_idle)} s (the idle timeout)");
    }

    public void Dispose()
    {
        if (!_linked)
        {
            _onAborted.Dispose();
            _onDrained.Dispose();
        }

        _source.Dispose();
    }

    private void Cut()
    {
        try
        {
            _source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The read is over.
        }
    }
}
