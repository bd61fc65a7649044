using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Corral.Doctor;
using Corral.Hosting;

namespace Corral.Cli;

/// <summary><c>corral doctor</c>: why an Ollama cannot be reached from here, and the fix.</summary>
internal static class DoctorCommand
{
    public static Command Create()
    {
        var urls = new Argument<string[]>("URL") { Arity = ArgumentArity.ZeroOrMore, Description = "Ollama URLs to check; each is also a candidate for the others. None: the backends `corral serve` would use (--config, OLLAMA_BASE_URLS, OLLAMA_BASE_URL, the default)." };
        var config = new Option<string>("--config") { HelpName = "FILE", Description = "The configuration file whose backends to check (with their keys); --fix writes into it." };
        var model = new Option<string[]>("--model") { HelpName = "NAME", Description = "A model that must be there; repeat for several." };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON: {\"environment\", \"targets\":[{\"url\",\"status\",\"checks\":[{\"name\",\"status\",\"finding\",\"fix\"}],\"found\":[{\"url\",\"version\",\"models\"}]}], \"recommendation\"}." };
        var timeout = new Option<string>("--timeout") { HelpName = "SECONDS", Description = "The longest each network step may take. Default 3; discovery's probes wait at most 1.5 to connect." };
        var fix = new Option<bool>("--fix") { Description = "Write the working URL that discovery found into the --config file in place of each failing backend URL, and print each change." };
        var compose = new Option<bool>("--compose") { Description = "Print the compose files of deploy/ for Ollama and Corral in one stack, Ollama on the host, and Podman on WSL2, and exit." };
        var container = new Option<string>("--container")
        {
            HelpName = "NAME",
            Description = "On the host: check a Docker or Podman container's Ollama URL (OLLAMA_BASE_URL, OLLAMA_BASE_URLS, a mounted Perplexica config.toml) from inside it, "
                + "and print the commands that recreate it with a URL that answers there.",
        };
        var command = new Command(
            "doctor",
            "Check that each Ollama URL can be used from here: url, dns, tcp, http, models. Says what is wrong and the fix; when a URL fails, "
                + "looks for Ollama where it usually is (127.0.0.1, host.docker.internal, host.containers.internal, the gateway, the Docker bridge, OLLAMA_HOST) "
                + "and recommends one. Exit code 0: all ok, 1: warnings, 2: failures.")
        {
            urls, config, model, json, timeout, fix, compose, container,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (parse.GetValue(compose))
            {
                ComposeTopologies.Write(Console.Out);
                return 0;
            }

            var problems = new List<string>();
            var seconds = 3.0;
            if (parse.GetValue(timeout) is { } text && (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out seconds) || seconds <= 0 || seconds > 600))
            {
                problems.Add($"--timeout: '{text}' is not a number of seconds from 0 to 600");
            }

            var configFile = parse.GetValue(config);
            if (parse.GetValue(fix) && configFile is null)
            {
                problems.Add("--fix: give the configuration file to write the working URL into with --config FILE");
            }

            var targets = new List<DoctorRun.Target>();
            var given = parse.GetValue(urls) ?? [];
            if (given.Length > 0)
            {
                targets.AddRange(given.Select(u => new DoctorRun.Target(u)));
            }
            else if (parse.GetValue(container) is null)
            {
                try
                {
                    var settings = SettingsResolver.Resolve(new ServeArguments { ConfigFile = configFile }, Environment.GetEnvironmentVariable);
                    targets.AddRange(settings.Backends.Select(b => new DoctorRun.Target(b.Url.ToString().TrimEnd('/'), b.Key)));
                }
                catch (ConfigurationException e)
                {
                    problems.AddRange(e.Problems);
                }
            }

            if (problems.Count > 0)
            {
                await Console.Error.WriteLineAsync(string.Join(Environment.NewLine, problems));
                return 2;
            }

            var report = await DoctorRun.RunAsync(
                targets, fleet: given.Length == 0, parse.GetValue(model) ?? [], TimeSpan.FromSeconds(seconds), DoctorEnvironment.Detect(), Environment.GetEnvironmentVariable, cancellationToken);
            if (parse.GetValue(container) is { } name)
            {
                report = report with { Container = await new ContainerDoctor(TimeSpan.FromSeconds(seconds)).CheckAsync(name, cancellationToken) };
            }

            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(report, CorralJsonContext.Default.DoctorReport));
            }
            else
            {
                Print(report, Console.Out, Colours.For(Console.IsOutputRedirected));
            }

            if (parse.GetValue(fix))
            {
                // The changes go to standard error with --json, so that standard output stays one JSON document.
                var fixOutput = parse.GetValue(json) ? Console.Error : Console.Out;
                return Fix(report, configFile!, fixOutput) ? report.ExitCode : 2;
            }

            return report.ExitCode;
        });
        return command;
    }

    /// <summary>Checks every target at once, in the environment this process runs in (the URLs given as alternatives).</summary>
    public static Task<DoctorReport> RunAsync(IReadOnlyList<(string Url, string? Key)> targets, IReadOnlyList<string> models, TimeSpan timeout, CancellationToken cancellationToken) =>
        DoctorRun.RunAsync([.. targets.Select(t => new DoctorRun.Target(t.Url, t.Key))], fleet: false, models, timeout, DoctorEnvironment.Detect(), Environment.GetEnvironmentVariable, cancellationToken);

    /// <summary>
    /// <c>--fix</c>: each failing URL that discovery found a working replacement for is replaced in the file; says
    /// each change, and why nothing changed when nothing did. False when the file could not be written.
    /// </summary>
    internal static bool Fix(DoctorReport report, string path, TextWriter output)
    {
        var failing = report.Targets.Where(t => t.Status == CheckStatus.Fail).ToArray();
        if (failing.Length == 0)
        {
            output.WriteLine("--fix: nothing to change: no URL failed.");
            return true;
        }

        foreach (var target in failing.Where(t => t.Found.Count == 0))
        {
            output.WriteLine($"--fix: no Ollama found that could replace {target.Url}; it stays as it is.");
        }

        var replacements = failing.Where(t => t.Found.Count > 0).GroupBy(t => t.Url).ToDictionary(g => g.Key, g => g.First().Found[0].Url);
        if (replacements.Count == 0)
        {
            return true;
        }

        IReadOnlyList<ConfigFix.Change> changes;
        try
        {
            changes = ConfigFix.Apply(path, replacements);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            output.WriteLine($"--fix: {path} could not be changed: {e.Message}");
            return false;
        }

        foreach (var change in changes)
        {
            output.WriteLine($"--fix: {path}: backends[{change.Index}].url \"{change.From}\" -> \"{change.To}\"");
        }

        foreach (var (from, to) in replacements.Where(r => !changes.Any(c => c.To == r.Value && ConfigFix.Same(c.From, r.Key))))
        {
            output.WriteLine($"--fix: {from} is not in {path} (it comes from --backend, OLLAMA_BASE_URL or OLLAMA_BASE_URLS); nothing changed there: use {to}");
        }

        return true;
    }

    /// <summary>The report for a person: each URL, each check with its finding, the fix under what is wrong, what discovery found.</summary>
    public static void Print(DoctorReport report, TextWriter output, Colours? colours = null)
    {
        var paint = colours ?? Colours.None;
        var environment = report.Environment;
        var where = new[] { (environment.Docker, "Docker"), (environment.Podman, "Podman"), (environment.Kubernetes, "Kubernetes"), (environment.Wsl, "WSL"), (environment.HostNetwork, "the host's network") }
            .Where(w => w.Item1).Select(w => w.Item2).ToArray();
        output.WriteLine($"Running {(where.Length == 0 ? "on the host" : "in " + string.Join(", ", where))}{(environment.DefaultGateway is { } g ? $"; default gateway {g}" : string.Empty)}.");
        if (environment.HostNames is { } names)
        {
            output.WriteLine(string.Join("; ", names.Select(n => n.Value.Length == 0 ? $"{n.Key} does not resolve" : $"{n.Key} is {string.Join(", ", n.Value)}")) + ".");
        }
        foreach (var target in report.Targets)
        {
            output.WriteLine();
            output.WriteLine($"{paint.Bold(target.Url)}: {paint.Status(target.Status, Word(target.Status))}");
            foreach (var check in target.Checks)
            {
                Print(check, output, paint);
            }

            if (target.Status == CheckStatus.Fail)
            {
                output.WriteLine(target.Found.Count == 0
                    ? "  Looked for Ollama elsewhere (127.0.0.1, host.docker.internal, host.containers.internal, the gateway, the Docker bridge, OLLAMA_HOST): none answered."
                    : "  Ollama answers elsewhere:");
                foreach (var found in target.Found)
                {
                    output.WriteLine($"    {found.Url}  Ollama {found.Version ?? "(version unknown)"}, {(found.Models == 1 ? "1 model" : $"{found.Models} models")}");
                }
            }
        }

        if (report.Recommendation is { } recommendation)
        {
            output.WriteLine();
            output.WriteLine($"Recommended: {paint.Bold(recommendation)} (corral doctor --fix --config FILE writes it into the configuration file)");
        }

        if (report.Container is { } container)
        {
            ContainerReportText.Print(container, output);
        }
    }

    /// <summary>One check: its status, name and finding, and the fix under it.</summary>
    internal static void Print(DoctorCheck check, TextWriter output, Colours? colours = null)
    {
        output.WriteLine($"  {(colours ?? Colours.None).Status(check.Status, $"{Word(check.Status),-4}")} {check.Name,-6} {check.Finding}");
        if (check.Fix is { } fix)
        {
            output.WriteLine($"              fix: {fix}");
        }
    }

    internal static string Word(CheckStatus status) => status.ToString().ToLowerInvariant();

}

/// <summary>Terminal colours for the doctor's words: on a terminal unless NO_COLOR is set; none when the output is redirected.</summary>
internal sealed class Colours(bool on)
{
    public static Colours None { get; } = new(false);

    public static Colours For(bool redirected) => new(!redirected && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR")));

    public string Bold(string text) => on ? $"\u001b[1m{text}\u001b[0m" : text;

    public string Status(CheckStatus status, string text) => !on ? text : status switch
    {
        CheckStatus.Ok => $"\u001b[32m{text}\u001b[0m",
        CheckStatus.Warn => $"\u001b[33m{text}\u001b[0m",
        CheckStatus.Fail => $"\u001b[31m{text}\u001b[0m",
        _ => $"\u001b[2m{text}\u001b[0m",
    };
}
