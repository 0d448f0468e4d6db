using SpineXR.Data;
using SpineXR.Evaluation;
using SpineXR.Vision.Detection.Inference;
using SpineXR.Vision.Inference;

namespace SpineXR.Cli;

/// <summary>
/// Connects the core evaluation commands (`eval ... --model RUN_DIR`) to the Vision layer's inference.
/// Core cannot reference TorchSharp, so it exposes delegates; the CLI, which sees both, fills them once at start.
/// </summary>
internal static class ModelHooks
{
    public static void Register()
    {
        ModelPredictors.Classifier ??= (runDir, dataset, split) =>
        {
            var index = DatasetIndex.Load(dataset);
            var preds = DatasetPredictions.PredictSplit(runDir, index, split);
            foreach (var p in preds.Where(p => !p.Ok)) Console.Error.WriteLine($"spinexr: {p.ImageId}: {p.Error}");
            return preds.Where(p => p.Ok).Select(p => new SpineXR.Evaluation.ClassifierPrediction(p.ImageId, p.Probability, p.Logit)).ToList();
        };
        ModelPredictors.Detector ??= DetectorEvaluation.PredictSplit;
    }
}
