using SpineXR.Inference;
using SpineXR.Web.Uploads;

namespace SpineXR.Web.Results;

/// <summary>A finished prediction kept for the overlay, image and raw endpoints; its view may still be being built.</summary>
public sealed class RecentResult
{
    private byte[]? _overlayPng, _imagePng, _sr, _gsps;

    /// <summary>Room charged for the SR and presentation state (a few KB each for tens of boxes).</summary>
    private const long DicomResultsAllowance = 128 * 1024;

    /// <param name="view">The view, being built in the background (awaited by the endpoints that need it).</param>
    /// <param name="viewMaxSide">Longest side of the view, to charge its size to the cache before it exists.</param>
    /// <param name="caller">Who uploaded it (<see cref="Guards.Caller.Of"/>); only the same caller can read it.</param>
    /// <param name="source">The uploaded image without its pixels (identity and header), for the SR and presentation state.</param>
    public RecentResult(string id, string caller, ImagePrediction prediction, Task<ImageView> view, int viewMaxSide, SpineImage? source = null)
    {
        Id = id;
        Caller = caller;
        Prediction = prediction;
        View = view;
        Source = source is null ? null : source with { Gray8 = [] };
        // Raw (2 bytes) + 8-bit (1 byte) per view pixel, plus room for the two PNGs (never larger than the 8-bit view
        // and its RGBA overlay). Fixed at construction so the cache's accounting stays exact.
        var (w, h) = ImageView.ViewSize(Math.Max(1, prediction.Width), Math.Max(1, prediction.Height), viewMaxSide);
        Bytes = (long)w * h * 8 + 4096 + DicomResultsAllowance;
    }

    public string Id { get; }
    public string Caller { get; }
    public ImagePrediction Prediction { get; }
    public Task<ImageView> View { get; }

    /// <summary>The uploaded image's identity and DICOM header (no pixels); null when unknown.</summary>
    public SpineImage? Source { get; }

    /// <summary>True when the upload was a DICOM image, which an SR or presentation state can reference.</summary>
    public bool HasDicomSource => Source != null && SpineXR.Reports.DerivedInstance.SourceReference(Source) != null;

    /// <summary>Bytes charged to the cache.</summary>
    public long Bytes { get; }

    /// <summary>The overlay PNG, rendered on first request (racing renders produce equal bytes).</summary>
    public byte[] OverlayPng(ImageView view, Func<RecentResult, ImageView, byte[]> render) => _overlayPng ??= render(this, view);

    /// <summary>The DICOM SR (TID 1500) as a Part 10 file, built on first request, so every request gets the same bytes.</summary>
    public byte[] StructuredReport(string provenanceKey) =>
        _sr ??= SpineXR.Dicom.DicomWriter.ToBytes(SpineXR.Reports.MeasurementReport.Build(RequireSource(), Prediction, provenanceKey, DateTime.Now));

    /// <summary>The Grayscale Softcopy Presentation State as a Part 10 file, built on first request.</summary>
    public byte[] PresentationState(string provenanceKey) =>
        _gsps ??= SpineXR.Dicom.DicomWriter.ToBytes(SpineXR.Reports.PresentationState.Build(RequireSource(), Prediction, provenanceKey, DateTime.Now));

    private SpineImage RequireSource() => HasDicomSource ? Source! : throw new InvalidOperationException($"result {Id} was not a DICOM upload");

    /// <summary>The reference 8-bit image as PNG, rendered on first request.</summary>
    public byte[] ImagePng(ImageView view, Func<ImageView, byte[]> render) => _imagePng ??= render(view);
}
