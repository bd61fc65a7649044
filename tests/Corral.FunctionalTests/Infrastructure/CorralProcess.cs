using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Corral.FunctionalTests.Infrastructure;

/// <summary>
/// Corral as its own process (<c>dotnet corral.dll serve</c>, the build next to the tests), for what only a real
/// process shows: what a SIGTERM or a SIGKILL leaves in its data folder.
/// </summary>
internal sealed class CorralProcess : IAsyncDisposable
{
    private readonly Process _process;

    private CorralProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>Starts <c>corral serve</c> on a free port in front of <paramref name="backend"/> and waits until it is ready.</summary>
    public static async Task<CorralProcess> StartAsync(Uri backend, string dataDirectory, params string[] arguments)
    {
        var port = Ports.Free();
        var listen = $"http://127.0.0.1:{port}";
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])[Path.Combine(AppContext.BaseDirectory, "corral.dll"), "serve", "--listen", listen, "--backend", backend.ToString().TrimEnd('/'),
            "--admin-key", CorralInstance.AdminKey, "--data", dataDirectory, "--request-log", "off", "--log-level", "warning", .. arguments])
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start corral");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var corral = new CorralProcess(process, new Uri(listen));
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        await Eventually.WaitUntilAsync(async () =>
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"corral exited with code {process.ExitCode} before it was ready");
            }

            try
            {
                using var ready = await probe.GetAsync(new Uri(corral.BaseAddress, "/readyz"));
                return ready.StatusCode == HttpStatusCode.OK;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, "corral serves", TimeSpan.FromSeconds(60));
        return corral;
    }

    public HttpClient Client() => new()
    {
        BaseAddress = BaseAddress,
        Timeout = TimeSpan.FromSeconds(60),
        DefaultRequestHeaders = { Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", CorralInstance.AdminKey) },
    };

    /// <summary>Sends SIGTERM, as a service manager stops Corral, and waits for the process to end.</summary>
    public async Task TerminateAsync(TimeSpan deadline)
    {
        // Straight from libc: a minimal image may have no kill(1).
        if (Kill(_process.Id, Sigterm) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, SIGTERM) failed with errno {Marshal.GetLastPInvokeError()}");
        }

        using var timeout = new CancellationTokenSource(deadline);
        await _process.WaitForExitAsync(timeout.Token);
    }

    /// <summary>SIGKILL: the process ends at once, as in a crash or an out-of-memory kill.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
    }

    /// <summary>Every usage record the admin API lists (up to 10,000), newest first.</summary>
    public async Task<JsonElement[]> UsageRequestsAsync()
    {
        using var client = Client();
        using var response = await client.GetAsync("/admin/api/usage/requests?limit=10000");
        response.EnsureSuccessStatusCode();
        return (await response.JsonAsync()).GetProperty("requests").EnumerateArray().ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private const int Sigterm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
