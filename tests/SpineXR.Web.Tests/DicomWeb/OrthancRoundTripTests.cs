using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;
using SpineXR.Dicom;
using SpineXR.Dicom.Web;
using SpineXR.Reports;
using Xunit.Abstractions;

namespace SpineXR.Web.Tests.DicomWeb;

/// <summary>
/// A real PACS round trip: dcmtk's storescu sends a study to Orthanc over DIMSE; Orthanc's Lua script pushes each
/// stable study's images to SpineXR as a DICOMweb peer (STOW-RS); SpineXR predicts and stores the SR and GSPS back in
/// Orthanc (STOW-RS); the test finds them by QIDO-RS and reads them by WADO-RS.
/// </summary>
public sealed class OrthancRoundTripTests(ITestOutputHelper output)
{
    /// <summary>
    /// Forwards each study once it is stable, once per series, leaving out SpineXR's own results (SR, PR), so the
    /// results arriving do not send the study round again.
    /// </summary>
    private const string ForwardToSpineXR = """
        forwarded = {}
        function OnStableStudy(studyId, tags, metadata)
          local series = ParseJson(RestApiGet('/studies/' .. studyId .. '/series'))
          local resources = {}
          for i, s in pairs(series) do
            local modality = s['MainDicomTags']['Modality']
            if modality ~= 'SR' and modality ~= 'PR' and not forwarded[s['ID']] then
              table.insert(resources, s['ID'])
              forwarded[s['ID']] = true
            end
          end
          if #resources > 0 then
            -- asynchronous: a synchronous call would hold Orthanc's Lua engine while SpineXR stores its results back
            RestApiPost('/dicom-web/servers/spinexr/stow', DumpJson({ Resources = resources, Asynchronous = true }, true))
          end
        end
        """;

    internal static byte[] Image(string patient, string study, string series, string sop, int seed, bool garbage = false)
    {
        var rnd = new Random(seed);
        int w = 96 + seed % 5 * 8, h = 80;
        var pixels = new ushort[w * h];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (ushort)(rnd.Next(4096));
        var ds = DicomImageWriter.BuildDataset(new GrayscaleImageHeader
        {
            Rows = h, Columns = w, StudyInstanceUid = study, SeriesInstanceUid = series, SopInstanceUid = sop,
            PatientId = patient, PatientName = "Round^Trip", StudyDate = "20261202", BodyPartExamined = "SPINE",
        }, pixels);
        // garbage: a valid header whose pixel data is far too short for the image (storescu still sends it)
        if (garbage) ds.SetBytes(DicomTags.PixelData, DicomVR.OW, new byte[20]);
        return DicomWriter.ToBytes(ds);
    }

