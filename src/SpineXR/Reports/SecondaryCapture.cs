// A DICOM Secondary Capture of the findings (PS3.3 A.8.1, Secondary Capture Image IOD): the overlay of `predict`
// burned into an RGB image at the source's full size, in a new series of the source's study, so a PACS files it
// next to the radiograph. Derived, Burned In Annotation YES, and marked not for diagnostic use.
using SpineXR.Dicom;
using SpineXR.Inference;

namespace SpineXR.Reports;

/// <summary>Builds and writes Secondary Capture objects for predictions.</summary>
public static class SecondaryCapture
{
    /// <summary>Secondary Capture Image Storage.</summary>
    public const string SopClassUid = "1.2.840.10008.5.1.4.1.1.7";

    /// <summary>Series number of the derived series (high, so viewers list it after the acquisitions).</summary>
    public const int SeriesNumber = 9901;

    /// <summary>
    /// The Secondary Capture dataset for <paramref name="image"/> with <paramref name="rgb"/> (interleaved, width x height
    /// of the image). UIDs are derived from the source's and from <paramref name="provenanceKey"/> (models and thresholds),
    /// so the same run gives the same UIDs and a run with other models gives new ones.
    /// </summary>
    public static DicomDataset Build(SpineImage image, byte[] rgb, int width, int height, string provenanceKey, DateTime now)
    {
        if (rgb.Length != 3L * width * height) throw new ArgumentException($"{rgb.Length} bytes for {width}x{height} RGB", nameof(rgb));
        var ds = DerivedInstance.Start(image, "sc", SopClassUid, SeriesNumber, "SpineXR findings - not for diagnostic use", provenanceKey);
        if (image.Header?.GetElement(DicomTags.BodyPartExamined) is { } bodyPart) ds.Set(bodyPart);
        ds.SetString(DicomTags.ImageType, DicomVR.CS, "DERIVED", "SECONDARY");
        ds.SetString(DicomTags.Modality, DicomVR.CS, "OT");
        ds.SetString(DicomTags.ConversionType, DicomVR.CS, "WSD");
        DerivedInstance.SetDates(ds, now, DicomTags.ContentDate, DicomTags.ContentTime);
        ds.SetString(DicomTags.PatientOrientation, DicomVR.CS, "");
        ds.SetString(DicomTags.DerivationDescription, DicomVR.ST, "SpineXR predictions (boxes, classes, scores, verdict) burned into the image");
        ds.SetString(DicomTags.ImageComments, DicomVR.LT, "NOT FOR DIAGNOSTIC USE. Produced by SpineXR, research software.");
        if (DerivedInstance.SourceReference(image) is { } reference) ds.SetSequence(DicomTags.SourceImageSequence, reference);

        ds.SetInts(DicomTags.SamplesPerPixel, DicomVR.US, 3);
        ds.SetString(DicomTags.PhotometricInterpretation, DicomVR.CS, "RGB");
        ds.SetInts(DicomTags.PlanarConfiguration, DicomVR.US, 0);
        ds.SetInts(DicomTags.Rows, DicomVR.US, height);
        ds.SetInts(DicomTags.Columns, DicomVR.US, width);
        ds.SetInts(DicomTags.BitsAllocated, DicomVR.US, 8);
        ds.SetInts(DicomTags.BitsStored, DicomVR.US, 8);
        ds.SetInts(DicomTags.HighBit, DicomVR.US, 7);
        ds.SetInts(DicomTags.PixelRepresentation, DicomVR.US, 0);
        ds.SetString(DicomTags.BurnedInAnnotation, DicomVR.CS, "YES");
        ds.SetBytes(DicomTags.PixelData, DicomVR.OB, rgb);
        return ds;
    }

    /// <summary>Renders the findings on the full-size image and writes the object to <paramref name="path"/> atomically.</summary>
    public static void Save(string path, SpineImage image, ImagePrediction prediction, string banner, string provenanceKey)
    {
        if (image.Reduction != 0)
            throw new InvalidOperationException($"{image.File}: a Secondary Capture needs the full-size image, this one was decoded at 1/{image.Subsampling}");
        var (rgb, w, h) = OverlayRenderer.RenderRgb(image.Gray8, image.Width, image.Height, prediction.Boxes, banner,
            prediction.Verdict == "abnormal", Math.Max(image.Width, image.Height));
        DicomWriter.Save(path, Build(image, rgb, w, h, provenanceKey, DateTime.Now));
    }
}
