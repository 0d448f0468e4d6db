

namespace SpineXR.Inference;

/// <summary>
/// One image ready for the models: the reference 8-bit conversion (VOI LUT, MONOCHROME1 inverted, min-max to
/// 0..255), <see cref="Width"/> x <see cref="Height"/> pixels, with its identifiers. Usually at original size; a
/// JPEG 2000 input may have been decoded <see cref="Reduction"/> wavelet levels below it (see
/// <see cref="SpineImageLoader"/>), each pixel then covering 2^Reduction original pixels a side. Predicted boxes are
/// always in original pixels (<see cref="OriginalWidth"/> x <see cref="OriginalHeight"/>).
/// <see cref="Header"/> holds the source's patient and study attributes (DICOM inputs only), for derived objects.
/// </summary>
public sealed record SpineImage(
    string File, string ImageId, byte[] Gray8, int Width, int Height,
    string? StudyInstanceUid = null, string? SeriesInstanceUid = null, string? SopInstanceUid = null,
    SpineXR.Dicom.DicomDataset? Header = null)
{
    private readonly int _originalWidth, _originalHeight;

    /// <summary>Halvings of the original resolution in <see cref="Gray8"/> (0 = original size).</summary>
    public int Reduction { get; init; }

    /// <summary>Original pixels per pixel of <see cref="Gray8"/> along each axis: 2^<see cref="Reduction"/>.</summary>
    public int Subsampling => 1 << Reduction;

    /// <summary>Width of the original image (the DICOM Columns), in which boxes are given.</summary>
    public int OriginalWidth { get => _originalWidth > 0 ? _originalWidth : Width; init => _originalWidth = value; }

    /// <summary>Height of the original image (the DICOM Rows).</summary>
    public int OriginalHeight { get => _originalHeight > 0 ? _originalHeight : Height; init => _originalHeight = value; }

    /// <summary>The pixels as the classifiers read them: 8-bit grey, scaled by 1 / <see cref="Subsampling"/> from the original.</summary>
    public SpineXR.Imaging.GrayImage ToGray() =>
        new(Gray8, Width, Height, 8, 1f / Subsampling, 1f / Subsampling, OriginalWidth, OriginalHeight);
}

/// <summary>
/// The largest factor by which an image of <paramref name="width"/> x <paramref name="height"/> original pixels may
/// be shrunk before a consumer (a model's input, an overlay) would get fewer pixels than it uses; 1 = none.
/// </summary>
public delegate double ShrinkAllowance(int width, int height);

/// <summary>
/// The whole VinDr-SpineXR pipeline behind one call: classifier ensemble (logit mean), detector ensemble and
/// TTA (WBF), then the decision rule. `spinexr predict` and `spinexr serve` both go through it.
/// Implementations are thread-safe for concurrent <see cref="Predict"/> calls.
/// </summary>
public interface ISpinePredictor : IDisposable
{
    /// <summary>Models and thresholds, as written into predictions.json.</summary>
    PredictionProvenance Provenance { get; }

    /// <summary>
    /// How far inputs of this size may be shrunk before the models see fewer pixels than they use (their own resizing
    /// would discard the rest); the default, 1, asks for full size.
    /// </summary>
    double MaxInputShrink(int width, int height) => 1;

    /// <summary>Predicts a batch; results in input order.</summary>
    IReadOnlyList<ImagePrediction> Predict(IReadOnlyList<SpineImage> batch, CancellationToken cancellationToken = default);
}
