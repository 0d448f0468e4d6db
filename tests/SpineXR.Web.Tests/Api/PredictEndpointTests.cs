using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using SkiaSharp;

namespace SpineXR.Web.Tests.Api;

/// <summary>POST /api/v1/predict through the real HTTP stack (Kestrel on loopback).</summary>
public sealed class PredictEndpointTests
{
    private static ByteArrayContent Body(byte[] bytes, string type)
    {
        var c = new ByteArrayContent(bytes);
        c.Headers.ContentType = new MediaTypeHeaderValue(type);
        return c;
    }

    private static MultipartFormDataContent Form(byte[] bytes, string fileName, string? partType)
    {
        var part = new ByteArrayContent(bytes);
        if (partType != null) part.Headers.ContentType = new MediaTypeHeaderValue(partType);
        return new MultipartFormDataContent { { new StringContent("hello"), "note" }, { part, "file", fileName } };
    }

    private static async Task<JsonElement> Json(HttpResponseMessage r) =>
        JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement;

    private static async Task<JsonElement> Problem(HttpResponseMessage r, HttpStatusCode status)
    {
        Assert.Equal(status, r.StatusCode);
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        var p = await Json(r);
        Assert.Equal((int)status, p.GetProperty("status").GetInt32());
        Assert.StartsWith("urn:spinexr:problem:", p.GetProperty("type").GetString());
        Assert.False(string.IsNullOrWhiteSpace(p.GetProperty("detail").GetString()));
        return p;
    }

    private static void AssertFakeBoxes(JsonElement pred, int width, int height)
    {
        Assert.Equal(width, pred.GetProperty("width").GetInt32());
        Assert.Equal(height, pred.GetProperty("height").GetInt32());
        var boxes = pred.GetProperty("boxes").EnumerateArray().ToList();
        Assert.Equal(FakePredictor.Boxes.Length, boxes.Count);
        var first = boxes[0];
        Assert.Equal("Osteophytes", first.GetProperty("class").GetString());
        Assert.Equal(0, first.GetProperty("class_id").GetInt32());
        Assert.Equal(0.9, first.GetProperty("score").GetDouble(), 5);
        var xyxy = first.GetProperty("box").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal([0.1 * width, 0.1 * height, 0.4 * width, 0.3 * height], xyxy, (a, b) => Math.Abs(a - b) < 1e-3);
        Assert.Contains(pred.GetProperty("verdict").GetString(), new[] { "normal", "abnormal" });
        Assert.InRange(pred.GetProperty("abnormal_prob").GetDouble(), 0, 1);
    }

