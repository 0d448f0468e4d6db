using SpineXR.Inference;

using SpineXR.Dicom.Codecs;

namespace SpineXR.Web.Uploads;

/// <summary>
/// An upload decoded for the models (<see cref="Image"/>, at the wavelet level they need), and the recipe for its
/// viewer copy (<see cref="BuildView"/>, holding the decoded values until run): the server builds the view while
/// the models run and answers without waiting for it. <see cref="Reservation"/> is the decode budget this upload's
/// buffers hold; dispose it once the view is built.
/// </summary>
public sealed record DecodedUpload(SpineImage Image, Func<ImageView> BuildView)
{
    public IDisposable? Reservation { get; init; }
}

/// <summary>The formats the API accepts.</summary>
public enum UploadKind
{
    Dicom,
    Png,
}

/// <summary>An upload the decoder cannot read: answered 400 with <see cref="Exception.Message"/> as the reason.</summary>
public sealed class UnreadableUploadException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// What a decode may cost: the pixel limit (checked on the declared size, before decoding), the inflated size of a
/// deflated dataset, the shrink the consumers allow (JPEG 2000 decoded at the level they need, as `predict` does),
/// and the global decode budget to reserve from. Defaults: no limit beyond the readers' own, full size, no budget.
/// </summary>
public sealed record UploadLimits
{
    /// <summary>Longest side of the view kept for the viewer.</summary>
    public int ViewMaxSide { get; init; } = 1024;

    /// <summary>Largest declared image, in pixels (Rows x Columns, PNG width x height).</summary>
    public long MaxPixels { get; init; } = SpineImageLoader.DefaultMaxPixels;

    /// <summary>Largest inflated size of a deflated DICOM dataset.</summary>
    public long MaxInflatedBytes { get; init; } = 1L << 30;

    /// <summary>How far the image may be shrunk while decoding; null for full size.</summary>
    public ShrinkAllowance? Allowance { get; init; }

    /// <summary>Reserves decode memory (bytes) before pixels are decoded; null for no budget. Throws ImageTooLargeException when it can never fit.</summary>
    public Func<long, IDisposable>? Reserve { get; init; }

    /// <summary>Where the external codecs decode (in process, or in decode hosts under a deadline).</summary>
    public DecodeOptions Decode { get; init; } = DecodeOptions.Default;

    /// <summary>Throws <see cref="ImageTooLargeException"/> when a <paramref name="width"/> x <paramref name="height"/> image exceeds <see cref="MaxPixels"/>.</summary>
    public void CheckPixels(long width, long height)
    {
        if (width * height > MaxPixels)
            throw new ImageTooLargeException($"the image is {width}x{height} = {width * height / 1e6:0.#} megapixels; this server decodes at most {MaxPixels / 1e6:0.#} megapixels (--max-megapixels)");
    }
}

/// <summary>Turns uploaded bytes into model input and a view. Implementations are thread-safe.</summary>
public interface IUploadDecoder
{
    /// <param name="bytes">The whole upload, in memory.</param>
    /// <param name="kind">DICOM or PNG, from the content type (or sniffed for multipart octet-stream parts).</param>
    /// <param name="fileName">Name to report in the prediction's <c>file</c> field.</param>
    /// <param name="limits">Pixel limit, decode budget and shrink allowance.</param>
    /// <exception cref="UnreadableUploadException">The bytes are not a readable image of that kind.</exception>
    /// <exception cref="ImageTooLargeException">The image is larger than <paramref name="limits"/> allow.</exception>
    DecodedUpload Decode(ReadOnlyMemory<byte> bytes, UploadKind kind, string fileName, UploadLimits limits);
}
