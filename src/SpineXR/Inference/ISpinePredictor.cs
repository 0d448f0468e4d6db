namespace SpineXR.Inference;

/// <summary>
/// One image ready for the models: the reference 8-bit conversion (VOI LUT, MONOCHROME1 inverted, min-max to
/// 0..255) at original size, with its identifiers. Boxes predicted for it are in these pixel coordinates.
/// <see cref="Header"/> holds the source's patient and study attributes (DICOM inputs only), for derived objects.
/// </summary>
public sealed record SpineImage(
    string File, string ImageId, byte[] Gray8, int Width, int Height,
    string? StudyInstanceUid = null, string? SeriesInstanceUid = null, string? SopInstanceUid = null,
    SpineXR.Dicom.DicomDataset? Header = null);

/// <summary>
/// The whole VinDr-SpineXR pipeline behind one call: classifier ensemble (logit mean), detector ensemble and
/// TTA (WBF), then the decision rule. `spinexr predict` and `spinexr serve` both go through it.
/// Implementations are thread-safe for concurrent <see cref="Predict"/> calls.
/// </summary>
public interface ISpinePredictor : IDisposable
{
    /// <summary>Models and thresholds, as written into predictions.json.</summary>
    PredictionProvenance Provenance { get; }

    /// <summary>Predicts a batch; results in input order.</summary>
    IReadOnlyList<ImagePrediction> Predict(IReadOnlyList<SpineImage> batch, CancellationToken cancellationToken = default);
}
