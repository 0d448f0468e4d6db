using SpineXR.Data;
using SpineXR.Diagnostics;
using SpineXR.Vision.Data;

namespace SpineXR.Vision.Inference;

/// <summary>
/// The hook `spinexr eval classifier --model RUN_DIR` uses: predict every image of a dataset split with a trained
/// classifier and write the predictions CSV (<c>image_id, abnormal_prob, logit</c>) that <c>--predictions</c> reads.
/// </summary>
public static class DatasetPredictions
{
    /// <summary>
    /// Predicts <paramref name="split"/> of <paramref name="index"/> in dataset order with the run in <paramref name="runDir"/>;
    /// writes <paramref name="csvPath"/> when given (readable images only). Unreadable images come back with
    /// <see cref="ClassifierOutput.Error"/> set, in the returned list, never as an exception.
    /// </summary>
    public static IReadOnlyList<ClassifierOutput> PredictSplit(string runDir, DatasetIndex index, string split, string? csvPath = null,
        bool hflipTta = false, int batchSize = 16, int workers = 0, bool quiet = false)
    {
        using var clf = Classifier.Load(runDir);
        var images = index.Get(split);
        var loader = ClassifierData.Loader(index, clf.Card.InputSize);
        using var progress = new ProgressReporter("predict", images.Count, quiet: quiet);
        var preds = clf.Predict(images.Select(im => (im.ImageId, (Func<Imaging.GrayImage>)(() => loader.Load(im.Path)))).ToList(),
            batchSize, hflipTta, workers, progress);
        if (csvPath != null) Classifier.WritePredictionsCsv(csvPath, preds);
        return preds;
    }
}
