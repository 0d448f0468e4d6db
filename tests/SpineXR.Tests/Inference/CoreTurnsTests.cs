using SpineXR.Jobs;
using SpineXR.Inference;

namespace SpineXR.Tests.Inference;

public sealed class CoreTurnsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("spinexr-turns-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private static async Task<bool> Finishes(Task task, int ms) => await Task.WhenAny(task, Task.Delay(ms)) == task;

    [Fact]
    public async Task SideWorkWaitsWhileTheModelsRunAndGoesOnAfter()
    {
        var turns = new CoreTurns(enabled: true);
        turns.ModelsStart();
        var side = Task.Run(() => turns.SideWork().Dispose());
        Assert.False(await Finishes(side, 100)); // paused during the batch
        turns.ModelsEnd();
        Assert.True(await Finishes(side, 5000));
    }

    [Fact]
    public async Task TheModelsWaitForTheSideWorkUnderWay()
    {
        var turns = new CoreTurns(enabled: true);
        var decode = turns.SideWork();
        var models = Task.Run(turns.ModelsStart);
        Assert.False(await Finishes(models, 100)); // a decode under way
        var next = Task.Run(() => turns.SideWork().Dispose());
        Assert.False(await Finishes(next, 100)); // and none starts meanwhile
        decode.Dispose();
        Assert.True(await Finishes(models, 5000));
        Assert.False(await Finishes(next, 100));
        turns.ModelsEnd();
        Assert.True(await Finishes(next, 5000));
    }

    [Fact]
    public async Task DisabledTurnsNeverWait()
    {
        var turns = new CoreTurns(enabled: false);
        using var decode = turns.SideWork();
        turns.ModelsStart();
        Assert.True(await Finishes(Task.Run(() => turns.SideWork().Dispose()), 5000));
    }

    /// <summary>Counts decodes that ran while a batch was in the models.</summary>
    private sealed class WatchingPredictor : ISpinePredictor
    {
        public volatile bool InModels;
        public int Batches, Overlaps;
        public PredictionProvenance Provenance { get; } = new() { Classifiers = ["c"], Detectors = ["d"], AbnormalThreshold = 0.5, KeepThreshold = 0.5 };
        public IReadOnlyList<ImagePrediction> Predict(IReadOnlyList<SpineImage> batch, CancellationToken ct = default)
        {
            InModels = true;
            Thread.Sleep(20);
            InModels = false;
            Batches++;
            return batch.Select(b => new ImagePrediction { File = b.File, ImageId = b.ImageId, Width = b.Width, Height = b.Height, Verdict = "normal", Boxes = [] }).ToList();
        }
        public void Dispose() { }
    }

    [Fact]
    public void APredictionJobDecodesOnlyBetweenBatchesAndInWholeBatches()
    {
        var files = Enumerable.Range(0, 20).Select(i => { string f = Path.Combine(_dir, $"i{i}.png"); File.WriteAllBytes(f, [1]); return f; }).ToList();
        var predictor = new WatchingPredictor();
        SpineImage Load(string f)
        {
            bool overlapped = predictor.InModels;
            Thread.Sleep(2);
            if (overlapped || predictor.InModels) Interlocked.Increment(ref predictor.Overlaps);
            return new SpineImage(f, Path.GetFileNameWithoutExtension(f), new byte[16], 4, 4);
        }
        var opts = new PredictionJobOptions { OutDir = Path.Combine(_dir, "out"), Quiet = true, BatchSize = 4, Workers = 2, Overlays = false };
        var r = new PredictionJob(predictor, Load, opts).Run(files, []);
        Assert.Equal(20, r.Predicted);
        Assert.Equal(0, predictor.Overlaps);
        Assert.Equal(5, predictor.Batches); // 20 images in whole batches of 4
    }
}
