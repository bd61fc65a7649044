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
        var urls = new Argument<string[]>("URL") { Arity = ArgumentArity.ZeroOrMore, Description = "Ollama URLs to check. None: the backends `corral serve` would use (--config, OLLAMA_BASE_URLS, OLLAMA_BASE_URL, the default)." };
        var config = new Option<string>("--config") { HelpName = "FILE", Description = "The configuration file whose backends to check (with their keys)." };
        var model = new Option<string[]>("--model") { HelpName = "NAME", Description = "A model that must be there; repeat for several." };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON: {\"environment\", \"targets\":[{\"url\",\"status\",\"checks\":[{\"name\",\"status\",\"finding\",\"fix\"}]}]}." };
        var timeout = new Option<string>("--timeout") { HelpName = "SECONDS", Description = "The longest each network step may take. Default 3." };
        var container = new Option<string>("--container")
        {
            HelpName = "NAME",
            Description = "On the host: check a Docker or Podman container's Ollama URL (OLLAMA_BASE_URL, OLLAMA_BASE_URLS, a mounted Perplexica config.toml) from inside it, "
                + "and print the commands that recreate it with a URL that answers there.",
        };
        var command = new Command(
            "doctor",
            "Check that each Ollama URL can be used from here: url, dns, tcp, http, models. Says what is wrong and the fix. Exit code 0: all ok, 1: warnings, 2: failures.")
        {
            urls, config, model, json, timeout, container,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var problems = new List<string>();
            var seconds = 3.0;
            if (parse.GetValue(timeout) is { } text && (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out seconds) || seconds <= 0 || seconds > 600))
            {
                problems.Add($"--timeout: '{text}' is not a number of seconds from 0 to 600");
            }

            var targets = new List<(string Url, string? Key)>();
            var given = parse.GetValue(urls) ?? [];
            if (given.Length > 0)
            {
                targets.AddRange(given.Select(u => (u, (string?)null)));
            }
            else if (parse.GetValue(container) is null)
            {
                try
                {
                    var settings = SettingsResolver.Resolve(new ServeArguments { ConfigFile = parse.GetValue(config) }, Environment.GetEnvironmentVariable);
                    targets.AddRange(settings.Backends.Select(b => (b.Url.ToString().TrimEnd('/'), b.Key)));
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

            var report = await RunAsync(targets, parse.GetValue(model) ?? [], TimeSpan.FromSeconds(seconds), cancellationToken);
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
                Print(report, Console.Out);
            }

            return report.ExitCode;
        });
        return command;
    }

    /// <summary>Checks every target at once, in the environment this process runs in.</summary>
    public static async Task<DoctorReport> RunAsync(IReadOnlyList<(string Url, string? Key)> targets, IReadOnlyList<string> models, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var environment = DoctorEnvironment.Detect();
        var doctor = new OllamaDoctor(environment, timeout);
        var results = await Task.WhenAll(targets.Select(t => doctor.CheckAsync(t.Url, models, t.Key, cancellationToken)));
        return new DoctorReport(environment, results);
    }

    /// <summary>The report for a person: each URL, each check with its finding, and the fix under what is wrong.</summary>
    public static void Print(DoctorReport report, TextWriter output)
    {
        var environment = report.Environment;
        var where = new[] { (environment.Docker, "Docker"), (environment.Podman, "Podman"), (environment.Kubernetes, "Kubernetes"), (environment.Wsl, "WSL") }
            .Where(w => w.Item1).Select(w => w.Item2).ToArray();
        output.WriteLine($"Running {(where.Length == 0 ? "on the host" : "in " + string.Join(", ", where))}{(environment.DefaultGateway is { } g ? $"; default gateway {g}" : string.Empty)}.");
        foreach (var target in report.Targets)
        {
            output.WriteLine();
            output.WriteLine($"{target.Url}: {Word(target.Status)}");
            foreach (var check in target.Checks)
            {
                Print(check, output);
            }
        }

        if (report.Container is { } container)
        {
            ContainerReportText.Print(container, output);
        }
    }

    /// <summary>One check: its status, name and finding, and the fix under it.</summary>
    internal static void Print(DoctorCheck check, TextWriter output)
    {
        output.WriteLine($"  {Word(check.Status),-4} {check.Name,-6} {check.Finding}");
        if (check.Fix is { } fix)
        {
            output.WriteLine($"              fix: {fix}");
        }
    }

    internal static string Word(CheckStatus status) => status.ToString().ToLowerInvariant();
}
