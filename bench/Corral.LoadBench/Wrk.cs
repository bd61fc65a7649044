using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Corral.LoadBench;

/// <summary>One wrk run (<c>wrk -t1 -c C -d D --latency -s script</c>) and the parsing of its report.</summary>
internal static partial class Wrk
{
    /// <summary><c>wrk -v</c>'s first line, e.g. <c>wrk debian/4.1.0-3+b2 [epoll]</c>.</summary>
    public static string Version()
    {
        var text = Tools.Run("wrk", "-v");
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith("wrk ", StringComparison.Ordinal)) ?? text;
        return line.Split("Copyright", StringSplitOptions.None)[0].Trim();
    }

    /// <summary>Writes the Lua script of a request: method, body, JSON content type and the bearer key.</summary>
    public static string WriteScript(string directory, string name, string method, string? body, string key)
    {
        var lua = new StringBuilder();
        lua.Append(CultureInfo.InvariantCulture, $"wrk.method = \"{method}\"\n");
        lua.Append(CultureInfo.InvariantCulture, $"wrk.headers[\"Authorization\"] = \"Bearer {key}\"\n");
        if (body is not null)
        {
            lua.Append("wrk.headers[\"Content-Type\"] = \"application/json\"\n");
            lua.Append(CultureInfo.InvariantCulture, $"wrk.body = [==[{body}]==]\n");
        }

        var path = Path.Combine(directory, name + ".lua");
        File.WriteAllText(path, lua.ToString());
        return path;
    }

    public static async Task<WrkResult> RunAsync(string url, string script, int connections, int seconds)
    {
        using var wrk = ChildProcess.Start("wrk", "wrk",
        [
            "-t1", "-c" + connections.ToString(CultureInfo.InvariantCulture), "-d" + seconds.ToString(CultureInfo.InvariantCulture) + "s",
            "--timeout", "10s", "--latency", "-s", script, url,
        ]);
        var deadline = DateTime.UtcNow.AddSeconds(seconds + 30);
        while (!wrk.HasExited)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new BenchmarkException($"wrk did not finish: {url}\n{wrk.Output}");
            }

            await Task.Delay(100);
        }

        // The output handlers may still be draining right after exit.
        await Task.Delay(50);
        return Parse(wrk.Output) ?? throw new BenchmarkException($"could not read wrk's report for {url}:\n{wrk.Output}");
    }

    /// <summary>Reads Requests/sec, the 50% and 99% latencies, non-2xx responses and socket errors.</summary>
    public static WrkResult? Parse(string report)
    {
        var rps = RequestsPerSecond().Match(report);
        var p50 = Percentile50().Match(report);
        var p99 = Percentile99().Match(report);
        var total = TotalRequests().Match(report);
        if (!rps.Success || !p50.Success || !p99.Success || !total.Success)
        {
            return null;
        }

        var non2xx = Non2xx().Match(report);
        var errors = SocketErrors().Match(report);
        long errorCount = 0;
        if (errors.Success)
        {
            for (var i = 1; i <= 4; i++)
            {
                errorCount += long.Parse(errors.Groups[i].Value, CultureInfo.InvariantCulture);
            }
        }

        return new WrkResult(
            double.Parse(rps.Groups[1].Value, CultureInfo.InvariantCulture),
            Microseconds(p50.Groups[1].Value, p50.Groups[2].Value),
            Microseconds(p99.Groups[1].Value, p99.Groups[2].Value),
            long.Parse(total.Groups[1].Value, CultureInfo.InvariantCulture),
            non2xx.Success ? long.Parse(non2xx.Groups[1].Value, CultureInfo.InvariantCulture) : 0,
            errorCount);
    }

    private static double Microseconds(string number, string unit)
    {
        var value = double.Parse(number, CultureInfo.InvariantCulture);
        return unit switch
        {
            "us" => value,
            "ms" => value * 1_000,
            "s" => value * 1_000_000,
            "m" => value * 60_000_000,
            _ => throw new FormatException($"unknown wrk time unit '{unit}'"),
        };
    }

    [GeneratedRegex(@"Requests/sec:\s+([0-9.]+)")]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"^\s*50%\s+([0-9.]+)(us|ms|s|m)\s*$", RegexOptions.Multiline)]
    private static partial Regex Percentile50();

    [GeneratedRegex(@"^\s*99%\s+([0-9.]+)(us|ms|s|m)\s*$", RegexOptions.Multiline)]
    private static partial Regex Percentile99();

    [GeneratedRegex(@"^\s*([0-9]+) requests in ", RegexOptions.Multiline)]
    private static partial Regex TotalRequests();

    [GeneratedRegex(@"Non-2xx or 3xx responses:\s+([0-9]+)")]
    private static partial Regex Non2xx();

    [GeneratedRegex(@"Socket errors: connect ([0-9]+), read ([0-9]+), write ([0-9]+), timeout ([0-9]+)")]
    private static partial Regex SocketErrors();
}
