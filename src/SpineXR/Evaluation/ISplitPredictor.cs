// The seam for `spinexr eval ... --model RUN_DIR` and `ensemble ... RUN_DIR`: core cannot run models (no TorchSharp
// below Vision), so whoever can (the CLI, from Vision) hands an implementation to the commands that need one.
namespace SpineXR.Evaluation;

/// <summary>Runs a trained model (a run directory) on one split of a dataset.</summary>
public interface ISplitPredictor
{
    /// <summary>One prediction per readable image of the split (unreadable ones are reported, not returned).</summary>
    IReadOnlyList<ClassifierPrediction> Classify(string runDir, string dataset, string split);

    /// <summary>The detections of every image of the split.</summary>
    IReadOnlyList<DetectorPrediction> Detect(string runDir, string dataset, string split);
}
