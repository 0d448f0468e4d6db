using SpineXR.Data;
using SpineXR.Evaluation;
using SpineXR.Vision.Detection.Inference;
using SpineXR.Vision.Inference;

namespace SpineXR.Cli;

/// <summary>
/// Runs run directories for the core evaluation and ensemble commands (`eval ... --model RUN_DIR`) with the Vision
/// layer's inference: the CLI sees both layers, so it is the one that connects them (docs/design.md "Architecture").
/// </summary>
public sealed class VisionSplitPredictor : ISplitPredictor
{
    public IReadOnlyList<ClassifierPrediction> Classify(string runDir, string dataset, string split)
    {
        var index = DatasetIndex.Load(dataset);
        var preds = DatasetPredictions.PredictSplit(runDir, index, split);
        foreach (var p in preds.Where(p => !p.Ok)) Console.Error.WriteLine($"spinexr: {p.ImageId}: {p.Error}");
        return preds.Where(p => p.Ok).Select(p => new ClassifierPrediction(p.ImageId, p.Probability, p.Logit)).ToList();
    }

    public IReadOnlyList<DetectorPrediction> Detect(string runDir, string dataset, string split) =>
        DetectorEvaluation.PredictSplit(runDir, dataset, split);
}
