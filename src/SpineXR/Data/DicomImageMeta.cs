using System.Globalization;
using SpineXR.Dicom;

namespace SpineXR.Data;

/// <summary>Reads a DICOM file's header (stopping before Pixel Data) into an <see cref="ImageMeta"/> row, the <c>dicom info</c> columns.</summary>
public static class DicomImageMeta
{
    /// <summary>Header-only read of one file; <see cref="DicomException"/> (message starting with the path) when unreadable.</summary>
    public static ImageMeta Read(string path)
    {
        // Same values as `spinexr dicom info` writes (DicomInfoCommand.Row), so a *_meta.csv from either is interchangeable.
        var file = DicomFile.Open(path, DicomReadOptions.HeaderOnly);
        var ds = file.Dataset;
        string S(DicomTag t) => ds.GetStringOrDefault(t, "");
        string spacing = ds.Contains(DicomTags.PixelSpacing) ? S(DicomTags.PixelSpacing) : S(DicomTags.ImagerPixelSpacing);
        return new ImageMeta(
        [
            path, S(DicomTags.SOPInstanceUID), S(DicomTags.StudyInstanceUID), S(DicomTags.SeriesInstanceUID), S(DicomTags.PatientID),
            S(DicomTags.Modality), S(DicomTags.BodyPartExamined), S(DicomTags.PatientSex), S(DicomTags.PatientAge),
            S(DicomTags.Rows), S(DicomTags.Columns), S(DicomTags.BitsAllocated), S(DicomTags.BitsStored), S(DicomTags.PixelRepresentation),
            S(DicomTags.PhotometricInterpretation), file.TransferSyntax.Uid, S(DicomTags.WindowCenter), S(DicomTags.WindowWidth), spacing,
            file.SourceSize.ToString(CultureInfo.InvariantCulture),
        ]);
    }
}
