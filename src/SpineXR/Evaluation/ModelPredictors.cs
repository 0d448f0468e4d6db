// The seam for `spinexr eval ... --model RUN_DIR`: core cannot run models (no TorchSharp below Vision), so the Vision
// layer registers functions here that turn a run directory and a split into predictions.
namespace SpineXR.Evaluation;

/// <summary>Inference hooks registered by the layer that can run models; null until one registers.</summary>
public static class ModelPredictors
{
    /// <summary>(runDir, dataset, split) → one prediction per image of the split.</summary>
    public static Func<string, string, string, IReadOnlyList<ClassifierPrediction>>? Classifier { get; set; }

    /// <summary>(runDir, dataset, split) → detections of every image of the split.</summary>
    public static Func<string, string, string, IReadOnlyList<DetectorPrediction>>? Detector { get; set; }
}
