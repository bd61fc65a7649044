using System.Net;
using System.Text.RegularExpressions;
using Corral.FunctionalTests.Infrastructure;

namespace Corral.FunctionalTests.WebConsole;

/// <summary>The web console as Corral serves it: where, with which headers, to whom, and that every file it names is there.</summary>
public sealed partial class ConsoleServingTests
{
    [Fact]
    public async Task ABrowserAtTheRoot_WithoutAKey_GoesToTheConsole_WhileOllamaClientsGetWhatTheyAlwaysGot()
    {
        await using var sim = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(sim, "gpu1")]);
        using var anonymous = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = corral.BaseAddress };
        using var admin = corral.Client();

        using var browser = await anonymous.SendAsync(Get("/", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"));
        using var client = await anonymous.SendAsync(Get("/", "*/*"));
        using var browserWithKey = await admin.SendAsync(Get("/", "text/html"));

        browser.StatusCode.Should().Be(HttpStatusCode.Found);
        browser.Headers.Location.Should().Be(new Uri("/ui/", UriKind.Relative));
        client.StatusCode.Should().Be(HttpStatusCode.Unauthorized, "an Ollama client without a key is refused as ever");
        browserWithKey.StatusCode.Should().Be(HttpStatusCode.OK);
        (await browserWithKey.Content.ReadAsStringAsync()).Should().Be("Ollama is running");
    }

    [Fact]
    public async Task ThePage_NeedsNoKey_AndCarriesAStrictPolicy()
    {
        await using var corral = await CorralInstance.StartAsync([]);
        using var anonymous = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = corral.BaseAddress };

        using var page = await anonymous.GetAsync("/ui/");
        using var bare = await anonymous.GetAsync("/ui");
        using var icon = await anonymous.GetAsync("/favicon.ico");
        using var missing = await anonymous.GetAsync("/ui/js/nothing-here.js");

        page.StatusCode.Should().Be(HttpStatusCode.OK);
        page.Content.Headers.ContentType!.MediaType.Should().Be("text/html");
        var policy = page.Headers.GetValues("Content-Security-Policy").Single();
        policy.Should().Contain("script-src 'self'").And.Contain("frame-ancestors 'none'").And.Contain("default-src 'none'").And.NotContain("unsafe-inline");
        page.Headers.GetValues("X-Content-Type-Options").Should().Equal("nosniff");
        (await page.Content.ReadAsStringAsync()).Should().Contain("<script type=\"module\" src=\"/ui/js/app.js\"></script>");
        bare.StatusCode.Should().Be(HttpStatusCode.PermanentRedirect);
        bare.Headers.Location.Should().Be(new Uri("/ui/", UriKind.Relative));
        icon.StatusCode.Should().Be(HttpStatusCode.OK);
        icon.Content.Headers.ContentType!.MediaType.Should().Be("image/svg+xml");
        missing.StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task EveryFileThePageAndItsScriptsName_IsServed_WithItsType_AndRevalidatedByETag()
    {
        await using var corral = await CorralInstance.StartAsync([]);
        using var anonymous = new HttpClient { BaseAddress = corral.BaseAddress };
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Queue<string>(["/ui/"]);

        while (pending.TryDequeue(out var path))
        {
            if (!seen.Add(path))
            {
                continue;
            }

            using var answer = await anonymous.GetAsync(path);
            answer.StatusCode.Should().Be(HttpStatusCode.OK, $"{path} is named by the console");
            var text = await answer.Content.ReadAsStringAsync();
            var type = answer.Content.Headers.ContentType!.MediaType;
            type.Should().Be(Path.GetExtension(path) switch
            {
                ".js" => "text/javascript",
                ".css" => "text/css",
                ".svg" => "image/svg+xml",
                _ => "text/html",
            });
            foreach (var named in Named(path, text, type!))
            {
                pending.Enqueue(named);
            }
        }

        seen.Should().Contain(["/ui/js/app.js", "/ui/js/pages/fleet.js", "/ui/js/pages/playground.js", "/ui/vendor/uPlot.esm.js", "/ui/app.css", "/ui/favicon.svg"]);
        using var first = await anonymous.GetAsync("/ui/js/app.js");
        using var again = new HttpRequestMessage(HttpMethod.Get, "/ui/js/app.js");
        again.Headers.IfNoneMatch.Add(first.Headers.ETag!);
        using var revalidated = await anonymous.SendAsync(again);
        revalidated.StatusCode.Should().Be(HttpStatusCode.NotModified);
    }

    // The files a page names (src, href) and a script imports (static and dynamic), as absolute /ui/ paths.
    private static IEnumerable<string> Named(string path, string text, string type)
    {
        var folder = path.EndsWith('/') ? path : path[..(path.LastIndexOf('/') + 1)];
        var references = type == "text/html" ? HtmlReference().Matches(text).Select(m => m.Groups[1].Value)
            : type == "text/javascript" ? ImportReference().Matches(text).Select(m => m.Groups[1].Value)
            : [];
        foreach (var reference in references.Where(r => r.StartsWith('/') || r.StartsWith('.')))
        {
            var absolute = new Uri(new Uri("http://corral" + folder), reference).AbsolutePath;
            if (absolute.StartsWith("/ui/", StringComparison.Ordinal))
            {
                yield return absolute;
            }
        }
    }

    private static HttpRequestMessage Get(string path, string accept)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd(accept);
        return request;
    }

    [GeneratedRegex("""(?:src|href)="([^"#]+)""")]
    private static partial Regex HtmlReference();

    [GeneratedRegex("""(?:from\s+|import\()\s*'([^']+)'""")]
    private static partial Regex ImportReference();
}
