using SpineXR.Jobs;
using SpineXR.Dicom;
using SpineXR.Dicom.Web;
using SpineXR.Inference;
using SpineXR.Reports;

namespace SpineXR.Web.Tests.DicomWeb;

/// <summary>
/// `predict --from-dicomweb URL --study UID --to-dicomweb URL` against a real Orthanc: the study is listed (QIDO-RS)
/// and fetched (WADO-RS), predicted by PredictionJob (fake predictor), and its SRs and GSPSs stored back (STOW-RS).
/// </summary>
public sealed class DicomWebTransferTests
{
    [Fact]
    public async Task A_study_is_fetched_predicted_and_its_results_stored_back()
    {
        using var orthanc = await OrthancProcess.StartAsync(OrthancProcess.FreePort(), OrthancProcess.FreePort(), new Dictionary<string, string>());
        string dir = Directory.CreateTempSubdirectory("spinexr-transfer-").FullName;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        var client = new DicomWebClient(http);
        try
        {
            string study = DicomUid.FromSeed("transfer/study"), series = DicomUid.FromSeed("transfer/series");
            var sops = new[] { DicomUid.FromSeed("transfer/a"), DicomUid.FromSeed("transfer/b") };
            var sent = sops.Select((sop, i) =>
            {
                string f = Path.Combine(dir, $"in{i}.dcm");
                File.WriteAllBytes(f, OrthancRoundTripTests.Image("TR1", study, series, sop, i));
                return f;
            }).ToList();
            OrthancRoundTripTests.StoreScu(orthanc.DicomPort, sent);

            var fetched = await DicomWebTransfer.FetchStudyAsync(client, orthanc.DicomWebUrl, study, Path.Combine(dir, "out", "dicomweb"));
            Assert.Equal(sops.Order(), fetched.Select(Path.GetFileNameWithoutExtension).Order());
            Assert.Equal(sops[0], DicomFile.Open(fetched.Single(f => f.Contains(sops[0]))).Dataset.GetString(DicomTags.SOPInstanceUID));

            var options = new PredictionJobOptions { OutDir = Path.Combine(dir, "out"), Quiet = true, Overlays = false, StructuredReport = true, PresentationState = true };
            var result = new PredictionJob(new FakePredictor(), SpineImageLoader.Load, options).Run(fetched, []);
            Assert.Empty(result.Errors);

            var stored = await DicomWebTransfer.SendResultsAsync(client, orthanc.DicomWebUrl, options.OutDir);
            Assert.Equal(4, stored.Stored.Count);
            Assert.Empty(stored.Failed);
            using var pacs = new HttpClient { BaseAddress = new Uri(orthanc.DicomWebUrl + "/") };
            var srSeries = Assert.Single(await OrthancRoundTripTests.QidoAsync(pacs, $"studies/{study}/series?Modality=SR"));
            var instances = await OrthancRoundTripTests.QidoAsync(pacs, $"studies/{study}/series/{srSeries.GetString(DicomTags.SeriesInstanceUID)}/instances");
            Assert.Equal(2, instances.Count);
            Assert.Single(await OrthancRoundTripTests.QidoAsync(pacs, $"studies/{study}/series?Modality=PR"));

            // the stored SRs are the run's: fetch the whole study back and read them
            var all = await client.RetrieveStudyAsync(orthanc.DicomWebUrl, study);
            var reports = all.Select(b => DicomFile.Read(b).Dataset).Where(d => d.GetString(DicomTags.SOPClassUID) == MeasurementReport.SopClassUid)
                .Select(MeasurementReport.Read).ToList();
            Assert.Equal(sops.Order(), reports.Select(r => r.SourceSopInstanceUid).Order());
            foreach (var r in reports)
            {
                var p = result.Predictions.Single(x => x.SopInstanceUid == r.SourceSopInstanceUid);
                Assert.Equal(p.Boxes.Select(b => b.Xyxy), r.Boxes.Select(b => b.Xyxy));
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task An_unknown_study_or_an_unreachable_service_is_a_dicom_exception_naming_it()
    {
        using var orthanc = await OrthancProcess.StartAsync(OrthancProcess.FreePort(), OrthancProcess.FreePort(), new Dictionary<string, string>());
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var client = new DicomWebClient(http);
        string dir = Directory.CreateTempSubdirectory("spinexr-transfer-").FullName;
        try
        {
            var e = await Assert.ThrowsAsync<DicomException>(() => DicomWebTransfer.FetchStudyAsync(client, orthanc.DicomWebUrl, "1.2.3.4", dir));
            Assert.Contains("study 1.2.3.4 not found", e.Message);
            e = await Assert.ThrowsAsync<DicomException>(() => DicomWebTransfer.FetchStudyAsync(client, new Uri($"http://127.0.0.1:{OrthancProcess.FreePort()}/dicom-web"), "1.2.3.4", dir));
            Assert.Contains("127.0.0.1", e.Message);
            e = await Assert.ThrowsAsync<DicomException>(() => DicomWebTransfer.FetchStudyAsync(client, orthanc.DicomWebUrl, "not-a-uid", dir));
            Assert.Contains("not a valid Study Instance UID", e.Message);
        }
        finally { Directory.Delete(dir, true); }
    }
}
