using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Corral.FunctionalTests.Infrastructure;

/// <summary>The lines Corral logs, kept for a test to read: add with <c>services: s => s.AddSingleton&lt;ILoggerProvider&gt;(log)</c>.</summary>
internal sealed class CapturedLog : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyCollection<string> Lines => _lines;

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLog log) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            log._lines.Enqueue($"{logLevel}: {formatter(state, exception)}");
    }
}
