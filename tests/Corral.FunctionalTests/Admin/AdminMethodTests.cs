using System.Net;
using Corral.FunctionalTests.Infrastructure;

namespace Corral.FunctionalTests.Admin;

/// <summary>A wrong method on an admin route is told which methods the route takes.</summary>
public sealed class AdminMethodTests
{
    [Theory]
    [InlineData("GET", "/admin/api/backends/a/enable", "POST")]
    [InlineData("DELETE", "/admin/api/keys", "GET, POST")]
    [InlineData("PATCH", "/admin/api/backends/a", "DELETE, GET, PUT")]
    public async Task WrongMethod_405ProblemWithAllow(string method, string path, string allow)
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var client = corral.Client();

        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        response.StatusCode.Should().Be(HttpStatusCode.MethodNotAllowed);
        response.Content.Headers.Allow.Should().BeEquivalentTo(allow.Split(", "));
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        (await response.Content.ReadAsStringAsync()).Should().Contain($"use {allow}");
    }

    [Fact]
    public async Task UnknownAdminPath_Stays404()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var client = corral.Client();

        using var response = await client.GetAsync("/admin/api/nothing-here");

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
    }
}
