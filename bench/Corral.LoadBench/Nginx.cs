using System.Globalization;
using System.Text;

namespace Corral.LoadBench;

/// <summary>
/// The two nginx servers of the side-by-side runs, each a child process with its own prefix folder and
/// <c>daemon off;</c>: the fake Ollama backend (fixed answers) and the bearer-token proxy a user would deploy
/// instead of Corral.
/// </summary>
internal static class Nginx
{
    /// <summary>
    /// The fake backend, one worker: <paramref name="nativePort"/> answers /api/tags, /api/chat (not streamed) and
    /// /api/generate (streamed); <paramref name="chatStreamPort"/> answers /api/tags and /api/chat streamed, for
    /// Corral's /v1 translation (it asks the backend for <c>"stream":true</c>).
    /// </summary>
    public static ChildProcess StartFakeBackend(string directory, int nativePort, int chatStreamPort)
    {
        var config = $$"""
            {{Preamble(directory, "fake", workers: 1)}}
            http {
                {{HttpCommon(directory, "fake")}}
                server {
                    listen 127.0.0.1:{{nativePort}} backlog=4096;
                    location = /api/tags { default_type "application/json; charset=utf-8"; return 200 '{{Quote(FakeAnswers.Tags)}}'; }
                    location = /api/chat { default_type "application/json; charset=utf-8"; return 200 '{{Quote(FakeAnswers.Chat)}}'; }
                    location = /v1/messages { default_type "application/json"; return 200 '{{Quote(FakeAnswers.Messages)}}'; }
                    location = /api/generate {
                        default_type application/x-ndjson;
                        {{Chunked}}
                        {{Return(FakeAnswers.GenerateStream, "generate")}}
                    }
                    location = /api/version { default_type "application/json; charset=utf-8"; return 200 '{"version":"0.12.6"}'; }
                    location / { default_type "application/json; charset=utf-8"; return 404 '{"error":"not found"}'; }
                }
                server {
                    listen 127.0.0.1:{{chatStreamPort}} backlog=4096;
                    location = /api/tags { default_type "application/json; charset=utf-8"; return 200 '{{Quote(FakeAnswers.Tags)}}'; }
                    location = /api/chat {
                        default_type application/x-ndjson;
                        {{Chunked}}
                        {{Return(FakeAnswers.ChatStream, "chatstream")}}
                    }
                    location = /api/version { default_type "application/json; charset=utf-8"; return 200 '{"version":"0.12.6"}'; }
                    location / { default_type "application/json; charset=utf-8"; return 404 '{"error":"not found"}'; }
                }
            }
            """;
        return Start(directory, "fake", config);
    }

    /// <summary>
    /// The bearer proxy, as the issue describes it: two workers, the key checked with <c>if</c> and not forwarded,
    /// a keep-alive upstream, <c>proxy_buffering off</c> so streamed lines pass at once.
    /// </summary>
    public static ChildProcess StartBearerProxy(string directory, int port, int upstreamPort, string key)
    {
        var config = $$"""
            {{Preamble(directory, "proxy", workers: 2)}}
            http {
                {{HttpCommon(directory, "proxy")}}
                upstream ollama {
                    server 127.0.0.1:{{upstreamPort}};
                    keepalive 512;
                    keepalive_requests 1000000;
                }
                server {
                    listen 127.0.0.1:{{port}} backlog=4096;
                    location / {
                        if ($http_authorization != "Bearer {{key}}") { return 401; }
                        proxy_pass http://ollama;
                        proxy_http_version 1.1;
                        proxy_set_header Connection "";
                        proxy_set_header Authorization "";
                        proxy_buffering off;
                        proxy_read_timeout 1h;
                    }
                }
            }
            """;
        return Start(directory, "proxy", config);
    }

