using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using SpineXR.Dicom;
using SpineXR.Dicom.Web;
using SpineXR.Reports;

namespace SpineXR.Web.Tests.DicomWeb;

/// <summary>STOW-RS at POST /dicomweb/studies: every instance predicted, the answer in DICOM JSON, results forwarded.</summary>
public sealed class StowEndpointTests
{
    private const string Uid1 = "1.2.826.0.1.3680043.8.498.101", Uid2 = "1.2.826.0.1.3680043.8.498.102";

    private static HttpContent Stow(params byte[][] parts)
    {
        string boundary = MultipartRelated.NewBoundary();
        var c = new ByteArrayContent(MultipartRelated.Build(boundary, parts));
        c.Headers.ContentType = MediaTypeHeaderValue.Parse(MultipartRelated.ContentType(boundary));
        return c;
    }

    private static async Task<DicomDataset> Answer(HttpResponseMessage r)
    {
        Assert.Equal(DicomJson.MediaType, r.Content.Headers.ContentType?.MediaType);
        return DicomJson.FromJson(JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement);
    }

    [Fact]
    public async Task Every_good_instance_is_referenced_and_the_garbage_one_fails_with_a_reason()
    {
        await using var ts = await TestServer.StartAsync(new FakePredictor());
        var r = await ts.Client.PostAsync("/dicomweb/studies", Stow(TestImages.Dicom(64, 48, Uid1), "not a dicom file at all"u8.ToArray(), TestImages.Dicom(64, 48, Uid2)));
        Assert.Equal(HttpStatusCode.Accepted, r.StatusCode);
        var answer = await Answer(r);
        Assert.Equal([Uid1, Uid2], answer.GetSequence(DicomTags.ReferencedSOPSequence).Select(i => i.GetString(DicomTags.ReferencedSOPInstanceUID)));
        var failed = Assert.Single(answer.GetSequence(DicomTags.FailedSOPSequence));
        Assert.Equal(0xC000, failed.GetIntOrDefault(DicomTags.FailureReason, 0));
        Assert.Contains(r.Headers.GetValues("Warning"), w => w.Contains("part 2") && w.Contains("DICM"));
        // each instance's result is there, as for /api/v1/predict, under a random id the Retrieve URL names; not under its UID
        string url = answer.GetSequence(DicomTags.ReferencedSOPSequence)[1].GetString(DicomTags.RetrieveURL)!;
        Assert.Matches("/api/v1/results/[0-9a-f]{32}/sr$", url);
        var sr = DicomFile.Read(await ts.Client.GetByteArrayAsync(url)).Dataset;
        Assert.Equal(Uid2, MeasurementReport.Read(sr).SourceSopInstanceUid);
        Assert.Equal(HttpStatusCode.NotFound, (await ts.Client.GetAsync($"/api/v1/results/{Uid2}/sr")).StatusCode);
    }

    [Fact]
    public async Task The_sr_and_presentation_state_of_each_instance_go_to_the_destination()
    {
        await using var store = await FakeDicomWebStore.StartAsync();
        await using var ts = await TestServer.StartAsync(new FakePredictor(), new SpineServerOptions { DicomWebDestination = store.BaseUrl });
        var r = await ts.Client.PostAsync("/dicomweb/studies", Stow(TestImages.Dicom(64, 48, Uid1), TestImages.Dicom(80, 40, Uid2)));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal(2, (await Answer(r)).GetSequence(DicomTags.ReferencedSOPSequence).Count);

        Assert.Equal(4, store.Received.Count);
        var srs = store.Received.Where(d => d.GetString(DicomTags.SOPClassUID) == MeasurementReport.SopClassUid).ToList();
        Assert.Equal([Uid1, Uid2], srs.Select(d => MeasurementReport.Read(d).SourceSopInstanceUid).Order());
        Assert.Equal(2, store.Received.Count(d => d.GetString(DicomTags.SOPClassUID) == PresentationState.SopClassUid));
        // in the source study
        Assert.All(store.Received, d => Assert.Equal("1.2.826.0.1.3680043.8.498.1", d.GetString(DicomTags.StudyInstanceUID)));
        var boxes = MeasurementReport.Read(srs.Single(d => MeasurementReport.Read(d).SourceSopInstanceUid == Uid2)).Boxes;
        Assert.Equal(FakePredictor.Boxes.Length, boxes.Count);
        Assert.Equal(0.1f * 80, boxes[0].Xyxy[0], 3);
    }

    [Fact]
    public async Task An_unreachable_destination_fails_every_instance_with_processing_failure()
    {
        // a port nothing listens on: bind one, then free it
        var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        await using var ts = await TestServer.StartAsync(new FakePredictor(), new SpineServerOptions { DicomWebDestination = new Uri($"http://127.0.0.1:{port}/dicom-web") });
        var r = await ts.Client.PostAsync("/dicomweb/studies", Stow(TestImages.Dicom(64, 48, Uid1)));
        Assert.Equal(HttpStatusCode.Conflict, r.StatusCode);
        var failed = Assert.Single((await Answer(r)).GetSequence(DicomTags.FailedSOPSequence));
        Assert.Equal(0x0110, failed.GetIntOrDefault(DicomTags.FailureReason, 0));
        Assert.Equal(Uid1, failed.GetString(DicomTags.ReferencedSOPInstanceUID));
        Assert.Contains(r.Headers.GetValues("Warning"), w => w.Contains("results not delivered"));
    }

    [Fact]
    public async Task Other_media_types_routes_and_a_missing_key_are_refused()
    {
        await using var ts = await TestServer.StartAsync(new FakePredictor(), new SpineServerOptions { ApiKey = "k" });
        var req = new HttpRequestMessage(HttpMethod.Post, "/dicomweb/studies") { Content = Stow(TestImages.Dicom(64, 48, Uid1)) };
        Assert.Equal(HttpStatusCode.Unauthorized, (await ts.Client.SendAsync(req)).StatusCode);
        ts.Client.DefaultRequestHeaders.Add("X-Api-Key", "k");

        var wrong = new ByteArrayContent(TestImages.Dicom(64, 48, Uid1));
        wrong.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/related; type=\"application/dicom+xml\"; boundary=x");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await ts.Client.PostAsync("/dicomweb/studies", wrong)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await ts.Client.GetAsync("/dicomweb/studies")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await ts.Client.PostAsync("/dicomweb/studies", Stow(TestImages.Dicom(64, 48, Uid1)))).StatusCode);
    }
}
