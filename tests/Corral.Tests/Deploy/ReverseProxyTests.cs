using System.Text.RegularExpressions;

namespace Corral.Tests.Deploy;

/// <summary>Corral behind nginx (<c>deploy/nginx-corral.conf</c>, checked by nginx itself) and behind Caddy (<c>deploy/Caddyfile</c>).</summary>
public sealed partial class ReverseProxyTests
{
    private static readonly string s_nginx = DeployFolder.Read("nginx-corral.conf");

    [NginxFact]
    public async Task NginxSnippet_NginxAcceptsIt_InsideAnHttpBlock()
    {
        // The snippet goes into nginx's http block (conf.d); the main file around it only keeps nginx's pid, log and
        // temporary files in a folder of the test's own.
        var folder = Directory.CreateTempSubdirectory("corral-nginx-").FullName;
        try
        {
            var main = Path.Combine(folder, "nginx.conf");
            await File.WriteAllTextAsync(main, $$"""
                pid {{folder}}/nginx.pid;
                error_log {{folder}}/error.log warn;
                events {}
                http {
                  client_body_temp_path {{folder}}/body;
                  proxy_temp_path {{folder}}/proxy;
                  fastcgi_temp_path {{folder}}/fastcgi;
                  uwsgi_temp_path {{folder}}/uwsgi;
                  scgi_temp_path {{folder}}/scgi;
                  include {{Path.Combine(DeployFolder.Path, "nginx-corral.conf")}};
                }
                """);

            var (exitCode, output) = await ToolOnPath.RunAsync(NginxFactAttribute.Path!, "-t", "-p", folder, "-c", main, "-e", Path.Combine(folder, "error.log"));

            exitCode.Should().Be(0, output);
            output.Should().Contain("test is successful");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void NginxSnippet_StreamsUnbuffered_WaitsForColdLoads_KeepsUpstreamConnections()
    {
        Directives("proxy_pass").Should().Equal("http://corral");
        Directives("server").Should().Equal("127.0.0.1:11480");
        Directives("keepalive").Should().ContainSingle();
        Directives("proxy_http_version").Should().Equal("1.1");
        Directives("proxy_set_header").Should().Contain("Connection \"\"").And.Contain("X-Forwarded-For $proxy_add_x_forwarded_for");
        Directives("proxy_buffering").Should().Equal("off");
        Directives("proxy_request_buffering").Should().Equal("off");
        foreach (var timeout in new[] { "proxy_read_timeout", "proxy_send_timeout" })
        {
            var seconds = Directives(timeout).Should().ContainSingle().Subject;
            int.Parse(seconds.TrimEnd('s'), System.Globalization.CultureInfo.InvariantCulture).Should().BeGreaterThanOrEqualTo(600, "{0}: a cold load of a large model takes minutes", timeout);
        }
    }

    [Fact]
    public void Caddyfile_ProxiesToCorral_WithoutFlushIntervalMinusOne()
    {
        var lines = DeployFolder.Read("Caddyfile").Split('\n').Select(l => l.Trim()).ToList();
        var directives = lines.Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();

        directives.Should().Contain("reverse_proxy 127.0.0.1:11480");
        directives.Should().NotContain(l => l.StartsWith("flush_interval", StringComparison.Ordinal));
        lines.Should().Contain(l => l.StartsWith('#') && l.Contains("flush_interval -1", StringComparison.Ordinal), "the file says why it is not there");
    }

    /// <summary>The arguments of every <paramref name="name"/> directive of the snippet, comments left out.</summary>
    private static List<string> Directives(string name) =>
        [.. s_nginx.Split('\n').Select(l => l.Split('#')[0].Trim()).Select(l => Directive().Match(l)).Where(m => m.Success && m.Groups[1].Value == name).Select(m => m.Groups[2].Value)];

    [GeneratedRegex(@"^([a-z_]+)\s+(.*);$")]
    private static partial Regex Directive();
}

/// <summary>A fact that needs nginx: reported as skipped, not passed, where nginx is not on PATH (nor in /usr/sbin).</summary>
public sealed class NginxFactAttribute : FactAttribute
{
    public static string? Path { get; } = ToolOnPath.Find("nginx") ?? (File.Exists("/usr/sbin/nginx") ? "/usr/sbin/nginx" : null);

    public NginxFactAttribute()
    {
        if (Path is null)
        {
            Skip = "nginx is not installed; apt-get install nginx-light (.ci/run does).";
        }
    }
}
