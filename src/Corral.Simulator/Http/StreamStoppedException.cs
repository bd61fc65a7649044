namespace Corral.Simulator.Http;

/// <summary>A stream fault ended the answer early; the handler stops producing lines.</summary>
internal sealed class StreamStoppedException : Exception
{
    public StreamStoppedException()
        : base("The stream was ended by a simulated fault.")
    {
    }
}
