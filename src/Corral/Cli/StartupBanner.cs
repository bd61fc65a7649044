using Corral.Hosting;

namespace Corral.Cli;

/// <summary>What Corral prints when it starts: where it listens, its backends, and any key to copy now.</summary>
internal static class StartupBanner
{
    public static void Print(CorralSettings settings, CorralServer server, TextWriter output)
    {
        output.WriteLine($"Corral listening on {server.BaseAddress}");
        foreach (var backend in settings.Backends)
        {
            var extras = new List<string>();
            if (!backend.Enabled)
            {
                extras.Add("disabled");
            }

            if (backend.Prefix is { } prefix)
            {
                extras.Add($"prefix '{prefix}.'");
            }

            if (backend.Models.Count > 0)
            {
                extras.Add($"{backend.Models.Count} allowed models");
            }

            output.WriteLine($"  backend {backend.Name}: {backend.Url.ToString().TrimEnd('/')}{(extras.Count > 0 ? " (" + string.Join(", ", extras) + ")" : string.Empty)}");
        }

        output.WriteLine(settings.Database is { } database
            ? $"  database: PostgreSQL {Storage.PostgresDatabase.Describe(database)}"
            : $"  data: {Path.GetFullPath(settings.DataDirectory)}");
        if (settings.KeyInPath)
        {
            output.WriteLine("  keys in the path: on (/k/KEY/...); proxies in front may log such URLs");
        }

        foreach (var network in settings.TrustedNetworks)
        {
            output.WriteLine($"  trusted network: {network.Network} served without a key as {network.Role.ToString().ToLowerInvariant()}");
        }

        if (!settings.AuthEnabled)
        {
            output.WriteLine();
            output.WriteLine("WARNING: authentication is OFF (--auth off). Anyone who can reach this port can use every backend and manage models.");
        }

        if (settings.LogBodies)
        {
            output.WriteLine();
            output.WriteLine(settings.RequestLog == RequestLogFormat.Off
                ? "NOTE: --log-bodies is given but the request log is off (--request-log off), so no prompt or answer is written."
                : "WARNING: --log-bodies is on: every prompt and answer is written to the request log. Protect that log as you would the conversations.");
        }

        if (server.GeneratedAdminKey is { } key)
        {
            output.WriteLine();
            output.WriteLine("An admin key was created for this first start. It is shown only now; Corral keeps only its hash:");
            output.WriteLine();
            output.WriteLine($"    {key}");
            output.WriteLine();
            output.WriteLine("Use it as 'Authorization: Bearer <key>', and create user keys with POST /admin/api/keys.");
        }

        output.Flush();
    }
}
