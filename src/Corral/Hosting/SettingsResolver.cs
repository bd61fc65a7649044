using System.Globalization;
using Corral.Fleet;

namespace Corral.Hosting;

/// <summary>
/// Turns command-line arguments, environment variables and the config file into <see cref="CorralSettings"/>.
/// Precedence: command line, then environment, then defaults. Every problem is collected and reported together.
/// </summary>
internal static class SettingsResolver
{
    public const int MinimumAdminKeyLength = 16;

    /// <summary>The address <c>corral serve</c> listens on: <c>--listen</c>, else CORRAL_LISTEN, else the default; not checked.</summary>
    public static string Listen(string? given, Func<string, string?> environment) =>
        given ?? NonEmpty(environment("CORRAL_LISTEN")) ?? CorralSettings.DefaultListen;

    /// <summary>Resolves the settings or throws <see cref="ConfigurationException"/> listing every problem.</summary>
    /// <param name="args">The command line.</param>
    /// <param name="environment">Reads an environment variable.</param>
    /// <param name="outputIsTerminal">Whether standard output is a terminal: the request log is on by default only when it is not.</param>
    public static CorralSettings Resolve(ServeArguments args, Func<string, string?> environment, bool outputIsTerminal = true)
    {
        var problems = new List<string>();

        var listen = Listen(args.Listen, environment);
        if (!Uri.TryCreate(listen, UriKind.Absolute, out var listenUri) || (listenUri.Scheme != "http" && listenUri.Scheme != "https"))
        {
            problems.Add($"--listen: '{listen}' is not an http URL like {CorralSettings.DefaultListen}");
        }

        var backends = new List<BackendOptions>();
        var source = "--backend";
        var urls = args.Backends.Count > 0 ? args.Backends : BackendUrlsFromEnvironment(environment, out source);
        var rejected = 0;
        foreach (var text in urls)
        {
            var url = BackendUrl.TryParse(text, out var problem);
            if (url is null)
            {
                problems.Add($"{source}: {problem}");
                rejected++;
                continue;
            }

            backends.Add(new BackendOptions { Name = BackendUrl.DefaultName(url), Url = url });
        }

        string? configPath = null;
        IReadOnlyList<BackendOptions> fixedBackends = [.. backends];
        var trustedNetworks = args.TrustedNetworks.Select(t => Access.TrustedNetwork.Parse(t, "--trusted-network", problems)).OfType<Access.TrustedNetwork>().ToList();
        var trustedProxies = args.TrustedProxies.Select(t => Access.TrustedNetwork.ParseNetwork(t, "--trusted-proxy", problems)).OfType<System.Net.IPNetwork>().ToList();
        IReadOnlyList<Access.TrustedNetwork> fixedNetworks = [.. trustedNetworks];
        IReadOnlyList<System.Net.IPNetwork> fixedProxies = [.. trustedProxies];
        IReadOnlyList<Catalog.ModelPreset> presets = [];
        if (args.ConfigFile is not null)
        {
            configPath = Path.GetFullPath(args.ConfigFile);
            var file = ConfigFile.Read(configPath, problems);
            var fromFile = file.Backends;
            trustedNetworks.AddRange(file.TrustedNetworks);
            trustedProxies.AddRange(file.TrustedProxies);
            presets = file.Presets;
            // A config file that lists backends replaces the environment's default backend,
            // but adds to backends given explicitly with --backend.
            if (args.Backends.Count == 0 && NonEmpty(environment("OLLAMA_BASE_URLS")) is null && NonEmpty(environment("OLLAMA_BASE_URL")) is null)
            {
                backends.Clear();
            }

            fixedBackends = [.. backends];
            backends.AddRange(fromFile);
        }

        ValidateFleet(backends, rejected, problems);

        var adminKey = args.AdminKey ?? NonEmpty(environment("CORRAL_ADMIN_KEY"));
        if (adminKey is not null && adminKey.Length < MinimumAdminKeyLength)
        {
            problems.Add($"--admin-key: the admin key must be at least {MinimumAdminKeyLength} characters long (it has {adminKey.Length})");
        }

        var authEnabled = OnOff(args.Auth, "--auth", environment, "CORRAL_AUTH", problems);

        var logLevel = LogLevel.Information;
        var logText = args.LogLevel ?? NonEmpty(environment("CORRAL_LOG_LEVEL"));
        if (logText is not null && !Enum.TryParse(logText, ignoreCase: true, out logLevel))
        {
            problems.Add($"--log-level: '{logText}' is not one of trace, debug, information, warning, error, critical, none");
        }

        var metricsToken = args.MetricsToken ?? NonEmpty(environment("CORRAL_METRICS_TOKEN"));
        if (metricsToken is not null && metricsToken.Length < MinimumAdminKeyLength)
        {
            problems.Add($"--metrics-token: the token must be at least {MinimumAdminKeyLength} characters long (it has {metricsToken.Length})");
        }

        string? database = null;
        if ((args.Database ?? NonEmpty(environment("CORRAL_DATABASE"))) is { } databaseText)
        {
            database = Storage.PostgresDatabase.TryParse(databaseText, out var databaseProblem);
            if (database is null)
            {
                problems.Add($"--database: {databaseProblem}");
            }
        }

        var requestLog = outputIsTerminal ? RequestLogFormat.Off : RequestLogFormat.Json;
        var requestLogText = args.RequestLog ?? NonEmpty(environment("CORRAL_REQUEST_LOG"));
        if (requestLogText is not null && !Enum.TryParse(requestLogText, ignoreCase: true, out requestLog))
        {
            problems.Add($"{(args.RequestLog is null ? "CORRAL_REQUEST_LOG" : "--request-log")}: '{requestLogText}' is not 'json' or 'off'");
        }

        var settings = new CorralSettings
        {
            Listen = listen,
            Backends = backends,
            FixedBackends = fixedBackends,
            DataDirectory = args.DataDirectory ?? NonEmpty(environment("CORRAL_DATA")) ?? "./data",
            Database = database,
            AdminKey = adminKey,
            AuthEnabled = authEnabled,
            CatalogTtl = Seconds(args.CatalogTtlSeconds, "--catalog-ttl", TimeSpan.FromSeconds(10), problems),
            ListingTimeout = Seconds(args.ListingTimeoutSeconds, "--listing-timeout", TimeSpan.FromSeconds(2), problems),
            ConnectTimeout = Seconds(args.ConnectTimeoutSeconds, "--connect-timeout", TimeSpan.FromSeconds(5), problems),
            MaxBodyBytes = MaxBody(args.MaxBodyMegabytes, problems),
            ForwardKeyHeaders = args.ForwardKeyHeaders,
            FirstByteTimeout = Seconds(args.FirstByteTimeoutSeconds, "--first-byte-timeout", TimeSpan.FromSeconds(600), problems),
            IdleTimeout = Seconds(args.IdleTimeoutSeconds, "--idle-timeout", TimeSpan.FromSeconds(300), problems),
            HealthInterval = Seconds(args.HealthIntervalSeconds, "--health-interval", TimeSpan.FromSeconds(5), problems),
            FailureThreshold = Count(args.FailureThreshold, "--failure-threshold", 3, minimum: 1, problems),
            DefaultMaxConcurrency = Count(args.MaxConcurrency, "--max-concurrency", 1, minimum: 0, problems, zeroMeans: "unlimited"),
            QueueLength = Count(args.QueueLength, "--queue-length", 512, minimum: 0, problems, zeroMeans: "no queue"),
            QueueTimeout = Seconds(args.QueueTimeoutSeconds, "--queue-timeout", TimeSpan.FromSeconds(120), problems),
            MaxAttempts = Count(args.MaxAttempts, "--max-attempts", 3, minimum: 1, problems),
            ColdLoadEstimate = Seconds(args.ColdLoadSeconds, "--cold-load-estimate", TimeSpan.FromSeconds(5), problems),
            DrainTimeout = Seconds(args.DrainTimeoutSeconds, "--drain-timeout", TimeSpan.FromSeconds(30), problems, zeroMeans: "end running streams at once"),
            ExplainRoutes = args.ExplainRoutes,
            ConfigPollInterval = Seconds(args.ConfigPollSeconds, "--config-poll", TimeSpan.FromSeconds(2), problems, zeroMeans: "never reload"),
            ConfigFile = configPath,
            LogLevel = logLevel,
            UsageRecords = OnOff(args.Usage, "--usage", environment, "CORRAL_USAGE", problems),
            Metrics = OnOff(args.Metrics, "--metrics", environment, "CORRAL_METRICS", problems),
            UsageRetention = Days(args.UsageRetentionDays, "--usage-retention", TimeSpan.FromDays(30), problems),
            MetricsToken = metricsToken,
            MetricsPerKey = args.MetricsPerKey,
            RequestLog = requestLog,
            LogBodies = args.LogBodies,
            KeyInPath = args.KeyInPath,
            TrustedNetworks = trustedNetworks,
            TrustedProxies = trustedProxies,
            FixedTrustedNetworks = fixedNetworks,
            FixedTrustedProxies = fixedProxies,
            Presets = presets,
            ClientStallTimeout = Seconds(args.ClientStallTimeoutSeconds, "--client-stall-timeout", TimeSpan.FromSeconds(30), problems),
        };

        if (problems.Count > 0)
        {
            throw new ConfigurationException(problems);
        }

        return settings;
    }