    [Fact]
    public async Task Dicom_body_gives_the_predictors_boxes_and_the_sop_instance_uid()
    {
        await using var ts = await TestServer.StartAsync(new FakePredictor());
        var r = await ts.Client.PostAsync("/api/v1/predict", Body(TestImages.Dicom(320, 256), "application/dicom"));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var pred = await Json(r);
        AssertFakeBoxes(pred, 320, 256);
        Assert.Equal(TestImages.SopInstanceUid, pred.GetProperty("image_id").GetString());
        // The result id is random, never the UID: /results/{uid} finds nothing.
        string id = r.Headers.GetValues("X-Result-Id").Single();
        Assert.Matches("^[0-9a-f]{32}$", id);
        Assert.Equal(HttpStatusCode.NotFound, (await ts.Client.GetAsync($"/api/v1/results/{TestImages.SopInstanceUid}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await ts.Client.GetAsync($"/api/v1/results/{id}")).StatusCode);
    }

    [Fact]
    public async Task Dicom_as_multipart_octet_stream_is_sniffed()
    {
        await using var ts = await TestServer.StartAsync(new FakePredictor());
        var r = await ts.Client.PostAsync("/api/v1/predict", Form(TestImages.Dicom(200, 300), "spine.dcm", "application/octet-stream"));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var pred = await Json(r);
        AssertFakeBoxes(pred, 200, 300);
        Assert.Equal("spine.dcm", pred.GetProperty("file").GetString());
        // As `spinexr predict`: a named file's stem is the image id; the UID stays in sop_instance_uid.
        Assert.Equal("spine", pred.GetProperty("image_id").GetString());
        Assert.Equal(TestImages.SopInstanceUid, pred.GetProperty("sop_instance_uid").GetString());
    }

    [Fact]
    public async Task Png_body_and_multipart_png_give_boxes_and_each_upload_its_own_id()
    {
        await using var ts = await TestServer.StartAsync(new FakePredictor());
        var png = TestImages.Png8(300, 200, (x, y) => (byte)(x % 256));
        var r1 = await ts.Client.PostAsync("/api/v1/predict", Body(png, "image/png"));
        Assert.Equal(HttpStatusCode.OK, r1.StatusCode);
        AssertFakeBoxes(await Json(r1), 300, 200);
        var r2 = await ts.Client.PostAsync("/api/v1/predict", Form(png, "x.png", "image/png"));
        Assert.Equal(HttpStatusCode.OK, r2.StatusCode);
        string id = r1.Headers.GetValues("X-Result-Id").Single();
        Assert.Matches("^[0-9a-f]{32}$", id);
        // Same bytes, separate uploads: separate results (a second upload never replaces the first).
        Assert.NotEqual(id, r2.Headers.GetValues("X-Result-Id").Single());
        Assert.Equal(HttpStatusCode.OK, (await ts.Client.GetAsync($"/api/v1/results/{id}")).StatusCode);
    }

    [Theory]
    [InlineData("application/dicom")]
    [InlineData("image/png")]
    public async Task Garbage_gives_400_with_the_readers_reason(string type)
    {
        var fake = new FakePredictor();
        await using var ts = await TestServer.StartAsync(fake);
        var garbage = new byte[5000];
        new Random(7).NextBytes(garbage);
        var r = await ts.Client.PostAsync("/api/v1/predict", Body(garbage, type));
        var p = await Problem(r, HttpStatusCode.BadRequest);
        Assert.Contains("upload", p.GetProperty("detail").GetString());
        Assert.True(p.GetProperty("detail").GetString()!.Length > "upload.dcm: ".Length + 5);
        Assert.Equal(0, fake.Calls);
    }

    [Fact]
    public async Task Truncated_dicom_gives_400_naming_the_problem()
    {
        await using var ts = await TestServer.StartAsync(new FakePredictor());
        var dcm = TestImages.Dicom(256, 256);
        var r = await ts.Client.PostAsync("/api/v1/predict", Body(dcm[..(dcm.Length / 2)], "application/dicom"));
        await Problem(r, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Oversized_body_gives_413_by_content_length_and_when_chunked()
    {
        var fake = new FakePredictor();
        await using var ts = await TestServer.StartAsync(fake, new SpineServerOptions { MaxUploadMB = 1 });
        var big = new byte[(1 << 20) + 1];
        var r = await ts.Client.PostAsync("/api/v1/predict", Body(big, "application/dicom"));
        var p = await Problem(r, HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains("1 MiB", p.GetProperty("detail").GetString());

        // No Content-Length: the limit holds while reading.
        var chunked = new StreamContent(new MemoryStream(big));
        chunked.Headers.ContentType = new MediaTypeHeaderValue("application/dicom");
        var req = new HttpRequestMessage(HttpMethod.Post, "/api/v1/predict") { Content = chunked };
        req.Headers.TransferEncodingChunked = true;
        await Problem(await ts.Client.SendAsync(req), HttpStatusCode.RequestEntityTooLarge);

        var form = Form(big, "big.dcm", "application/dicom");
        await Problem(await ts.Client.PostAsync("/api/v1/predict", form), HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal(0, fake.Calls);

        // Just under the limit is accepted (then fails as a DICOM, which is the reader's business).
        var r2 = await ts.Client.PostAsync("/api/v1/predict", Body(new byte[1 << 20], "application/dicom"));
        Assert.Equal(HttpStatusCode.BadRequest, r2.StatusCode);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/json")]
    [InlineData("image/jpeg")]
    public async Task Unsupported_content_type_gives_415(string type)
    {
        await using var ts = await TestServer.StartAsync(new FakePredictor());
        var r = await ts.Client.PostAsync("/api/v1/predict", Body(TestImages.Dicom(64, 64), type));
        await Problem(r, HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task Multipart_part_of_unsupported_type_or_unknown_bytes_gives_415()
    {
        await using var ts = await TestServer.StartAsync(new FakePredictor());
        await Problem(await ts.Client.PostAsync("/api/v1/predict", Form([1, 2, 3], "a.txt", "text/plain")), HttpStatusCode.UnsupportedMediaType);
        await Problem(await ts.Client.PostAsync("/api/v1/predict", Form([1, 2, 3], "a.bin", "application/octet-stream")), HttpStatusCode.UnsupportedMediaType);
        var none = new MultipartFormDataContent { { new StringContent("x"), "note" } };
        await Problem(await ts.Client.PostAsync("/api/v1/predict", none), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Api_key_is_required_when_set()
    {
        await using var ts = await TestServer.StartAsync(new FakePredictor(), new SpineServerOptions { ApiKey = "s3cret" });
        var dcm = TestImages.Dicom(64, 64);
        var p = await Problem(await ts.Client.PostAsync("/api/v1/predict", Body(dcm, "application/dicom")), HttpStatusCode.Unauthorized);
        Assert.Contains("X-Api-Key", p.GetProperty("detail").GetString());

        var wrong = new HttpRequestMessage(HttpMethod.Post, "/api/v1/predict") { Content = Body(dcm, "application/dicom") };
        wrong.Headers.Add("X-Api-Key", "s3cre");
        await Problem(await ts.Client.SendAsync(wrong), HttpStatusCode.Unauthorized);
        await Problem(await ts.Client.GetAsync("/api/v1/models"), HttpStatusCode.Unauthorized);

        var right = new HttpRequestMessage(HttpMethod.Post, "/api/v1/predict") { Content = Body(dcm, "application/dicom") };
        right.Headers.Add("X-Api-Key", "s3cret");
        Assert.Equal(HttpStatusCode.OK, (await ts.Client.SendAsync(right)).StatusCode);

        // Liveness, the OpenAPI document and the page need no key.
        Assert.Equal(HttpStatusCode.OK, (await ts.Client.GetAsync("/api/v1/health")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await ts.Client.GetAsync("/api/v1/openapi.json")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await ts.Client.GetAsync("/")).StatusCode);
    }

    [Fact]
    public async Task Full_queue_gives_503_with_retry_after_before_reading_the_body()
    {
        var gate = new SemaphoreSlim(0);
        var fake = new FakePredictor { Gate = gate };
        await using var ts = await TestServer.StartAsync(fake, new SpineServerOptions { MaxConcurrency = 1, QueueLength = 1 });
        var png = TestImages.Png8(64, 64, (x, y) => 100);
        var running = ts.Client.PostAsync("/api/v1/predict", Body(png, "image/png"));
        await WaitUntil(() => fake.Calls == 1);
        var waiting = ts.Client.PostAsync("/api/v1/predict", Body(png, "image/png"));
        await WaitUntil(async () => (await Json(await ts.Client.GetAsync("/api/v1/health"))).GetProperty("waiting").GetInt32() == 1);

        var refused = await ts.Client.PostAsync("/api/v1/predict", Body(png, "image/png"));
        await Problem(refused, HttpStatusCode.ServiceUnavailable);
        Assert.True(refused.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));

        gate.Release(2);
        Assert.Equal(HttpStatusCode.OK, (await running).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await waiting).StatusCode);
        Assert.Equal(1, fake.MaxRunning);
    }

    internal static async Task WaitUntil(Func<bool> cond) => await WaitUntil(() => Task.FromResult(cond()));

    internal static async Task WaitUntil(Func<Task<bool>> cond)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!await cond())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not reached in 20 s");
            await Task.Delay(20);
        }
    }
}
