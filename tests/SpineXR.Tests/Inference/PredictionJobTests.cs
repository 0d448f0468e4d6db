using System.Text.Json;
using SpineXR.Inference;

namespace SpineXR.Tests.Inference;

public sealed class PredictionJobTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "spinexr-job-" + Guid.NewGuid().ToString("N"));

    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }

    /// <summary>Marks every image abnormal with one box; counts calls so tests can see what was redone.</summary>
    private sealed class FakePredictor : ISpinePredictor
    {
        public int Images;
        public PredictionProvenance Provenance { get; } = new() { Classifiers = ["fake-c"], Detectors = ["fake-d"], AbnormalThreshold = 0.3, KeepThreshold = 0.5 };
        public IReadOnlyList<ImagePrediction> Predict(IReadOnlyList<SpineImage> batch, CancellationToken ct = default)
        {
            Interlocked.Add(ref Images, batch.Count);
            return batch.Select(b => new ImagePrediction
            {
                File = b.File, ImageId = b.ImageId, Width = b.Width, Height = b.Height, AbnormalProbability = 0.75, Logit = 1.0986,
                Verdict = "abnormal", Boxes = [new PredictedBox("Osteophytes", 0, 0.9f, [2, 2, 10, 10])],
            }).ToList();
        }
        public void Dispose() { }
    }

    private List<string> MakeInputs(int n)
    {
        var inDir = Path.Combine(_dir, "in");
        Directory.CreateDirectory(inDir);
        var files = new List<string>();
        for (int i = 0; i < n; i++)
        {
            string f = Path.Combine(inDir, $"img{i}.dicom");
            File.WriteAllBytes(f, [(byte)i]);
            files.Add(f);
        }
        return files;
    }

    private static SpineImage Load(string f) =>
        Path.GetFileName(f) == "img2.dicom"
            ? throw new InvalidDataException("truncated pixel data")
            : new SpineImage(f, Path.GetFileNameWithoutExtension(f), new byte[32 * 24], 32, 24);

    [Fact]
    public void BadInputIsListedTheRestPredictedAndARerunSkipsFinishedImages()
    {
        var files = MakeInputs(6);
        var fake = new FakePredictor();
        var opts = new PredictionJobOptions { OutDir = Path.Combine(_dir, "out"), Quiet = true, BatchSize = 4, Workers = 2 };
        var r1 = new PredictionJob(fake, Load, opts).Run(files, []);
        Assert.Equal(5, r1.Predicted);
        Assert.Single(r1.Errors);
        Assert.Contains("truncated pixel data", r1.Errors[0].Reason);
        Assert.Contains("img2.dicom", File.ReadAllText(Path.Combine(opts.OutDir, "errors.csv")));
        Assert.Equal(5, Directory.GetFiles(Path.Combine(opts.OutDir, "overlays"), "*.png").Length);

        var r2 = new PredictionJob(fake, Load, opts).Run(files, []);
        Assert.Equal(0, r2.Predicted);
        Assert.Equal(5, r2.Skipped);
        Assert.Equal(5, fake.Images); // nothing predicted twice
        Assert.Equal(5, r2.Predictions.Count);

        var r3 = new PredictionJob(fake, Load, opts with { Force = true }).Run(files, []);
        Assert.Equal(5, r3.Predicted);
    }

    [Fact]
    public void AggregateFilesFollowTheDesignFormats()
    {
        var files = MakeInputs(3);
        var opts = new PredictionJobOptions { OutDir = Path.Combine(_dir, "out"), Quiet = true, Overlays = false };
        new PredictionJob(new FakePredictor(), Load, opts).Run(files, []);
        var csv = File.ReadAllLines(Path.Combine(opts.OutDir, "classifier_predictions.csv"));
        Assert.Equal("image_id,abnormal_prob,logit", csv[0]);
        Assert.Equal(3, csv.Length); // header + 2 good images
        using var dets = JsonDocument.Parse(File.ReadAllText(Path.Combine(opts.OutDir, "detections.json")));
        var first = dets.RootElement[0];
        Assert.Equal("Osteophytes", first.GetProperty("category").GetString());
        Assert.Equal(new[] { 2f, 2f, 8f, 8f }, first.GetProperty("bbox").EnumerateArray().Select(e => e.GetSingle()).ToArray());
        using var preds = JsonDocument.Parse(File.ReadAllText(Path.Combine(opts.OutDir, "predictions.json")));
        Assert.Equal("fake-c", preds.RootElement.GetProperty("provenance").GetProperty("classifiers")[0].GetString());
        Assert.Equal(2, preds.RootElement.GetProperty("images").GetArrayLength());
        Assert.Contains("<!DOCTYPE html>", File.ReadAllText(Path.Combine(opts.OutDir, "report.html")));
    }

    [Fact]
    public void ShardsPartitionTheInputs()
    {
        var names = Enumerable.Range(0, 200).Select(i => $"/a/b/{i:x}.dicom").ToList();
        var counts = Enumerable.Range(0, 3).Select(s => names.Count(n => InputFiles.InShard(n, s, 3))).ToArray();
        Assert.Equal(200, counts.Sum());
        Assert.All(counts, c => Assert.InRange(c, 40, 100));
        // The same file lands in the same shard wherever the archive is mounted.
        Assert.Equal(InputFiles.InShard("/mnt/x/1.dicom", 1, 3), InputFiles.InShard("/data/1.dicom", 1, 3));
    }

    [Fact]
    public void ExpandFindsFilesInFoldersAndGlobsAndReportsMisses()
    {
        var files = MakeInputs(3);
        File.WriteAllText(Path.Combine(_dir, "in", "notes.txt"), "x");
        var errors = new List<(string, string)>();
        var found = InputFiles.Expand([Path.Combine(_dir, "in"), Path.Combine(_dir, "in", "img*.dicom"), Path.Combine(_dir, "missing.dcm")], errors);
        Assert.Equal(files.OrderBy(f => f, StringComparer.Ordinal), found);
        Assert.Single(errors);
    }
}
