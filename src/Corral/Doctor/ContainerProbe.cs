using System.Globalization;
using Corral.Hosting;

namespace Corral.Doctor;

/// <summary>
/// Resolution and connection checks run inside a container (<c>docker exec NAME sh -c …</c>) with whatever it has:
/// getent or python to resolve; bash's /dev/tcp, python, curl or wget to connect; curl, wget, python or bash to GET.
/// A container's image decides which are there (Open WebUI has curl and python, an Alpine image only busybox wget),
/// so the script tries each in turn and says on its first line which it used: <c>via curl</c>, or <c>via none</c>.
/// </summary>
internal sealed class ContainerProbe(ContainerTool tool, string container, TimeSpan timeout)
{
    // POSIX sh (dash, busybox ash): $1 is the mode, then its arguments. No single quote may appear in the nested
    // scripts beyond those that delimit them.
    private const string Script = """
        has() { command -v "$1" >/dev/null 2>&1; }
        py() { for p in python3 python; do if has $p; then echo "via $p"; exec $p -c "$@"; fi; done; }
        mode=$1; shift
        case $mode in
        resolve)
          if has getent; then echo "via getent"; exec getent ahosts "$1"; fi
          py 'import socket,sys
        for a in dict.fromkeys(i[4][0] for i in socket.getaddrinfo(sys.argv[1], None)): print(a)' "$1" ;;
        connect)
          if has bash; then
            echo "via bash"
            if has timeout; then exec timeout "$3" bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2"; fi
            exec bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2"
          fi
          py 'import socket,sys
        socket.create_connection((sys.argv[1], int(sys.argv[2])), float(sys.argv[3])).close()' "$1" "$2" "$3"
          if has curl; then echo "via curl"; exec curl -sS -o /dev/null -m "$3" "http://$1:$2/"; fi
          if has wget; then echo "via wget"; exec wget -O /dev/null -T "$3" "http://$1:$2/"; fi ;;
        get)
          if has curl; then echo "via curl"; exec curl -sS -m "$2" "$1"; fi
          if has wget; then echo "via wget"; exec wget -q -O - -T "$2" "$1"; fi
          py 'import sys,urllib.request,urllib.error
        try:
            r = urllib.request.urlopen(sys.argv[1], timeout=float(sys.argv[2]))
        except urllib.error.HTTPError as e:
            r = e
        sys.stdout.write(r.read().decode("utf-8", "replace"))' "$1" "$2"
          if has bash; then
            echo "via bash"
            exec bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 7
        printf "GET %s HTTP/1.0\r\nHost: %s:%s\r\n\r\n" "$2" "$0" "$1" >&3
        while IFS= read -r l <&3; do [ ${#l} -le 1 ] && break; done
        while IFS= read -r l <&3 || [ -n "$l" ]; do printf "%s\n" "$l"; done' "$3" "$4" "$5"
          fi ;;
        gateway)
          if has ip; then echo "via ip"; exec ip route show default; fi
          echo "via route"
          while IFS= read -r line; do echo "$line"; done < /proc/net/route
          exit 0 ;;
        esac
        echo "via none"
        exit 127
        """;

    /// <summary>The tools the script tries for a connection, in its order (for saying that none is there).</summary>
    public const string ConnectTools = "bash, python3, python, curl or wget";

    public Task<ProbeResult> ResolveAsync(string host, CancellationToken cancellationToken) => RunAsync(["resolve", host], cancellationToken);

    public Task<ProbeResult> ConnectAsync(string host, int port, CancellationToken cancellationToken) =>
        RunAsync(["connect", host, port.ToString(CultureInfo.InvariantCulture), Seconds], cancellationToken);

    /// <summary>GETs <paramref name="path"/> of <paramref name="url"/>; the output is the answer's body.</summary>
    public Task<ProbeResult> GetAsync(Uri url, string path, CancellationToken cancellationToken) =>
        RunAsync(["get", url.ToString().TrimEnd('/') + path, Seconds, url.DnsSafeHost, url.Port.ToString(CultureInfo.InvariantCulture), path], cancellationToken);

    /// <summary>The container's default route: <c>ip route show default</c>, or else <c>/proc/net/route</c>.</summary>
    public Task<ProbeResult> GatewayAsync(CancellationToken cancellationToken) => RunAsync(["gateway"], cancellationToken);

    private string Seconds => Durations.Seconds(timeout);

    private async Task<ProbeResult> RunAsync(string[] arguments, CancellationToken cancellationToken)
    {
        // A little longer than the script's own bound, for the exec itself (a Podman machine's is slow).
        var result = await tool.RunAsync(["exec", container, "sh", "-c", Script, "corral-doctor", .. arguments], timeout + TimeSpan.FromSeconds(10), cancellationToken);
        var newline = result.Output.IndexOf('\n', StringComparison.Ordinal);
        var first = newline < 0 ? result.Output : result.Output[..newline];
        return first.StartsWith("via ", StringComparison.Ordinal)
            ? new ProbeResult(first[4..].Trim(), result.ExitCode, newline < 0 ? string.Empty : result.Output[(newline + 1)..], result.Error)
            : new ProbeResult(null, result.ExitCode, result.Output, result.Error);
    }
}

/// <summary>
/// One run of the probe script: the tool it used (<c>none</c> when the container had none of them; null when the
/// script did not run at all, as in a container without sh), its exit code, its output after the first line, stderr.
/// </summary>
internal sealed record ProbeResult(string? Via, int ExitCode, string Output, string Error)
{
    public bool Ok => ExitCode == 0 && Via is not (null or "none");

    /// <summary>The last line of stderr that says something: a tool's error, after any progress it wrote.</summary>
    public string Problem => Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? $"exit code {ExitCode}";
}
