namespace Corral.LoadBench;

/// <summary>The benchmark cannot go on (a tool is missing, a server did not start); the message says why.</summary>
internal sealed class BenchmarkException : Exception
{
    public BenchmarkException()
    {
    }

    public BenchmarkException(string message)
        : base(message)
    {
    }

    public BenchmarkException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