    private static string[] BackendUrlsFromEnvironment(Func<string, string?> environment, out string source)
    {
        if (NonEmpty(environment("OLLAMA_BASE_URLS")) is { } many)
        {
            source = "OLLAMA_BASE_URLS";
            return many.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        }

        if (NonEmpty(environment("OLLAMA_BASE_URL")) is { } one)
        {
            source = "OLLAMA_BASE_URL";
            return [one];
        }

        source = "default";
        return [CorralSettings.DefaultBackend];
    }

    /// <summary>
    /// The checks that span backends (unique names and URLs, valid names and prefixes, at least one backend);
    /// also run on every reload of the configuration file.
    /// </summary>
    public static void ValidateFleet(IReadOnlyList<BackendOptions> backends, int rejected, List<string> problems)
    {
        if (backends.Count == 0 && rejected == 0)
        {
            problems.Add("no backend is configured: give --backend URL, OLLAMA_BASE_URLS, or backends in --config");
        }

        foreach (var group in backends.GroupBy(b => b.Name, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1))
        {
            problems.Add($"backend name '{group.Key}' is used {group.Count()} times; names must be unique (set \"name\" in the config file)");
        }

        foreach (var group in backends.GroupBy(b => b.Url.AbsoluteUri.TrimEnd('/'), StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1))
        {
            problems.Add($"backend URL {group.Key} is listed {group.Count()} times");
        }

        foreach (var backend in backends)
        {
            ValidateBackend(backend.Name, backend.Prefix, problems);
        }
    }