    /// <summary>
    /// nginx as <c>deploy/nginx.conf</c> configures it in front of Corral replicas, with its upstream servers replaced by
    /// <paramref name="replicas"/>, its port by <paramref name="port"/>, and its access log off (what the benchmark changes).
    /// </summary>
    public static ChildProcess StartFromDeploy(string repositoryRoot, string directory, int port, IReadOnlyList<Uri> replicas)
    {
        var config = File.ReadAllText(Path.Combine(repositoryRoot, "deploy", "nginx.conf"));
        string Replace(string text, string from, string to) => text.Contains(from, StringComparison.Ordinal)
            ? text.Replace(from, to, StringComparison.Ordinal)
            : throw new BenchmarkException($"deploy/nginx.conf no longer has '{from}'; update Nginx.StartFromDeploy");
        config = Replace(config, "server corral:11480;", string.Join(" ", replicas.Select(r => $"server {r.Host}:{r.Port.ToString(CultureInfo.InvariantCulture)};")));
        config = Replace(config, "listen 11480;", $"listen 127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)};");
        config = Replace(config, "http {", "http {\n  " + HttpCommon(directory, "deploy").ReplaceLineEndings(" "));
        config = Replace(config, "worker_processes auto;", $"daemon off; pid {directory}/deploy.pid; error_log {directory}/deploy-error.log warn; worker_processes auto;");
        return Start(directory, "deploy", config);
    }

    /// <summary><c>nginx -v</c>, e.g. <c>nginx/1.22.1</c>.</summary>
    public static string Version() => Tools.Run("nginx", "-v").Replace("nginx version: ", string.Empty, StringComparison.Ordinal).Trim();

    // A substitution that never matches: sub_filter drops Content-Length, so the NDJSON answer goes out chunked,
    // as Ollama's streams do, instead of as a fixed-length body.
    private const string Chunked = "sub_filter_types application/x-ndjson; sub_filter '#never#' ''; sub_filter_once on;";

    private static string Preamble(string directory, string name, int workers) => $$"""
        daemon off;
        master_process on;
        worker_processes {{workers.ToString(CultureInfo.InvariantCulture)}};
        worker_rlimit_nofile 65536;
        pid {{directory}}/{{name}}.pid;
        error_log {{directory}}/{{name}}-error.log warn;
        events { worker_connections 16384; }
        """;

    // keepalive_requests: nginx closes a client connection after 1,000 requests by default, which would make
    // wrk reconnect in the middle of a run.
    private static string HttpCommon(string directory, string name) => $"""
        access_log off;
        keepalive_requests 1000000;
        keepalive_timeout 300s;
        client_body_temp_path {directory}/{name}-temp/body;
        proxy_temp_path {directory}/{name}-temp/proxy;
        fastcgi_temp_path {directory}/{name}-temp/fastcgi;
        uwsgi_temp_path {directory}/{name}-temp/uwsgi;
        scgi_temp_path {directory}/{name}-temp/scgi;
        """;

    // nginx unescapes \n in quoted strings; the answers contain no other character that needs care.
    private static string Quote(string body) => body.Replace("\n", "\\n", StringComparison.Ordinal);

    /// <summary>
    /// <c>return 200</c> of a body longer than one nginx configuration token may be (4 KB): the body is cut at line
    /// ends into variables set in the same location, and returned as their concatenation.
    /// </summary>
    private static string Return(string body, string name)
    {
        var parts = new List<string>();
        var part = new StringBuilder();
        foreach (var line in body.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part.Length + line.Length > 1500)
            {
                parts.Add(part.ToString());
                part.Clear();
            }

            part.Append(line).Append('\n');
        }

        parts.Add(part.ToString());
        var text = new StringBuilder();
        for (var i = 0; i < parts.Count; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"set ${name}{i} '{Quote(parts[i])}'; ");
        }

        text.Append("return 200 \"");
        for (var i = 0; i < parts.Count; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"${name}{i}");
        }

        return text.Append("\";").ToString();
    }

    private static ChildProcess Start(string directory, string name, string config)
    {
        Directory.CreateDirectory(Path.Combine(directory, name + "-temp"));
        var file = Path.Combine(directory, name + ".conf");
        File.WriteAllText(file, config);
        var test = Tools.Run("nginx", "-t", "-q", "-p", directory, "-c", file, "-e", Path.Combine(directory, name + "-error.log"));
        if (test.Contains("emerg", StringComparison.Ordinal) || test.Contains("failed", StringComparison.Ordinal))
        {
            throw new BenchmarkException($"nginx refused {file}:\n{test}");
        }

        return ChildProcess.Start("nginx " + name, "nginx", ["-p", directory, "-c", file, "-e", Path.Combine(directory, name + "-error.log")]);
    }
}
