namespace SpineXR.Web.Uploads;

/// <summary>
/// DICOM uploads: Part 10 read by SpineXR.Dicom, the reference 8-bit conversion for the models (VOI LUT,
/// MONOCHROME1 inverted, min-max), modality values and the file's window for the viewer.
/// </summary>
public static class DicomUpload
{
    /// <summary>Part 10 files carry "DICM" after a 128-byte preamble.</summary>
    public static bool LooksLikeDicom(ReadOnlySpan<byte> bytes) => bytes.Length >= 132 && bytes.Slice(128, 4).SequenceEqual("DICM"u8);

    public static DecodedUpload Decode(ReadOnlyMemory<byte> bytes, string fileName, int viewMaxSide) =>
        throw new UnreadableUploadException("DICOM reading is not in this build yet");
}
