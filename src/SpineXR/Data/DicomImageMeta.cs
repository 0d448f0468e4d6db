namespace SpineXR.Data;

/// <summary>Reads a DICOM file's header into an <see cref="ImageMeta"/> row (the <c>dicom info</c> columns).</summary>
public static class DicomImageMeta
{
    /// <summary>Header-only read of one file.</summary>
    public static ImageMeta Read(string path) =>
        throw new NotSupportedException("DICOM header reader not merged yet");
}
