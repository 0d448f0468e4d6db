using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using SpineXR.Web.Uploads;

namespace SpineXR.Web.Tests.Guards;

/// <summary>Cross-site POSTs, foreign Host headers, unsafe binds, nosniff, result isolation and opaque 500s.</summary>
public sealed class RequestGuardTests
{
    private static ByteArrayContent Dicom()
    {
        var c = new ByteArrayContent(TestImages.Dicom(96, 64));
        c.Headers.ContentType = new MediaTypeHeaderValue("application/dicom");
        return c;
    }

    private static HttpRequestMessage Post(Action<HttpRequestMessage> headers)
    {
        var m = new HttpRequestMessage(HttpMethod.Post, "/api/v1/predict") { Content = Dicom() };
        headers(m);
        return m;
    }

    [Fact]
    public async Task Cross_site_posts_are_refused_and_same_origin_ones_pass()
    {
        await using var ts = await TestServer.StartAsync(new FakePredictor());
        using var crossSite = await ts.Client.SendAsync(Post(m => m.Headers.Add("Sec-Fetch-Site", "cross-site")));
        Assert.Equal(HttpStatusCode.Forbidden, crossSite.StatusCode);
        using var foreignOrigin = await ts.Client.SendAsync(Post(m => m.Headers.Add("Origin", "http://evil.example")));
        Assert.Equal(HttpStatusCode.Forbidden, foreignOrigin.StatusCode);
        using var nullOrigin = await ts.Client.SendAsync(Post(m => m.Headers.Add("Origin", "null")));
        Assert.Equal(HttpStatusCode.Forbidden, nullOrigin.StatusCode);
        Assert.Contains("cross-site", await crossSite.Content.ReadAsStringAsync());

        string self = ts.BaseAddress.GetLeftPart(UriPartial.Authority);
        using var sameOrigin = await ts.Client.SendAsync(Post(m =>
        {
            m.Headers.Add("Origin", self);
            m.Headers.Add("Sec-Fetch-Site", "same-origin");
        }));
        Assert.Equal(HttpStatusCode.OK, sameOrigin.StatusCode);
        using var plain = await ts.Client.SendAsync(Post(_ => { })); // curl sends neither header
        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
    }

