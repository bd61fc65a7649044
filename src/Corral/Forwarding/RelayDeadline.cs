using System.Globalization;
using Corral.Fleet;
using Corral.Hosting;

namespace Corral.Forwarding;

/// <summary>
/// Bounds each read of a backend's answer: it is cancelled when the client leaves, when the backend is silent
/// for longer than its idle timeout, or when the shutdown drain deadline passes, and <see cref="Cause"/> says
/// which, in words for the error line that ends the stream.
/// </summary>
internal sealed class RelayDeadline : IDisposable
{
    private readonly CancellationTokenSource _source;
    private readonly CancellationToken _aborted;
    private readonly CancellationToken _drain;
    private readonly TimeSpan _idle;

    public RelayDeadline(CancellationToken aborted, ShutdownDrain? drain, TimeSpan idle)
    {
        _aborted = aborted;
        _drain = drain?.Expired ?? CancellationToken.None;
        _idle = idle;
        _source = CancellationTokenSource.CreateLinkedTokenSource(aborted, _drain);
    }

    public CancellationToken Token => _source.Token;

    /// <summary>Starts the idle clock again: call before each read.</summary>
    public void Touch()
    {
        if (_idle > TimeSpan.Zero && _idle != System.Threading.Timeout.InfiniteTimeSpan)
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
            : UpstreamFailure.MidStream(backend, $"sent nothing for {_idle.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s (the idle timeout)");
    }

    public void Dispose() => _source.Dispose();
}
