// The part of a source image's header that results derived from it need (Secondary Capture, SR, presentation state):
// read when the image is decoded and kept with it, so the pixel data can go once the models have seen it.
using SpineXR.Dicom;

namespace SpineXR.Inference;

/// <summary>Picks a source image's header attributes that its derived objects repeat or match.</summary>
public static class SourceHeader
{
    /// <summary>
    /// Source attributes kept with each queued image, for the objects derived from it: patient and study, the
    /// source's identity, and what a presentation state must repeat or match (size, photometric, window, rescale).
    /// </summary>
    private static readonly DicomTag[] Kept =
    [
        DicomTags.SpecificCharacterSet,
        DicomTags.PatientName, DicomTags.PatientID, DicomTags.PatientBirthDate, DicomTags.PatientSex, DicomTags.PatientAge,
        DicomTags.StudyInstanceUID, DicomTags.StudyDate, DicomTags.StudyTime, DicomTags.StudyID, DicomTags.AccessionNumber,
        DicomTags.ReferringPhysicianName, DicomTags.StudyDescription, DicomTags.BodyPartExamined,
        DicomTags.SOPClassUID, DicomTags.SOPInstanceUID, DicomTags.SeriesInstanceUID, DicomTags.Modality,
        DicomTags.Rows, DicomTags.Columns, DicomTags.PhotometricInterpretation, DicomTags.PixelSpacing, DicomTags.ImagerPixelSpacing,
        DicomTags.WindowCenter, DicomTags.WindowWidth, DicomTags.RescaleSlope, DicomTags.RescaleIntercept, DicomTags.RescaleType,
    ];

    /// <summary>The source attributes derived objects need, without the pixel data.</summary>
    public static DicomDataset From(DicomDataset source)
    {
        var header = new DicomDataset(source.Encoding);
        foreach (var tag in Kept)
            if (source.TryGetElement(tag, out var e) && e.Items == null && e.Fragments == null) header.Set(e);
        return header;
    }
}
