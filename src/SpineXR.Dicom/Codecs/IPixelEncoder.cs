namespace SpineXR.Dicom.Codecs;

/// <summary>
/// Encodes one frame into the compressed stream of an encapsulated transfer syntax (the writer wraps the result in
/// fragments and a Basic Offset Table). The writer side of <see cref="IPixelCodec"/>.
/// </summary>
public interface IPixelEncoder
{
    /// <summary>Transfer syntax UID the encoded frames belong to (e.g. 1.2.840.10008.1.2.4.90, JPEG 2000 lossless).</summary>
    string TransferSyntax { get; }

    /// <summary>
    /// Encodes one frame given as native little-endian Pixel Data would hold it (samples of
    /// <see cref="PixelFormat.BytesPerSample"/> bytes, colour interleaved). Returns the complete code stream for the frame
    /// (any length; the writer pads fragments to even length). Throws <see cref="DicomException"/> on failure.
    /// </summary>
    byte[] Encode(ReadOnlySpan<byte> frame, PixelFormat format);
}
