using System.Security.Cryptography;
using Corral.Fleet;

namespace Corral.Hosting;

/// <summary>
/// Applies changes of the <c>--config</c> file without a restart. The file is polled every
/// <c>--config-poll</c> (its last-write time and length, then a hash of its content, so a touch changes nothing)
/// rather than watched: file-system events do not cross a Docker bind mount or a Kubernetes ConfigMap swap.
/// A file with problems is reported and ignored, and the running fleet stays as it is until the file is fixed.
/// Backends from <c>--backend</c> or the environment stay beside the file's, as at start-up; backends added
/// through the admin API are left alone.
/// </summary>
internal sealed partial class ConfigWatcher : BackgroundService
{
    // A file rewritten within the file system's timestamp granularity may keep both its last-write time and its
    // length; until its last write is this old, the content is hashed again at every check.
    private static readonly TimeSpan s_settleTime = TimeSpan.FromSeconds(2);

    private readonly BackendFleet _fleet;
    private readonly Catalog.Presets _presets;
    private readonly Access.TrustedAddresses _trusted;
    private readonly CorralSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILogger<ConfigWatcher> _logger;
    private readonly Lock _gate = new();
    private Seen? _seen;
    private string? _reported;
    private volatile IReadOnlyList<string> _problems = [];

    public ConfigWatcher(BackendFleet fleet, Catalog.Presets presets, Access.TrustedAddresses trusted, CorralSettings settings, TimeProvider time, ILogger<ConfigWatcher> logger)
    {
        _fleet = fleet;
        _presets = presets;
        _trusted = trusted;
        _settings = settings;
        _time = time;
        _logger = logger;
    }

    /// <summary>Why the file as last read is not applied; empty while the fleet follows it.</summary>
    public IReadOnlyList<string> Problems => _problems;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_settings.ConfigFile is null || _settings.ConfigPollInterval <= TimeSpan.Zero)
        {
            return;
        }

        // The first check also catches an edit made between reading the settings and starting to poll: the fleet
        // is made to match the file, which changes nothing when the file is as it was read at start-up.
        using var timer = new PeriodicTimer(_settings.ConfigPollInterval, _time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                Check();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A failed check must not stop the host (a BackgroundService's exception does); the next one retries.
                LogCheckFailed(_logger, e, _settings.ConfigFile);
                lock (_gate)
                {
                    _seen = null;
                }
            }
        }
    }

    /// <summary>
    /// Reads the file if it changed since the last check and makes the fleet match it. Returns what changed, or
    /// null when nothing was applied (the file is unchanged, gone, unreadable or has problems).
    /// </summary>
    public FleetChange? Check()
    {
        var path = _settings.ConfigFile ?? throw new InvalidOperationException("No configuration file to watch.");
        lock (_gate)
        {
            var file = new FileInfo(path);
            if (!file.Exists)
            {
                // Forget the content, so that the file coming back is read and reported valid again even if unchanged.
                _seen = null;
                Report(path, [$"{path}: the file is gone (deleted or renamed)"]);
                return null;
            }

            if (_seen is { Settled: true } seen && seen.LastWrite == file.LastWriteTimeUtc && seen.Length == file.Length)
            {
                return null;
            }

            byte[] content;
            try
            {
                content = File.ReadAllBytes(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _seen = null;
                Report(path, [$"{path}: cannot be read: {e.Message}"]);
                return null;
            }

            var hash = SHA256.HashData(content);
            var previous = _seen;
            _seen = new Seen(file.LastWriteTimeUtc, file.Length, hash, _time.GetUtcNow() - file.LastWriteTimeUtc >= s_settleTime);
            if (previous is not null && previous.Hash.AsSpan().SequenceEqual(hash))
            {
                return null;
            }

            var problems = new List<string>();
            var wanted = new List<BackendOptions>(_settings.FixedBackends);
            var contents = ConfigFile.Parse(Decode(content), path, problems);
            wanted.AddRange(contents.Backends);
            if (problems.Count == 0)
            {
                SettingsResolver.ValidateFleet(wanted, rejected: 0, problems);
                foreach (var backend in wanted)
                {
                    if (_fleet.Find(backend.Name) is { Origin: BackendOrigin.Api })
                    {
                        problems.Add($"{path}: backend name '{backend.Name}' is taken by a backend added through the admin API; rename one of them");
                    }
                }
            }

            if (problems.Count > 0)
            {
                Report(path, problems);
                return null;
            }

            if (_reported is not null)
            {
                LogValidAgain(_logger, path);
                _reported = null;
                _problems = [];
            }

            _presets.SetConfigured(contents.Presets);
            _trusted.SetConfigured(contents.TrustedNetworks, contents.TrustedProxies);
            var change = _fleet.Apply(wanted, keep: b => b.Origin == BackendOrigin.Api);
            if (change.IsEmpty)
            {
                LogUnchanged(_logger, path);
            }
            else
            {
                LogReloaded(_logger, path, change);
            }

            return change;
        }
    }

    // Logs problems once, not at every check while the file stays the same.
    private void Report(string path, List<string> problems)
    {
        _problems = problems;
        var text = string.Join("; ", problems);
        if (text != _reported)
        {
            LogNotApplied(_logger, path, text);
            _reported = text;
        }
    }

    // As File.ReadAllText: UTF-8 unless a byte order mark says otherwise.
    private static string Decode(byte[] content)
    {
        using var reader = new StreamReader(new MemoryStream(content), detectEncodingFromByteOrderMarks: true);
        return reader.ReadToEnd();
    }

    private static void LogReloaded(ILogger logger, string path, FleetChange change) =>
        LogReloaded(logger, path, new Names(change.Added), new Names(change.Changed), new Names(change.Removed));

    [LoggerMessage(Level = LogLevel.Information, Message = "Configuration file {Path} applied: added {Added}; changed {Changed}; removed {Removed}")]
    private static partial void LogReloaded(ILogger logger, string path, Names added, Names changed, Names removed);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Configuration file {Path} changed; the backends already match it")]
    private static partial void LogUnchanged(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Configuration file {Path} is not applied; the running backends stay as they are until it is fixed: {Problems}")]
    private static partial void LogNotApplied(ILogger logger, string path, string problems);

    [LoggerMessage(Level = LogLevel.Information, Message = "Configuration file {Path} is valid again")]
    private static partial void LogValidAgain(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Error, Message = "Checking configuration file {Path} failed; the next check retries")]
    private static partial void LogCheckFailed(ILogger logger, Exception exception, string path);

    // Backend names as a log message lists them, joined only if the message is written.
    private readonly record struct Names(IReadOnlyList<string> List)
    {
        public override string ToString() => List.Count == 0 ? "none" : string.Join(", ", List);
    }

    // The file as last read: its stamp, and whether that stamp is old enough to stand for the content.
    private sealed record Seen(DateTime LastWrite, long Length, byte[] Hash, bool Settled);
}
