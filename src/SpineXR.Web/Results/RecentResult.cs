using SpineXR.Inference;
using SpineXR.Web.Uploads;

namespace SpineXR.Web.Results;

/// <summary>A finished prediction kept for the overlay, image and raw endpoints.</summary>
public sealed class RecentResult(string id, ImagePrediction prediction, ImageView view)
{
    private byte[]? _overlayPng, _imagePng;

    public string Id { get; } = id;
    public ImagePrediction Prediction { get; } = prediction;
    public ImageView View { get; } = view;

    /// <summary>Bytes charged to the cache: view buffers plus room for the two PNGs (compressed, never larger than
    /// the 8-bit view and its RGBA overlay). Fixed at construction so the cache's accounting stays exact.</summary>
    public long Bytes { get; } = view.Bytes + view.Gray8.LongLength * 5 + 4096;

    /// <summary>The overlay PNG, rendered on first request (racing renders produce equal bytes).</summary>
    public byte[] OverlayPng(Func<RecentResult, byte[]> render) => _overlayPng ??= render(this);

    /// <summary>The reference 8-bit image as PNG, rendered on first request.</summary>
    public byte[] ImagePng(Func<RecentResult, byte[]> render) => _imagePng ??= render(this);
}
