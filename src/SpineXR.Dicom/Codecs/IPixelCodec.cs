namespace SpineXR.Dicom.Codecs;

/// <summary>
/// What a codec needs to know about the image it decodes or encodes (from the dataset's Image Pixel module).
/// </summary>
/// <param name="Rows">Rows (0028,0010).</param>
/// <param name="Columns">Columns (0028,0011).</param>
/// <param name="SamplesPerPixel">1 for grayscale, 3 for colour.</param>
/// <param name="BitsAllocated">8, 16 or 32.</param>
/// <param name="BitsStored">Significant bits per sample.</param>
/// <param name="PixelRepresentation">0 unsigned, 1 two's complement.</param>
/// <param name="Photometric">Photometric Interpretation as stored (MONOCHROME1, MONOCHROME2, RGB, YBR_FULL, YBR_FULL_422, ...).</param>
/// <param name="PlanarConfiguration">0 interleaved, 1 planar (colour only).</param>
public sealed record PixelFormat(
    int Rows, int Columns, int SamplesPerPixel, int BitsAllocated, int BitsStored,
    int PixelRepresentation, string Photometric, int PlanarConfiguration = 0)
{
    public int BytesPerSample => BitsAllocated / 8;

    /// <summary>Bytes of one uncompressed frame.</summary>
    public long FrameBytes => (long)Rows * Columns * SamplesPerPixel * BytesPerSample;
}

/// <summary>
/// One decoded frame laid out exactly as native (uncompressed) little-endian Pixel Data would be:
/// samples of <see cref="PixelFormat.BytesPerSample"/> bytes, colour interleaved (planar configuration 0).
/// <paramref name="Photometric"/> is the interpretation of the decoded samples, which can differ from the
/// stored one (a JPEG baseline YBR_FULL_422 stream decodes to RGB, say).
/// </summary>
public sealed record DecodedFrame(byte[] Data, string Photometric);

/// <summary>A pixel-data codec for one family of transfer syntaxes (fo-dicom's IDicomCodec, made small).</summary>
public interface IPixelCodec
{
    /// <summary>Human-readable codec name ("JPEG 2000 (OpenJPEG)").</summary>
    string Name { get; }

    /// <summary>Transfer syntax UIDs this codec decodes.</summary>
    IReadOnlyList<string> TransferSyntaxes { get; }

    /// <summary>
    /// Decodes one frame (all of its fragments concatenated). Throws <see cref="DicomException"/> with a reason on a
    /// corrupt stream, never anything else; bounded time and memory for any input. <paramref name="options"/> (default
    /// <see cref="DecodeOptions.Default"/>) says where the external libraries decode; the C# codecs ignore it.
    /// </summary>
    DecodedFrame Decode(ReadOnlySpan<byte> frame, PixelFormat format, string transferSyntax, DecodeOptions? options = null);
}