    [Fact]
    public async Task A_foreign_host_header_is_refused_on_loopback()
    {
        await using var ts = await TestServer.StartAsync(new FakePredictor());
        var m = new HttpRequestMessage(HttpMethod.Get, "/api/v1/health");
        m.Headers.Host = "rebound.example:80";
        using var r = await ts.Client.SendAsync(m);
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await ts.Client.GetAsync("/api/v1/health")).StatusCode);
    }

    [Theory]
    [InlineData("/api/v1/health")]
    [InlineData("/api/v1/results/00000000000000000000000000000000")]
    [InlineData("/")]
    [InlineData("/metrics")]
    public async Task Every_response_carries_nosniff(string path)
    {
        await using var ts = await TestServer.StartAsync(new FakePredictor());
        using var r = await ts.Client.GetAsync(path);
        Assert.Equal("nosniff", r.Headers.GetValues("X-Content-Type-Options").Single());
        using var bad = await ts.Client.PostAsync("/api/v1/predict", new StringContent("x", null, "text/plain"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, bad.StatusCode);
        Assert.Equal("nosniff", bad.Headers.GetValues("X-Content-Type-Options").Single());
    }

    [Theory]
    [InlineData("http://0.0.0.0:5080", null, "key")]
    [InlineData("http://*:5080", null, "key")]
    [InlineData("http://192.168.1.20:5080", null, "key")]
    [InlineData("https://127.0.0.1:5443", null, "--cert and --cert-key")]
    public void Unsafe_binds_are_refused_naming_the_remedy(string urls, string? key, string remedy)
    {
        var e = Assert.Throws<ArgumentException>(() => new SpineServerOptions { Urls = urls, ApiKey = key }.Validate());
        Assert.Equal(nameof(SpineServerOptions.Urls), e.ParamName);
        Assert.Contains(remedy, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Loopback_binds_need_no_key_and_others_take_one()
    {
        new SpineServerOptions { Urls = "http://localhost:5080;http://[::1]:5080;http://127.0.0.2:0" }.Validate();
        new SpineServerOptions { Urls = "http://0.0.0.0:5080", ApiKey = "k" }.Validate();
        Assert.Equal(["*"], new SpineServerOptions { Urls = "http://0.0.0.0:5080", ApiKey = "k" }.HostsAllowed);
        Assert.Contains("localhost", new SpineServerOptions().HostsAllowed);
        Assert.Contains("127.0.0.2", new SpineServerOptions { Urls = "http://127.0.0.2:5080" }.HostsAllowed); // the bound address itself
        Assert.DoesNotContain("*", new SpineServerOptions().HostsAllowed);
    }

    [Fact]
    public async Task Results_are_random_ids_bound_to_the_caller()
    {
        await using var ts = await TestServer.StartAsync(new FakePredictor());
        using var r = await ts.Client.PostAsync("/api/v1/predict", Dicom());
        string id = r.Headers.GetValues("X-Result-Id").Single();
        Assert.Matches("^[0-9a-f]{32}$", id);
        Assert.Equal(HttpStatusCode.OK, (await ts.Client.GetAsync($"/api/v1/results/{id}")).StatusCode);

        using var other = LoopbackClients.From("127.0.0.9", ts.BaseAddress);
        string never = new string('0', 32);
        string Detail(string body) => JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString()!;
        string unknown = Detail(await (await other.GetAsync($"/api/v1/results/{never}")).Content.ReadAsStringAsync());
        foreach (var path in new[] { $"/api/v1/results/{id}", $"/api/v1/results/{id}/raw", $"/api/v1/overlay/{id}.png", $"/api/v1/image/{id}.png" })
        {
            using var theirs = await other.GetAsync(path);
            Assert.Equal(HttpStatusCode.NotFound, theirs.StatusCode);
            // Someone else's result reads exactly as one that never existed.
            Assert.Equal(unknown, Detail(await theirs.Content.ReadAsStringAsync()));
        }
        // The same upload again is a second result; the first stays.
        using var r2 = await ts.Client.PostAsync("/api/v1/predict", Dicom());
        Assert.NotEqual(id, r2.Headers.GetValues("X-Result-Id").Single());
        Assert.Equal(HttpStatusCode.OK, (await ts.Client.GetAsync($"/api/v1/results/{id}")).StatusCode);
    }

    [Fact]
    public async Task With_a_key_results_are_bound_to_the_key_as_well()
    {
        await using var ts = await TestServer.StartAsync(new FakePredictor(), new SpineServerOptions { ApiKey = "k1" });
        ts.Client.DefaultRequestHeaders.Add("X-Api-Key", "k1");
        using var r = await ts.Client.PostAsync("/api/v1/predict", Dicom());
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        string id = r.Headers.GetValues("X-Result-Id").Single();
        Assert.Equal(HttpStatusCode.OK, (await ts.Client.GetAsync($"/api/v1/overlay/{id}.png")).StatusCode);
        using var noKey = new HttpClient { BaseAddress = ts.BaseAddress };
        Assert.Equal(HttpStatusCode.Unauthorized, (await noKey.GetAsync($"/api/v1/results/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await noKey.GetAsync("/metrics")).StatusCode);
        // Another key holder on the same machine is another caller.
        using var otherKey = new HttpClient { BaseAddress = ts.BaseAddress };
        otherKey.DefaultRequestHeaders.Add("X-Api-Key", "k2");
        Assert.Equal(HttpStatusCode.Unauthorized, (await otherKey.GetAsync($"/api/v1/results/{id}")).StatusCode);
    }

    private sealed class ThrowingDecoder : IUploadDecoder
    {
        public DecodedUpload Decode(ReadOnlyMemory<byte> bytes, UploadKind kind, string fileName, UploadLimits limits) =>
            throw new InvalidOperationException("secret internals at /srv/spinexr/state");
    }

    [Fact]
    public async Task A_500_names_no_exception_type_or_message()
    {
        var options = new SpineServerOptions { Urls = "http://127.0.0.1:0", ConsoleLogging = false };
        await using var server = SpineServer.Create(options, new FakePredictor(), new ThrowingDecoder());
        await server.StartAsync();
        using var client = new HttpClient { BaseAddress = new Uri(server.Addresses.Single()) };
        using var r = await client.PostAsync("/api/v1/predict", Dicom());
        Assert.Equal(HttpStatusCode.InternalServerError, r.StatusCode);
        string body = await r.Content.ReadAsStringAsync();
        Assert.DoesNotContain("InvalidOperation", body);
        Assert.DoesNotContain("secret", body);
        Assert.Equal("urn:spinexr:problem:internal", JsonDocument.Parse(body).RootElement.GetProperty("type").GetString());
    }
}
