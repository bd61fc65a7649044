namespace Corral.LoadBench;

/// <summary>What one wrk run measured; latencies in microseconds.</summary>
internal sealed record WrkResult(double RequestsPerSecond, double P50Us, double P99Us, long Requests, long Non2xx, long SocketErrors);
