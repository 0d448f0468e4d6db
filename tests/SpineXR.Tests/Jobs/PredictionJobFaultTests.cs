using System.Diagnostics;
using System.Text.Json;
using SpineXR.Jobs;
using SpineXR.Inference;

namespace SpineXR.Tests.Jobs;

/// <summary>
/// `predict` under faults: a writer that throws something other than I/O, a disk that refuses every write, a run
/// killed mid-way, a rerun with other models. Nothing hangs, nothing is lost or mixed, stale temporaries go.
/// </summary>
public sealed class PredictionJobFaultTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "spinexr-jobfault-" + Guid.NewGuid().ToString("N"));

    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }

    /// <summary>One box per image; <see cref="NaNFor"/> gets a NaN probability, which the JSON writer refuses.</summary>
    private sealed class Predictor(string classifier = "fake-c") : ISpinePredictor
    {
        public int Images;
        public string? NaNFor { get; init; }
        public PredictionProvenance Provenance { get; } = new() { Classifiers = [classifier], Detectors = ["fake-d"], AbnormalThreshold = 0.3, KeepThreshold = 0.5 };
        public IReadOnlyList<ImagePrediction> Predict(IReadOnlyList<SpineImage> batch, CancellationToken ct = default)
        {
            Interlocked.Add(ref Images, batch.Count);
            return batch.Select(b => new ImagePrediction
            {
                File = b.File, ImageId = b.ImageId, Width = b.Width, Height = b.Height,
                AbnormalProbability = b.ImageId == NaNFor ? double.NaN : 0.75, Logit = 1.0986,
                Verdict = "abnormal", Boxes = [new PredictedBox("Osteophytes", 0, 0.9f, [2, 2, 10, 10])],
            }).ToList();
        }
        public void Dispose() { }
    }

    private List<string> Inputs(int n)
    {
        var inDir = Path.Combine(_dir, "in");
        Directory.CreateDirectory(inDir);
        return Enumerable.Range(0, n).Select(i =>
        {
            string f = Path.Combine(inDir, $"img{i}.dicom");
            File.WriteAllBytes(f, [(byte)i]);
            return f;
        }).ToList();
    }

    private static SpineImage Load(string f) => new(f, Path.GetFileNameWithoutExtension(f), new byte[32 * 24], 32, 24);

    private PredictionJobOptions Options => new() { OutDir = Path.Combine(_dir, "out"), Quiet = true, BatchSize = 1, Workers = 1 };

    private static PredictionJobResult RunWithin(PredictionJob job, List<string> files, TimeSpan limit)
    {
        var run = Task.Run(() => job.Run(files, []));
        Assert.True(run.Wait(limit), $"the run did not end within {limit.TotalSeconds} s");
        return run.Result;
    }

    [Fact]
    public void A_non_io_writer_fault_is_that_items_error_and_the_run_ends_with_every_aggregate()
    {
        // Batch size 1: the result queue holds two; a writer that died would leave the models blocked on the third.
        var files = Inputs(8);
        var fake = new Predictor { NaNFor = "img0" };
        var r = RunWithin(new PredictionJob(fake, Load, Options), files, TimeSpan.FromSeconds(60));
        Assert.Null(r.StoppedEarly);
        Assert.Equal(7, r.Predicted);
        var error = Assert.Single(r.Errors);
        Assert.Equal(files[0], error.File);
        Assert.StartsWith("cannot write its result: ", error.Reason);
        Assert.Contains("img0.dicom", File.ReadAllText(Path.Combine(Options.OutDir, "errors.csv")));
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Options.OutDir, "predictions.json")));
        Assert.Equal(7, doc.RootElement.GetProperty("images").GetArrayLength());
        Assert.True(File.Exists(Path.Combine(Options.OutDir, "report.html")));
    }

    [Fact]
    public void Writes_that_keep_failing_stop_the_run_early_naming_the_reason()
    {
        var files = Inputs(40);
        // Every image's thumbnail path is taken by a folder, so each result write fails at its rename, as on a full disk.
        foreach (var f in files) Directory.CreateDirectory(Path.Combine(Options.OutDir, ".items", InputFiles.ItemKey(f) + ".thumb.jpg"));
        var fake = new Predictor();
        var r = RunWithin(new PredictionJob(fake, Load, Options), files, TimeSpan.FromSeconds(60));
        Assert.NotNull(r.StoppedEarly);
        Assert.Contains($"{PredictionJob.MaxConsecutiveWriteFailures} writes in a row failed", r.StoppedEarly);
        Assert.DoesNotContain('\n', r.StoppedEarly);
        Assert.Equal(0, r.Predicted);
        Assert.True(fake.Images < 20, $"{fake.Images} of 40 images went through the models after the disk refused every write");
        Assert.Equal(PredictionJob.MaxConsecutiveWriteFailures, r.Errors.Count);
    }

    [Fact]
    public void A_rerun_with_other_models_redoes_their_results_and_never_mixes_them()
    {
        var files = Inputs(5);
        var a = new Predictor("model-a");
        new PredictionJob(a, Load, Options).Run(files, []);
        var b = new Predictor("model-b");
        var r = new PredictionJob(b, Load, Options).Run(files, []);
        Assert.Equal((5, 5, 0), (r.Redone, b.Images, r.Skipped));
        var keys = Directory.GetFiles(Path.Combine(Options.OutDir, ".items"), "*.json")
            .Select(f => JsonDocument.Parse(File.ReadAllText(f)).RootElement.GetProperty("provenance_key").GetString()).Distinct().ToList();
        Assert.Single(keys);
        // The same models again: nothing redone.
        var again = new PredictionJob(b, Load, Options).Run(files, []);
        Assert.Equal((0, 5, 5), (again.Redone, b.Images, again.Skipped));

        // Model a again, with one input now unreadable: that one keeps b's result on disk, which is left out.
        SpineImage Failing(string f) => f == files[3] ? throw new InvalidDataException(f + ": gone") : Load(f);
        var mixed = new PredictionJob(new Predictor("model-a"), Failing, Options).Run(files, []);
        Assert.Equal(4, mixed.Predictions.Count);
        Assert.DoesNotContain(mixed.Predictions, p => p.File == files[3]);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Options.OutDir, "predictions.json")));
        Assert.Equal(4, doc.RootElement.GetProperty("images").GetArrayLength());
    }

    [Fact]
    public void After_a_kill_the_rerun_predicts_each_missing_input_once_and_clears_stale_temporaries()
    {
        var files = Inputs(6);
        var fake = new Predictor();
        new PredictionJob(fake, Load, Options).Run(files.Take(3).ToList(), []);
        // What kill -9 leaves: some finished items, AtomicFile temporaries of the dead process, no aggregates for the rest.
        using var dead = Process.Start(new ProcessStartInfo("true"))!;
        dead.WaitForExit();
        string items = Path.Combine(Options.OutDir, ".items");
        string stale = Path.Combine(items, $"{InputFiles.ItemKey(files[4])}.json.{dead.Id}.0a1b2c3d.tmp");
        string staleOverlay = Path.Combine(Options.OutDir, "overlays", $"{InputFiles.ItemKey(files[4])}.png.{dead.Id}.0a1b2c3d.tmp");
        string live = Path.Combine(items, "other-shard.json.1.0a1b2c3d.tmp"); // pid 1 is running: another writer's, kept
        File.WriteAllText(stale, "{\"half");
        File.WriteAllText(staleOverlay, "half");
        File.WriteAllText(live, "{\"half");

        var r = new PredictionJob(fake, Load, Options).Run(files, []);
        Assert.Equal((3, 3), (r.Predicted, r.Skipped));
        Assert.Equal(6, fake.Images); // every input predicted exactly once over the two runs
        Assert.False(File.Exists(stale));
        Assert.False(File.Exists(staleOverlay));
        Assert.True(File.Exists(live));
        Assert.Equal(6, r.Predictions.Count);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Options.OutDir, "predictions.json")));
        Assert.Equal(6, doc.RootElement.GetProperty("images").GetArrayLength());
    }

    [Fact]
    public void Item_keys_keep_all_64_bits_of_the_path_hash()
    {
        string a = InputFiles.ItemKey("/archive/a/1/image.dcm"), b = InputFiles.ItemKey("/archive/b/1/image.dcm");
        Assert.Matches("^image-[0-9a-f]{16}$", a);
        Assert.NotEqual(a, b);
        Assert.Equal(InputFiles.Fnv1a(Path.GetFullPath("/archive/a/1/image.dcm")).ToString("x16"), a[^16..]);
    }
}