    /// <summary>Checks a backend's name and prefix (the rules of the configuration, shared with the admin API).</summary>
    public static void ValidateBackend(string name, string? prefix, List<string> problems)
    {
        if (!IsName(name, "._:-"))
        {
            problems.Add($"backend name '{name}' may use only letters, digits, '.', '_', ':' and '-'");
        }

        if (prefix is not null && !IsName(prefix, "_-"))
        {
            problems.Add($"backend '{name}': prefix '{prefix}' may use only letters, digits, '_' and '-' (it is joined to model names with a '.')");
        }
    }

    // Seconds given as text: fractions are allowed (0.5); zero only where it means something (zeroMeans).
    private static TimeSpan Seconds(string? text, string option, TimeSpan fallback, List<string> problems, string? zeroMeans = null)
    {
        if (text is null)
        {
            return fallback;
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
        {
            problems.Add($"{option}: '{text}' is not a number of seconds (like {fallback.TotalSeconds.ToString(CultureInfo.InvariantCulture)} or 0.5)");
            return fallback;
        }

        if (value == 0 && zeroMeans is not null)
        {
            return TimeSpan.Zero;
        }

        if (value <= 0 || value > TimeSpan.MaxValue.TotalSeconds || TimeSpan.FromSeconds(value) <= TimeSpan.Zero)
        {
            problems.Add(zeroMeans is null
                ? $"{option}: must be more than 0 seconds, not {text}"
                : $"{option}: must be 0 ({zeroMeans}) or more seconds, not {text}");
            return fallback;
        }

        return TimeSpan.FromSeconds(value);
    }

    // A switch given as on or off, by option or environment; on unless said otherwise.
    private static bool OnOff(string? given, string option, Func<string, string?> environment, string variable, List<string> problems)
    {
        var text = given ?? NonEmpty(environment(variable)) ?? "on";
        switch (text.ToLowerInvariant())
        {
            case "on":
                return true;
            case "off":
                return false;
            default:
                problems.Add($"{(given is null ? variable : option)}: '{text}' is not 'on' or 'off'");
                return true;
        }
    }

    // Days given as text: fractions are allowed; 0 keeps records for ever.
    private static TimeSpan Days(string? text, string option, TimeSpan fallback, List<string> problems)
    {
        if (text is null)
        {
            return fallback;
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
        {
            problems.Add($"{option}: '{text}' is not a number of days (like {fallback.TotalDays.ToString(CultureInfo.InvariantCulture)} or 0.5)");
            return fallback;
        }

        if (value < 0 || value > 36500)
        {
            problems.Add($"{option}: must be 0 (keep for ever) or more days, at most 36500, not {text}");
            return fallback;
        }

        return TimeSpan.FromDays(value);
    }

    // A whole number given as text, at least minimum.
    private static int Count(string? text, string option, int fallback, int minimum, List<string> problems, string? zeroMeans = null)
    {
        if (text is null)
        {
            return fallback;
        }

        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
        {
            problems.Add($"{option}: '{text}' is not a whole number (like {fallback})");
            return fallback;
        }

        if (value < minimum)
        {
            problems.Add(zeroMeans is null
                ? $"{option}: must be {minimum} or more, not {text}"
                : $"{option}: must be 0 ({zeroMeans}) or more, not {text}");
            return fallback;
        }

        return value;
    }

    private static long MaxBody(string? text, List<string> problems)
    {
        const long Default = 32L * 1024 * 1024;
        if (text is null)
        {
            return Default;
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var megabytes) || !double.IsFinite(megabytes))
        {
            problems.Add($"--max-body-size: '{text}' is not a number of megabytes (like 32 or 0.5)");
            return Default;
        }

        if (megabytes <= 0 || megabytes > 1024 * 1024)
        {
            problems.Add($"--max-body-size: must be more than 0 and at most 1048576 megabytes, not {text}");
            return Default;
        }

        return (long)(megabytes * 1024 * 1024);
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    // Letters, digits and the given punctuation, 1 to 64 characters.
    private static bool IsName(string value, string punctuation) =>
        value.Length is >= 1 and <= 64 && value.All(c => char.IsAsciiLetterOrDigit(c) || punctuation.Contains(c, StringComparison.Ordinal));
}
