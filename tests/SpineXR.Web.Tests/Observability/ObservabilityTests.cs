using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using SpineXR.Dicom;

namespace SpineXR.Web.Tests.Observability;

/// <summary>The JSON-lines access log (no PHI) and GET /metrics in the Prometheus text format.</summary>
public sealed class ObservabilityTests
{
    private static byte[] NamedPatientDicom()
    {
        var bytes = TestImages.Dicom(96, 64);
        var file = DicomFile.Read(bytes);
        file.Dataset.SetString(DicomTags.PatientName, DicomVR.PN, "DOE^JANE");
        return DicomWriter.ToBytes(file.Dataset, file.TransferSyntax.Uid);
    }

    [Fact]
    public async Task Each_request_is_one_json_line_with_caller_status_bytes_duration_and_result_id_and_no_phi()
    {
        var log = new StringWriter();
        var options = new SpineServerOptions { Urls = "http://127.0.0.1:0", ConsoleLogging = false };
        await using var server = SpineServer.Create(options, new FakePredictor(), accessLog: log);
        await server.StartAsync();
        using var client = new HttpClient { BaseAddress = new Uri(server.Addresses.Single()) };

        var form = new MultipartFormDataContent();
        var part = new ByteArrayContent(NamedPatientDicom());
        part.Headers.ContentType = new MediaTypeHeaderValue("application/dicom");
        form.Add(part, "file", "DOE_JANE.dcm");
        using var r = await client.PostAsync("/api/v1/predict", form);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        string id = r.Headers.GetValues("X-Result-Id").Single();
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/v1/results/ffffffffffffffffffffffffffffffff")).StatusCode);
        await client.GetAsync($"/api/v1/results/{id}");

        var lines = log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        var post = JsonDocument.Parse(lines[0]).RootElement;
        Assert.Equal("POST", post.GetProperty("method").GetString());
        Assert.Equal("/api/v1/predict", post.GetProperty("route").GetString());
        Assert.Equal(200, post.GetProperty("status").GetInt32());
        Assert.Equal(id, post.GetProperty("result_id").GetString());
        Assert.Equal("127.0.0.1", post.GetProperty("caller").GetString());
        Assert.True(post.GetProperty("bytes_in").GetInt64() > 96 * 64 * 2);
        Assert.True(post.GetProperty("bytes_out").GetInt64() > 100);
        Assert.True(post.GetProperty("duration_ms").GetDouble() > 0);
        Assert.True(DateTimeOffset.TryParse(post.GetProperty("time").GetString(), out _));
        Assert.Equal(404, JsonDocument.Parse(lines[1]).RootElement.GetProperty("status").GetInt32());
        Assert.Equal(id, JsonDocument.Parse(lines[2]).RootElement.GetProperty("result_id").GetString());
        Assert.DoesNotContain("DOE", log.ToString(), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("JANE", log.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Metrics_count_requests_by_status_and_expose_latency_queue_and_in_flight()
    {
        await using var ts = await TestServer.StartAsync(new FakePredictor());
        var c = new ByteArrayContent(TestImages.Dicom(96, 64));
        c.Headers.ContentType = new MediaTypeHeaderValue("application/dicom");
        Assert.Equal(HttpStatusCode.OK, (await ts.Client.PostAsync("/api/v1/predict", c)).StatusCode);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await ts.Client.PostAsync("/api/v1/predict", new StringContent("x"))).StatusCode);

        using var r = await ts.Client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.StartsWith("text/plain", r.Content.Headers.ContentType!.ToString());
        string text = await r.Content.ReadAsStringAsync();
        Assert.Contains("spinexr_http_requests_total{route=\"/api/v1/predict\",status=\"200\"} 1", text);
        Assert.Contains("spinexr_http_requests_total{route=\"/api/v1/predict\",status=\"415\"} 1", text);
        Assert.Contains("spinexr_http_request_duration_seconds_bucket{route=\"/api/v1/predict\",le=\"+Inf\"} 2", text);
        Assert.Contains("spinexr_queue_waiting 0", text);
        Assert.Contains("spinexr_predictions_running 0", text);
        Assert.Contains("spinexr_uploads_in_flight 0", text);
        Assert.Contains("# TYPE spinexr_http_request_duration_seconds histogram", text);
    }
}
