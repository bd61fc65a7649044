using System.Globalization;

namespace Corral.LoadBench;

/// <summary>What to run and for how long; parsed from the command line.</summary>
internal sealed record BenchOptions
{
    public static readonly string[] AllScenarios = ["throughput", "speed", "memory", "fleet", "usage"];

    /// <summary>Also known to --only: the comparison mode runs only when asked for (it adds minutes of settling per Corral).</summary>
    public static readonly string[] KnownScenarios = [.. AllScenarios, "compare", "replicas", "startup"];

    /// <summary>Rounds of the side-by-side runs; each cell's figure is the median over rounds.</summary>
    public int Rounds { get; init; } = 3;

    /// <summary>Seconds of one wrk run.</summary>
    public int DurationSeconds { get; init; } = 5;

    public IReadOnlyList<int> Concurrencies { get; init; } = [1, 16, 64, 256];

    public bool Quick { get; init; }

    /// <summary>A published <c>corral</c> executable to use instead of publishing src/Corral.</summary>
    public string? CorralPath { get; init; }

    /// <summary>Another published <c>corral</c> (e.g. the commit before a change), a fourth door of the comparison.</summary>
    public string? BaselinePath { get; init; }

    /// <summary>The comparison adds a run per door under <c>perf stat</c>.</summary>
    public bool Perf { get; init; }

    /// <summary>The replicas scenario's PostgreSQL: a connection string to a role that may create databases.</summary>
    public string? Postgres { get; init; }

    /// <summary>Where the results go; default bench/results of the repository.</summary>
    public string? OutputDirectory { get; init; }

    public IReadOnlySet<string> Scenarios { get; init; } = new HashSet<string>(AllScenarios, StringComparer.Ordinal);

    /// <summary>Streams held open at once in the memory scenario.</summary>
    public int OpenStreams { get; init; } = 1000;

    /// <summary>Requests each way (direct, via Corral) in the model-speed scenario.</summary>
    public int SpeedRequests { get; init; } = 20;

    /// <summary>Usage records written over 30 days for the usage scenario.</summary>
    public long UsageRecords { get; init; } = 10_000_000;

    public const string Usage = """
        Corral load benchmark: Corral side by side with an nginx bearer-token proxy, plus streaming, memory and fleet figures.

        dotnet run -c Release --project bench/Corral.LoadBench -- [options]

          --quick                1 round of 2 s, concurrency 1 and 64, smaller streaming/memory/fleet runs
          --rounds N             rounds of the side-by-side and comparison runs (default 3)
          --duration S           seconds per wrk run (default 5)
          --concurrency LIST     e.g. 1,16,64,256 (the default); the comparison always runs c=64 and c=1
          --only LIST            scenarios to run: throughput,speed,memory,fleet,usage (default all) and compare
                                 (only when named): non-streamed chat through nginx, corral (defaults),
                                 corral-off (--usage off --metrics off --request-log off) and a baseline
          --usage-records N      usage records over 30 days for the usage scenario (default 10000000)
          --baseline PATH        compare: another published corral executable (e.g. the commit before a
                                 change), run with its own defaults
          --perf                 compare: one more c=64 run per door under perf stat; counts per request
          --postgres CONNECTION  replicas (only when named in --only): one Corral alone, one on PostgreSQL and two on
                                 it behind nginx (deploy/nginx.conf); a role that may create databases (default
                                 CORRAL_TEST_POSTGRES)
                                 startup (only when named): src/Corral published with and without ReadyToRun, each
                                 started afresh and driven with chat for its first 5 s
          --corral PATH          use this published corral executable instead of publishing src/Corral
          --out DIR              results folder (default bench/results)
          --help                 this text
        """;

    /// <summary>Parses the arguments; null after printing the usage (for --help or a bad argument).</summary>
    public static BenchOptions? Parse(IReadOnlyList<string> args)
    {
        var quick = args.Contains("--quick");
        var options = quick
            ? new BenchOptions { Quick = true, Rounds = 1, DurationSeconds = 2, Concurrencies = [1, 64], OpenStreams = 1000, SpeedRequests = 8, UsageRecords = 1_000_000 }
            : new BenchOptions();

        for (var i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            try
            {
                options = args[i] switch
                {
                    "--quick" => options,
                    "--rounds" => options with { Rounds = Positive(Value()) },
                    "--duration" => options with { DurationSeconds = Positive(Value()) },
                    "--concurrency" => options with { Concurrencies = [.. Value().Split(',').Select(Positive)] },
                    "--only" => options with { Scenarios = ScenarioSet(Value()) },
                    "--usage-records" => options with { UsageRecords = Positive(Value()) },
                    "--corral" => options with { CorralPath = Path.GetFullPath(Value()) },
                    "--baseline" => options with { BaselinePath = Executable(Value()) },
                    "--perf" => options with { Perf = true },
                    "--postgres" => options with { Postgres = Value() },
                    "--out" => options with { OutputDirectory = Path.GetFullPath(Value()) },
                    "--help" or "-h" => null,
                    _ => throw new ArgumentException($"unknown option '{args[i]}'"),
                };
            }
            catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
            {
                Console.Error.WriteLine(e.Message);
                options = null;
            }

            if (options is null)
            {
                Console.Error.WriteLine(Usage);
                return null;
            }
        }

        if (options is not null && (options.BaselinePath is not null || options.Perf) && !options.Scenarios.Contains("compare"))
        {
            Console.Error.WriteLine("--baseline and --perf belong to the comparison: add --only compare");
            Console.Error.WriteLine(Usage);
            return null;
        }

        return options;
    }

    private static string Executable(string path) => File.Exists(path)
        ? Path.GetFullPath(path)
        : throw new ArgumentException($"'{path}' is not a file (a published corral executable)");

    private static int Positive(string text)
    {
        var value = int.Parse(text, CultureInfo.InvariantCulture);
        return value > 0 ? value : throw new ArgumentException($"'{text}' is not a positive number");
    }

    private static HashSet<string> ScenarioSet(string list)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!KnownScenarios.Contains(name))
            {
                throw new ArgumentException($"unknown scenario '{name}' (known: {string.Join(", ", KnownScenarios)})");
            }

            set.Add(name);
        }

        return set;
    }
}
