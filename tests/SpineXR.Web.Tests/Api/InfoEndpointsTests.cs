using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace SpineXR.Web.Tests.Api;

public sealed class InfoEndpointsTests
{
    [Fact]
    public async Task Health_and_models_describe_the_server_and_its_provenance()
    {
        await using var ts = await TestServer.StartAsync(new FakePredictor(), new SpineServerOptions { MaxConcurrency = 3, QueueLength = 5 });
        var health = JsonDocument.Parse(await ts.Client.GetStringAsync("/api/v1/health")).RootElement;
        Assert.Equal("ok", health.GetProperty("status").GetString());
        Assert.Equal(3, health.GetProperty("max_concurrency").GetInt32());
        Assert.Equal(5, health.GetProperty("queue_length").GetInt32());

        var models = JsonDocument.Parse(await ts.Client.GetStringAsync("/api/v1/models")).RootElement;
        Assert.Equal("runs/fake-classifier", models.GetProperty("classifiers")[0].GetString());
        Assert.Equal(0.28, models.GetProperty("abnormal_threshold").GetDouble());
        var classes = models.GetProperty("classes").EnumerateArray().ToList();
        Assert.Equal(7, classes.Count);
        Assert.Equal("Spondylolysthesis", classes[2].GetProperty("name").GetString());
        Assert.Matches("^#[0-9a-f]{6}$", classes[2].GetProperty("color").GetString());
    }

    [Fact]
    public async Task OpenApi_document_lists_every_api_route_and_no_other()
    {
        await using var ts = await TestServer.StartAsync(new FakePredictor());
        var doc = JsonDocument.Parse(await ts.Client.GetStringAsync("/api/v1/openapi.json")).RootElement;
        Assert.StartsWith("3.", doc.GetProperty("openapi").GetString());
        var documented = doc.GetProperty("paths").EnumerateObject()
            .SelectMany(p => p.Value.EnumerateObject().Select(m => m.Name.ToUpperInvariant() + " " + p.Name)).ToHashSet();

        var mapped = ts.Server.App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => (e.RoutePattern.RawText!.StartsWith("/api/v1/") || e.RoutePattern.RawText.StartsWith("/dicomweb/") || e.RoutePattern.RawText == "/metrics") && !e.RoutePattern.RawText.Contains("**"))
            .SelectMany(e => e.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods.Select(m => m + " " + e.RoutePattern.RawText))
            .ToHashSet();
        Assert.Equal(mapped.Order(), documented.Order());
    }

    [Fact]
    public async Task Viewer_is_self_contained_and_locked_to_its_origin()
    {
        await using var ts = await TestServer.StartAsync(new FakePredictor());
        foreach (var (url, type) in new[] { ("/", "text/html"), ("/viewer.js", "text/javascript"), ("/viewer.css", "text/css") })
        {
            var r = await ts.Client.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal(type, r.Content.Headers.ContentType?.MediaType);
            Assert.Contains("default-src 'self'", r.Headers.GetValues("Content-Security-Policy").Single());
            string text = await r.Content.ReadAsStringAsync();
            Assert.DoesNotMatch(new Regex(@"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", RegexOptions.IgnoreCase), text);
        }
    }
}
