using SpineXR.Inference;

namespace SpineXR.Web.Uploads;

/// <summary>
/// An upload decoded for the models (<see cref="Image"/>, full size), and the recipe for its viewer copy
/// (<see cref="BuildView"/>, holding the full-size values until run): the server builds the view while the models
/// run and answers without waiting for it. <see cref="ResultId"/> names the kept result: the SOP Instance UID, or
/// a hash of the bytes, so the same upload always gets the same id.
/// </summary>
public sealed record DecodedUpload(SpineImage Image, Func<ImageView> BuildView, string ResultId);

/// <summary>The formats the API accepts.</summary>
public enum UploadKind
{
    Dicom,
    Png,
}

/// <summary>An upload the decoder cannot read: answered 400 with <see cref="Exception.Message"/> as the reason.</summary>
public sealed class UnreadableUploadException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Turns uploaded bytes into model input and a view. Implementations are thread-safe.</summary>
public interface IUploadDecoder
{
    /// <param name="bytes">The whole upload, in memory.</param>
    /// <param name="kind">DICOM or PNG, from the content type (or sniffed for multipart octet-stream parts).</param>
    /// <param name="fileName">Name to report in the prediction's <c>file</c> field.</param>
    /// <param name="viewMaxSide">Longest side of the view to keep.</param>
    /// <exception cref="UnreadableUploadException">The bytes are not a readable image of that kind.</exception>
    DecodedUpload Decode(ReadOnlyMemory<byte> bytes, UploadKind kind, string fileName, int viewMaxSide);
}
