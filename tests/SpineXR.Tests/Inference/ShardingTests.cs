using SpineXR.Jobs;
using SpineXR.Dicom;
using SpineXR.Inference;
using SpineXR.Tests.Reports;

namespace SpineXR.Tests.Inference;

/// <summary>Scale-out by study: shards keep studies whole, `--shard auto` reads Kubernetes' variables, merged shards equal one run.</summary>
public sealed class ShardingTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>12 radiographs in 5 studies (named so file-name sharding would split studies), a PNG and a corrupt file.</summary>
    private List<string> Archive()
    {
        Directory.CreateDirectory(_dir["in"]);
        var files = new List<string>();
        for (int i = 0; i < 12; i++)
        {
            string path = _dir[$"in/img{i:00}.dicom"];
            DicomImageWriter.Save(path, new GrayscaleImageHeader
            {
                Rows = 24, Columns = 20, UidSeed = $"shard-test/{i}", StudyInstanceUid = DicomUid.FromSeed($"shard-test/study{i % 5}"),
                PatientId = $"P{i % 5}",
            }, Enumerable.Range(0, 24 * 20).Select(k => (ushort)((k * (i + 3)) % 4096)).ToArray());
            files.Add(path);
        }
        files.Add(_dir["in/plain.png"]);
        SpineXR.Imaging.PngWriter.SaveGray8(files[^1], 16, 16, Enumerable.Range(0, 256).Select(k => (byte)k).ToArray());
        files.Add(_dir["in/broken.dicom"]);
        File.WriteAllBytes(files[^1], [1, 2, 3]);
        files.Sort(StringComparer.Ordinal);
        return files;
    }

    [Fact]
    public void Every_study_lands_whole_on_one_shard_and_the_shards_partition_the_inputs()
    {
        var files = Archive();
        var shardOf = files.ToDictionary(f => f, f => Enumerable.Range(0, 3).Single(s => InputFiles.InShard(f, s, 3)));
        foreach (var study in files.Where(f => f.EndsWith(".dicom") && !f.EndsWith("broken.dicom"))
                     .GroupBy(f => DicomFile.Open(f, DicomReadOptions.HeaderOnly).Dataset.GetString(DicomTags.StudyInstanceUID)))
            Assert.Single(study.Select(f => shardOf[f]).Distinct());
        Assert.True(shardOf.Values.Distinct().Count() > 1, "everything fell in one shard");
        Assert.StartsWith("study:", InputFiles.ShardKey(_dir["in/img00.dicom"]));
        Assert.Equal("file:plain.png", InputFiles.ShardKey(_dir["in/plain.png"]));
        Assert.Equal("file:broken.dicom", InputFiles.ShardKey(_dir["in/broken.dicom"]));
    }

    [Fact]
    public void Three_shards_merged_equal_one_run_over_the_same_inputs()
    {
        var files = Archive();
        var predictor = new DicomResultsFixture.FakePredictor(); // one provenance for every run
        PredictionJobOptions Options(string name, int index = 0, int count = 1) =>
            new() { OutDir = _dir[name], Quiet = true, ShardIndex = index, ShardCount = count, Workers = 2 };
        new PredictionJob(predictor, SpineImageLoader.Load, Options("single")).Run(files, []);
        for (int s = 0; s < 3; s++) new PredictionJob(predictor, SpineImageLoader.Load, Options($"shard{s}", s, 3)).Run(files, []);
        var merged = PredictionJob.Merge([_dir["shard0"], _dir["shard1"], _dir["shard2"]], _dir["merged"]);

        Assert.Equal(13, merged.Predictions.Count);
        Assert.Single(merged.Errors);
        foreach (var name in new[] { "predictions.json", "classifier_predictions.csv", "detections.json", "errors.csv", "report.html" })
            Assert.True(File.ReadAllBytes(_dir["single/" + name]).AsSpan().SequenceEqual(File.ReadAllBytes(_dir["merged/" + name])), $"{name} differs");
    }

    [Fact]
    public void Merging_refuses_shards_of_other_models_and_an_image_in_two_shards()
    {
        var files = Archive().Take(3).ToList();
        var a = new DicomResultsFixture.FakePredictor();
        new PredictionJob(a, SpineImageLoader.Load, new PredictionJobOptions { OutDir = _dir["a"], Quiet = true, Overlays = false }).Run(files, []);
        new PredictionJob(a, SpineImageLoader.Load, new PredictionJobOptions { OutDir = _dir["b"], Quiet = true, Overlays = false }).Run(files, []);
        var e = Assert.Throws<InvalidDataException>(() => PredictionJob.Merge([_dir["a"], _dir["b"]], _dir["m"]));
        Assert.Contains("more than one shard", e.Message);

        var other = new OtherModels();
        new PredictionJob(other, SpineImageLoader.Load, new PredictionJobOptions { OutDir = _dir["c"], Quiet = true, Overlays = false }).Run(files.Take(1).ToList(), []);
        e = Assert.Throws<InvalidDataException>(() => PredictionJob.Merge([_dir["a"], _dir["c"]], _dir["m"]));
        Assert.Contains("other models or thresholds", e.Message);
        Assert.Throws<InvalidDataException>(() => PredictionJob.Merge([_dir["nothing-here"]], _dir["m"]));
    }

    private sealed class OtherModels : ISpinePredictor
    {
        private readonly DicomResultsFixture.FakePredictor _inner = new();
        public PredictionProvenance Provenance => _inner.Provenance with { AbnormalThreshold = 0.6 };
        public IReadOnlyList<ImagePrediction> Predict(IReadOnlyList<SpineImage> batch, CancellationToken ct = default) => _inner.Predict(batch, ct);
        public void Dispose() { }
    }

    [Fact]
    public void Shard_auto_reads_the_indexed_job_variables_and_names_what_is_missing()
    {
        var env = new Dictionary<string, string?> { ["JOB_COMPLETION_INDEX"] = "2", [InputFiles.ShardCountVariable] = "4" };
        Assert.Equal((2, 4), InputFiles.ShardFromEnvironment(k => env.GetValueOrDefault(k)));
        Assert.Contains("JOB_COMPLETION_INDEX", Assert.Throws<ArgumentException>(() => InputFiles.ShardFromEnvironment(_ => null)).Message);
        env["JOB_COMPLETION_INDEX"] = "4";
        Assert.Contains("need 0 <= index < count", Assert.Throws<ArgumentException>(() => InputFiles.ShardFromEnvironment(k => env.GetValueOrDefault(k))).Message);
        env.Remove(InputFiles.ShardCountVariable);
        Assert.Contains(InputFiles.ShardCountVariable, Assert.Throws<ArgumentException>(() => InputFiles.ShardFromEnvironment(k => env.GetValueOrDefault(k))).Message);
    }
}
