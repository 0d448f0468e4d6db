using SpineXR.Jobs;
using SpineXR.Inference;

namespace SpineXR.Tests.Jobs;

/// <summary>
/// `predict`'s batches are consecutive runs of the inputs, whatever the decoding times, so the same inputs give the same
/// bytes (batched convolutions round differently with a batch's make-up); decoding runs ahead of the models by a bound.
/// </summary>
public sealed class PredictionJobBatchTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("spinexr-batches-").FullName;

    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }

    /// <summary>Records the files of each model call; counts the images it has finished.</summary>
    private sealed class RecordingPredictor : ISpinePredictor
    {
        public readonly List<string[]> Batches = [];
        public int Done;
        public Action<IReadOnlyList<SpineImage>>? InModels { get; init; }
        public PredictionProvenance Provenance { get; } = new() { Classifiers = ["c"], Detectors = ["d"], AbnormalThreshold = 0.5, KeepThreshold = 0.5 };
        public IReadOnlyList<ImagePrediction> Predict(IReadOnlyList<SpineImage> batch, CancellationToken ct = default)
        {
            lock (Batches) Batches.Add(batch.Select(b => Path.GetFileName(b.File)).ToArray());
            InModels?.Invoke(batch);
            Interlocked.Add(ref Done, batch.Count);
            return batch.Select(b => new ImagePrediction { File = b.File, ImageId = b.ImageId, Width = b.Width, Height = b.Height, Verdict = "normal", Boxes = [] }).ToList();
        }
        public void Dispose() { }
    }

    private List<string> Inputs(int n)
    {
        var inDir = Path.Combine(_dir, "in");
        Directory.CreateDirectory(inDir);
        return Enumerable.Range(0, n).Select(i =>
        {
            string f = Path.Combine(inDir, $"img{i:00}.png");
            File.WriteAllBytes(f, [(byte)i]);
            return f;
        }).ToList();
    }

    private static SpineImage Image(string f) => new(f, Path.GetFileNameWithoutExtension(f), new byte[16], 4, 4);

    /// <summary>A loader that sleeps 0-20 ms per file, the times drawn from <paramref name="seed"/>.</summary>
    private static Func<string, SpineImage> SlowLoader(IEnumerable<string> files, int seed, params string[] failing)
    {
        var rng = new Random(seed);
        var delays = files.ToDictionary(f => f, _ => rng.Next(0, 21));
        return f =>
        {
            Thread.Sleep(delays[f]);
            return failing.Contains(Path.GetFileName(f)) ? throw new InvalidDataException(f + ": truncated") : Image(f);
        };
    }

    private static List<string[]> Chunks(IEnumerable<string> files, int size) =>
        files.Select(f => Path.GetFileName(f)).Chunk(size).ToList();

    private List<string[]> BatchesOf(List<string> files, Func<string, SpineImage> load, bool overlap, string run, out PredictionJobResult result)
    {
        var predictor = new RecordingPredictor();
        var opts = new PredictionJobOptions { OutDir = Path.Combine(_dir, run), Quiet = true, BatchSize = 3, Workers = 4, Overlays = false, Overlap = overlap };
        result = new PredictionJob(predictor, load, opts).Run(files, []);
        return predictor.Batches;
    }

    [Theory]
    [InlineData(false)] // taking turns with the models (the default)
    [InlineData(true)]
    public void BatchesAreConsecutiveInputsWhateverTheDecodingTimes(bool overlap)
    {
        var files = Inputs(20);
        var first = BatchesOf(files, SlowLoader(files, seed: 1, []), overlap, "a", out var r);
        Assert.Equal(20, r.Predicted);
        Assert.Equal(Chunks(files, 3), first);
        var second = BatchesOf(files, SlowLoader(files, seed: 2, []), overlap, "b", out _);
        Assert.Equal(first, second);
    }

    [Fact]
    public void AnInputThatFailsToDecodeIsLeftOutOfItsBatchAndNamedInTheErrors()
    {
        var files = Inputs(20);
        var batches = BatchesOf(files, SlowLoader(files, seed: 3, "img02.png", "img07.png"), overlap: false, "out", out var r);
        var expected = Chunks(files, 3).Select(c => c.Where(f => f is not ("img02.png" or "img07.png")).ToArray()).ToList();
        Assert.Equal(expected, batches);
        Assert.Equal(18, r.Predicted);
        Assert.Equal([files[2], files[7]], r.Errors.Select(e => e.File)); // in input order
        Assert.All(r.Errors, e => Assert.Equal("truncated", e.Reason));
    }

    [Fact]
    public void DecodingRunsAheadOfTheModelsByTwoBatchesAndNoMore()
    {
        const int batchSize = 2, bound = (OrderedDecoder.BatchesAhead + 1) * batchSize; // the batch in the models and two more
        var files = Inputs(20);
        int started = 0, most = 0;
        RecordingPredictor predictor = null!;
        SpineImage Load(string f)
        {
            int ahead = Interlocked.Increment(ref started) - Volatile.Read(ref predictor.Done);
            lock (files) most = Math.Max(most, ahead);
            return Image(f);
        }
        // Slow models: each batch waits until the decoders have filled what they may (or there is nothing left to take),
        // then a little longer, so decoders without a bound would show it.
        predictor = new RecordingPredictor
        {
            InModels = _ =>
            {
                SpinWait.SpinUntil(() => Volatile.Read(ref started) - Volatile.Read(ref predictor.Done) >= bound || Volatile.Read(ref started) == files.Count, 5000);
                Thread.Sleep(5);
            },
        };
        var opts = new PredictionJobOptions { OutDir = Path.Combine(_dir, "out"), Quiet = true, BatchSize = batchSize, Workers = 4, Overlays = false, Overlap = true };
        var r = new PredictionJob(predictor, Load, opts).Run(files, []);
        Assert.Equal(20, r.Predicted);
        Assert.Equal(bound, most);
    }
}
