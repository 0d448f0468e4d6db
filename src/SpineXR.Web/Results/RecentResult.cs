using SpineXR.Inference;
using SpineXR.Web.Uploads;

namespace SpineXR.Web.Results;

/// <summary>A finished prediction kept for the overlay, image and raw endpoints; its view may still be being built.</summary>
public sealed class RecentResult
{
    private byte[]? _overlayPng, _imagePng;

    /// <param name="view">The view, being built in the background (awaited by the endpoints that need it).</param>
    /// <param name="viewMaxSide">Longest side of the view, to charge its size to the cache before it exists.</param>
    /// <param name="caller">Who uploaded it (<see cref="Guards.Caller.Of"/>); only the same caller can read it.</param>
    public RecentResult(string id, string caller, ImagePrediction prediction, Task<ImageView> view, int viewMaxSide)
    {
        Id = id;
        Caller = caller;
        Prediction = prediction;
        View = view;
        // Raw (2 bytes) + 8-bit (1 byte) per view pixel, plus room for the two PNGs (never larger than the 8-bit view
        // and its RGBA overlay). Fixed at construction so the cache's accounting stays exact.
        var (w, h) = ImageView.ViewSize(Math.Max(1, prediction.Width), Math.Max(1, prediction.Height), viewMaxSide);
        Bytes = (long)w * h * 8 + 4096;
    }

    public string Id { get; }
    public string Caller { get; }
    public ImagePrediction Prediction { get; }
    public Task<ImageView> View { get; }

    /// <summary>Bytes charged to the cache.</summary>
    public long Bytes { get; }

    /// <summary>The overlay PNG, rendered on first request (racing renders produce equal bytes).</summary>
    public byte[] OverlayPng(ImageView view, Func<RecentResult, ImageView, byte[]> render) => _overlayPng ??= render(this, view);

    /// <summary>The reference 8-bit image as PNG, rendered on first request.</summary>
    public byte[] ImagePng(ImageView view, Func<ImageView, byte[]> render) => _imagePng ??= render(view);
}
