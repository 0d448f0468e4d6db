using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using SpineXR.Jobs;
using SpineXR.Dicom;
using SpineXR.Reports;
using SpineXR.Web.Tests.DicomWeb;

namespace SpineXR.Web.Tests.Api;

/// <summary>The SR and presentation state of a result, asked of POST /api/v1/predict or fetched from /api/v1/results/{id}/sr|gsps.</summary>
public sealed class DicomResultsTests
{
    private static ByteArrayContent Body(byte[] bytes, string type)
    {
        var c = new ByteArrayContent(bytes);
        c.Headers.ContentType = new MediaTypeHeaderValue(type);
        return c;
    }

    private static async Task<HttpResponseMessage> PostAsync(TestServer ts, byte[] body, string type, string query = "", string? accept = null)
    {
        var req = new HttpRequestMessage(HttpMethod.Post, "/api/v1/predict" + query) { Content = Body(body, type) };
        if (accept != null) req.Headers.Accept.ParseAdd(accept);
        return await ts.Client.SendAsync(req);
    }

    [Fact]
    public async Task Accept_dicom_answers_the_sr_whose_boxes_and_scores_are_the_json_results()
    {
        await using var ts = await TestServer.StartAsync(new FakePredictor());
        var r = await PostAsync(ts, TestImages.Dicom(320, 256), "application/dicom", accept: "application/dicom");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("application/dicom", r.Content.Headers.ContentType?.MediaType);
        byte[] sr = await r.Content.ReadAsByteArrayAsync();
        string id = r.Headers.GetValues("X-Result-Id").Single();

        var json = JsonDocument.Parse(await ts.Client.GetStringAsync($"/api/v1/results/{id}")).RootElement.GetProperty("prediction");
        var found = MeasurementReport.Read(DicomFile.Read(sr).Dataset);
        Assert.Equal(TestImages.SopInstanceUid, found.SourceSopInstanceUid);
        Assert.Equal(json.GetProperty("verdict").GetString(), found.Verdict);
        ReportedFindingsAssert.SameAsPrediction(json, found);
        // the same object later, byte for byte
        Assert.Equal(sr, await ts.Client.GetByteArrayAsync($"/api/v1/results/{id}/sr"));
    }

    /// <summary>The dataset in DICOM JSON without the times of its making (creation, content, contribution).</summary>
    private static string Timeless(byte[] part10)
    {
        var ds = DicomFile.Read(part10).Dataset;
        foreach (var tag in new[] { DicomTags.InstanceCreationDate, DicomTags.InstanceCreationTime, DicomTags.ContentDate, DicomTags.ContentTime,
                     DicomTags.PresentationCreationDate, DicomTags.PresentationCreationTime })
            ds.Remove(tag);
        foreach (var item in ds.GetSequence(DicomTags.ContributingEquipmentSequence)) item.Remove(DicomTags.ContributionDateTime);
        return SpineXR.Dicom.Web.DicomJson.Serialize(ds);
    }

    [Fact]
    public async Task Serve_answers_the_same_sr_and_gsps_that_predict_writes_for_the_same_image_and_models()
    {
        var predictor = new FakePredictor();
        string dir = Directory.CreateTempSubdirectory("spinexr-same-").FullName;
        try
        {
            string file = Path.Combine(dir, "scan.dcm");
            File.WriteAllBytes(file, TestImages.Dicom(320, 256));
            var options = new SpineXR.Jobs.PredictionJobOptions
            {
                OutDir = Path.Combine(dir, "out"), Quiet = true, Overlays = false, StructuredReport = true, PresentationState = true,
            };
            new SpineXR.Jobs.PredictionJob(predictor, SpineXR.Inference.SpineImageLoader.Load, options).Run([file], []);

            await using var ts = await TestServer.StartAsync(predictor);
            var sr = await PostAsync(ts, File.ReadAllBytes(file), "application/dicom", accept: "application/dicom");
            var gsps = await PostAsync(ts, File.ReadAllBytes(file), "application/dicom", "?result=gsps");
            Assert.Equal(Timeless(File.ReadAllBytes(Path.Combine(options.OutDir, "dicom", "sr", "scan.dcm"))), Timeless(await sr.Content.ReadAsByteArrayAsync()));
            Assert.Equal(Timeless(File.ReadAllBytes(Path.Combine(options.OutDir, "dicom", "pr", "scan.dcm"))), Timeless(await gsps.Content.ReadAsByteArrayAsync()));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task Result_gsps_answers_a_presentation_state_on_the_uploaded_image()
    {
        await using var ts = await TestServer.StartAsync(new FakePredictor());
        var r = await PostAsync(ts, TestImages.Dicom(320, 256), "application/dicom", "?result=gsps");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var pr = DicomFile.Read(await r.Content.ReadAsByteArrayAsync()).Dataset;
        Assert.Equal(PresentationState.SopClassUid, pr.GetString(DicomTags.SOPClassUID));
        var image = Assert.Single(Assert.Single(pr.GetSequence(DicomTags.ReferencedSeriesSequence)).GetSequence(DicomTags.ReferencedImageSequence));
        Assert.Equal(TestImages.SopInstanceUid, image.GetString(DicomTags.ReferencedSOPInstanceUID));
        Assert.Equal(FakePredictor.Boxes.Length,
            pr.GetSequence(DicomTags.GraphicAnnotationSequence).Sum(a => a.GetSequence(DicomTags.GraphicObjectSequence).Count));
        string id = r.Headers.GetValues("X-Result-Id").Single();
        Assert.Equal(await r.Content.ReadAsByteArrayAsync(), await ts.Client.GetByteArrayAsync($"/api/v1/results/{id}/gsps"));
    }

    [Fact]
    public async Task A_png_upload_has_no_dicom_result_and_a_bad_result_parameter_is_refused()
    {
        await using var ts = await TestServer.StartAsync(new FakePredictor());
        var png = TestImages.Png8(64, 48, (x, y) => (byte)(x + y));
        var r = await PostAsync(ts, png, "image/png", "?result=sr");
        Assert.Equal(HttpStatusCode.NotAcceptable, r.StatusCode);
        Assert.Contains("no-dicom-source", await r.Content.ReadAsStringAsync());

        var plain = await PostAsync(ts, png, "image/png");
        Assert.Equal(HttpStatusCode.OK, plain.StatusCode); // JSON as before
        string id = plain.Headers.GetValues("X-Result-Id").Single();
        Assert.Equal(HttpStatusCode.NotAcceptable, (await ts.Client.GetAsync($"/api/v1/results/{id}/gsps")).StatusCode);

        // application/dicom+json is not application/dicom: the JSON answer
        var json = await PostAsync(ts, TestImages.Dicom(32, 32), "application/dicom", accept: "application/dicom+json, application/json");
        Assert.Equal("application/json", json.Content.Headers.ContentType?.MediaType);

        var bad = await PostAsync(ts, TestImages.Dicom(32, 32), "application/dicom", "?result=xml");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("result must be json, sr or gsps", await bad.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await ts.Client.GetAsync("/api/v1/results/no-such-id/sr")).StatusCode);
    }
}
