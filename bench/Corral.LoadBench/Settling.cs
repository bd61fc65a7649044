using System.Globalization;

namespace Corral.LoadBench;

/// <summary>
/// Drives a freshly started Corral until its throughput settles. Its tiered JIT recompiles the hot path with the
/// profile it gathered (tiered PGO); while the load saturates both cores the background compiler gets little CPU,
/// so full speed takes tens of seconds, and a gateway runs for days: measuring it cold would measure the JIT.
/// </summary>
internal static class Settling
{
    public static int Seconds(BenchOptions options) => options.Quick ? 2 : 5;

    public static int MinRuns(BenchOptions options) => options.Quick ? 2 : 12;

    public static int MaxRuns(BenchOptions options) => options.Quick ? 4 : 24;

    /// <summary>
    /// Runs wrk at c=64 for at least a minute (plateaus that do not last are common while the JIT works), then
    /// until the last three runs agree within 5 %; returns every run. <paramref name="afterRun"/> is called after
    /// each one (e.g. to empty a log file between runs).
    /// </summary>
    public static async Task<List<WrkResult>> RunAsync(string url, string script, BenchOptions options, Action? afterRun = null)
    {
        var curve = new List<WrkResult>();
        while (curve.Count < MaxRuns(options))
        {
            curve.Add(await Wrk.RunAsync(url, script, 64, Seconds(options)));
            afterRun?.Invoke();
            var last = curve.TakeLast(3).Select(r => r.RequestsPerSecond).ToArray();
            if (curve.Count >= MinRuns(options) && last.Max() <= 1.05 * last.Min())
            {
                break;
            }
        }

        return curve;
    }

    /// <summary>The curve as the notes show it: <c>2,512, 9,830, …</c> requests per second.</summary>
    public static string Describe(IEnumerable<WrkResult> curve) =>
        string.Join(", ", curve.Select(r => r.RequestsPerSecond.ToString("N0", CultureInfo.InvariantCulture)));

    /// <summary>How the settling runs were made, for a note.</summary>
    public static string Method(BenchOptions options) =>
        $"at c=64 in {Seconds(options)} s runs, at least {MinRuns(options)} and then until the last three agreed within 5 % (at most {MaxRuns(options)})";
}
