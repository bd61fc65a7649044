namespace Corral.Simulator;

/// <summary>Runtime fault switches of a <see cref="SimulatedOllama"/>; thread-safe.</summary>
public sealed class SimulatorFaults
{
    private readonly Func<bool, Task> _setListening;
    private readonly Lock _gate = new();
    private volatile bool _refuseConnections;
    private volatile bool _hang;
    private long _firstByteDelayTicks;
    private volatile int _dieAfterLines;
    private volatile int _errorAfterLines;

    internal SimulatorFaults(Func<bool, Task> setListening)
    {
        _setListening = setListening;
    }

    /// <summary>
    /// True closes the listening socket (TCP connects are refused); false listens again on the same port.
    /// The setter returns once the listener is really closed or open again.
    /// </summary>
    public bool RefuseConnections
    {
        get => _refuseConnections;
        set
        {
            lock (_gate)
            {
                if (_refuseConnections == value)
                {
                    return;
                }

                _refuseConnections = value;
            }

            // The simulator's lifecycle code never captures a synchronization context, so blocking here is safe.
            _setListening(!value).GetAwaiter().GetResult();
        }
    }

    /// <summary>Accept and read every request, then never answer until the client goes away.</summary>
    public bool Hang
    {
        get => _hang;
        set => _hang = value;
    }

    /// <summary>Delay before the response headers on every route except <c>/</c> and <c>/api/version</c>.</summary>
    public TimeSpan FirstByteDelay
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _firstByteDelayTicks));
        set => Interlocked.Exchange(ref _firstByteDelayTicks, value.Ticks);
    }

    /// <summary>When positive, streaming responses abort the TCP connection after this many lines.</summary>
    public int DieAfterLines
    {
        get => _dieAfterLines;
        set => _dieAfterLines = value;
    }

    /// <summary>When positive, streaming responses send an error line after this many lines and end.</summary>
    public int ErrorAfterLines
    {
        get => _errorAfterLines;
        set => _errorAfterLines = value;
    }

    /// <summary>Turns every fault off (and listens again if connections were refused).</summary>
    public void Reset()
    {
        Hang = false;
        FirstByteDelay = TimeSpan.Zero;
        DieAfterLines = 0;
        ErrorAfterLines = 0;
        RefuseConnections = false;
    }

    internal void MarkListening(bool listening) => _refuseConnections = !listening;
}