    internal static void StoreScu(int port, IEnumerable<string> files)
    {
        const string tool = "/usr/bin/storescu";
        Assert.True(File.Exists(tool), $"{tool} missing: run scripts/setup.sh --test (installs Debian's dcmtk)");
        var psi = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-aet", "SPINEXRTEST", "-aec", "ORTHANC", "127.0.0.1", port.ToString(System.Globalization.CultureInfo.InvariantCulture) }.Concat(files))
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(60_000), "storescu did not finish in 60 s");
        Assert.True(p.ExitCode == 0, $"storescu failed ({p.ExitCode}): {stdout}{err.Result}");
    }

    internal static async Task<List<DicomDataset>> QidoAsync(HttpClient http, string url)
    {
        var r = await http.GetAsync(url);
        // not there yet: Orthanc answers 404 for an unknown study, 204 or [] for no match
        if (r.StatusCode is System.Net.HttpStatusCode.NoContent or System.Net.HttpStatusCode.NotFound) return [];
        r.EnsureSuccessStatusCode();
        string body = await r.Content.ReadAsStringAsync();
        return body.Length == 0 ? [] : JsonDocument.Parse(body).RootElement.EnumerateArray().Select(DicomJson.FromJson).ToList();
    }

    private static async Task<List<DicomDataset>> WadoSeriesAsync(HttpClient http, string url)
    {
        var req = new HttpRequestMessage(HttpMethod.Get, url);
        req.Headers.Accept.Add(MediaTypeWithQualityHeaderValue.Parse("multipart/related; type=\"application/dicom\""));
        var r = await http.SendAsync(req);
        Assert.True(r.IsSuccessStatusCode, $"WADO-RS {http.BaseAddress}{url}: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
        string boundary = r.Content.Headers.ContentType!.Parameters.Single(p => p.Name == "boundary").Value!.Trim('"');
        return MultipartRelated.Split(await r.Content.ReadAsByteArrayAsync(), boundary).Select(p => DicomFile.Read(p.Body).Dataset).ToList();
    }

    [Fact]
    public async Task A_study_sent_to_orthanc_comes_back_with_sr_and_gsps_equal_to_the_predictions()
    {
        int orthancHttp = OrthancProcess.FreePort(), orthancDicom = OrthancProcess.FreePort();
        await using var ts = await TestServer.StartAsync(new FakePredictor(),
            new SpineServerOptions { DicomWebDestination = new Uri($"http://127.0.0.1:{orthancHttp}/dicom-web") });
        using var orthanc = await OrthancProcess.StartAsync(orthancHttp, orthancDicom,
            new Dictionary<string, string> { ["spinexr"] = ts.BaseAddress + "dicomweb/" }, ForwardToSpineXR);
        using var pacs = new HttpClient { BaseAddress = new Uri(orthanc.DicomWebUrl + "/"), Timeout = TimeSpan.FromSeconds(30) };
        string dir = Directory.CreateTempSubdirectory("spinexr-roundtrip-").FullName;
        var seconds = new List<double>();
        try
        {
            for (int round = 0; round < 5; round++)
            {
                string study = DicomUid.FromSeed($"roundtrip/{round}/study"), series = DicomUid.FromSeed($"roundtrip/{round}/series");
                var good = new[] { DicomUid.FromSeed($"roundtrip/{round}/a"), DicomUid.FromSeed($"roundtrip/{round}/b") };
                string garbageUid = DicomUid.FromSeed($"roundtrip/{round}/garbage");
                var files = new List<string>();
                for (int i = 0; i < good.Length; i++)
                {
                    files.Add(Path.Combine(dir, $"r{round}-{i}.dcm"));
                    File.WriteAllBytes(files[^1], Image($"RT{round}", study, series, good[i], round * 10 + i));
                }
                if (round == 0)
                {
                    files.Add(Path.Combine(dir, "r0-garbage.dcm"));
                    File.WriteAllBytes(files[^1], Image($"RT{round}", study, series, garbageUid, 99, garbage: true));
                }

                var clock = Stopwatch.StartNew();
                StoreScu(orthancDicom, files);
                // QIDO until the SR series holds one SR per good image (60 s at most)
                List<DicomDataset> srSeries = [], srInstances = [];
                double firstSeen = -1;
                while (clock.Elapsed < TimeSpan.FromSeconds(60))
                {
                    srSeries = await QidoAsync(pacs, $"studies/{study}/series?Modality=SR");
                    if (srSeries.Count > 0)
                    {
                        if (firstSeen < 0) firstSeen = clock.Elapsed.TotalSeconds;
                        srInstances = await QidoAsync(pacs, $"studies/{study}/series/{srSeries[0].GetString(DicomTags.SeriesInstanceUID)}/instances");
                        if (srInstances.Count >= good.Length) break;
                    }
                    await Task.Delay(100);
                }
                Assert.True(srInstances.Count == good.Length, $"round {round}: {srInstances.Count} SR instance(s) in Orthanc after {clock.Elapsed.TotalSeconds:0.0} s\n{orthanc.Log()}");
                seconds.Add(firstSeen);

                // WADO-RS: every SR equals the prediction SpineXR answered for its image
                var srs = await WadoSeriesAsync(pacs, $"studies/{study}/series/{srSeries[0].GetString(DicomTags.SeriesInstanceUID)}");
                Assert.Equal(good.Order(), srs.Select(d => MeasurementReport.Read(d).SourceSopInstanceUid).Order());
                foreach (var sr in srs)
                {
                    var found = MeasurementReport.Read(sr);
                    // Orthanc got the Retrieve URLs; the test finds SpineXR's result for this image in its cache
                    var result = ts.Server.Results.OfSource(found.SourceSopInstanceUid!, null).First();
                    var json = JsonDocument.Parse(await ts.Client.GetStringAsync($"/api/v1/results/{result.Id}")).RootElement.GetProperty("prediction");
                    ReportedFindingsAssert.SameAsPrediction(json, found);
                    Assert.Equal(study, sr.GetString(DicomTags.StudyInstanceUID));
                }
                var pr = await QidoAsync(pacs, $"studies/{study}/series?Modality=PR");
                Assert.Single(pr);
                if (round == 0)
                {
                    // the garbage instance failed (no result, no SR), the others were done
                    Assert.Empty(ts.Server.Results.OfSource(garbageUid, null));
                    Assert.DoesNotContain(garbageUid, srs.Select(d => MeasurementReport.Read(d).SourceSopInstanceUid));
                }
            }
        }
        finally { Directory.Delete(dir, true); }
        var sorted = seconds.Order().ToList();
        output.WriteLine($"storescu -> SR series in Orthanc (QIDO): {string.Join(", ", seconds.Select(s => s.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)))} s; median {sorted[sorted.Count / 2]:0.00} s");
    }
}
