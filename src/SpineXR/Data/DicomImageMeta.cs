using System.Globalization;
using SpineXR.Dicom;

namespace SpineXR.Data;

/// <summary>Reads a DICOM file's header (stopping before Pixel Data) into an <see cref="ImageMeta"/> row, the <c>dicom info</c> columns.</summary>
public static class DicomImageMeta
{
    /// <summary>Header-only read of one file; <see cref="DicomException"/> (message starting with the path) when unreadable.</summary>
    public static ImageMeta Read(string path)
    {
        var file = DicomFile.Open(path, DicomReadOptions.HeaderOnly);
        var ds = file.Dataset;
        string S(DicomTag t) => ds.GetString(t)?.Trim() ?? "";
        string I(DicomTag t) => ds.TryGetInt(t, out int v) ? v.ToString(CultureInfo.InvariantCulture) : "";
        string D(DicomTag t) => ds.TryGetDouble(t, out double v) ? v.ToString("R", CultureInfo.InvariantCulture) : "";
        var spacing = ds.Contains(DicomTags.PixelSpacing) ? ds.GetDoubles(DicomTags.PixelSpacing) : ds.Contains(DicomTags.ImagerPixelSpacing) ? ds.GetDoubles(DicomTags.ImagerPixelSpacing) : [];
        return new ImageMeta(
        [
            path, S(DicomTags.SOPInstanceUID), S(DicomTags.StudyInstanceUID), S(DicomTags.SeriesInstanceUID), S(DicomTags.PatientID),
            S(DicomTags.Modality), S(DicomTags.BodyPartExamined), S(DicomTags.PatientSex), S(DicomTags.PatientAge),
            I(DicomTags.Rows), I(DicomTags.Columns), I(DicomTags.BitsAllocated), I(DicomTags.BitsStored), I(DicomTags.PixelRepresentation),
            S(DicomTags.PhotometricInterpretation), file.TransferSyntax.Uid, D(DicomTags.WindowCenter), D(DicomTags.WindowWidth),
            string.Join('\\', spacing.Select(x => x.ToString("R", CultureInfo.InvariantCulture))),
            new FileInfo(path).Length.ToString(CultureInfo.InvariantCulture),
        ]);
    }
}
