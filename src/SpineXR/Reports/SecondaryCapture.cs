// A DICOM Secondary Capture of the findings (PS3.3 A.8.1, Secondary Capture Image IOD): the overlay of `predict`
// burned into an RGB image at the source's full size, in a new series of the source's study, so a PACS files it
// next to the radiograph. Derived, Burned In Annotation YES, and marked not for diagnostic use.
using System.Globalization;
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

    /// <summary>Patient and study attributes copied from the source (raw, so the source's character set carries over).</summary>
    private static readonly DicomTag[] Copied =
    [
        DicomTags.SpecificCharacterSet,
        DicomTags.PatientName, DicomTags.PatientID, DicomTags.PatientBirthDate, DicomTags.PatientSex, DicomTags.PatientAge,
        DicomTags.StudyInstanceUID, DicomTags.StudyDate, DicomTags.StudyTime, DicomTags.StudyID, DicomTags.AccessionNumber,
        DicomTags.ReferringPhysicianName, DicomTags.StudyDescription, DicomTags.BodyPartExamined,
        DicomTags.SOPClassUID, DicomTags.SOPInstanceUID,
    ];

    /// <summary>The source attributes a Secondary Capture needs, without the pixel data (kept with each queued image).</summary>
    public static DicomDataset SourceHeader(DicomDataset source)
    {
        var header = new DicomDataset(source.Encoding);
        foreach (var tag in Copied)
            if (source.TryGetElement(tag, out var e) && e.Items == null && e.Fragments == null) header.Set(e);
        return header;
    }

    /// <summary>
    /// The Secondary Capture dataset for <paramref name="image"/> with <paramref name="rgb"/> (interleaved, width x height
    /// of the image). UIDs are derived from the source's and from <paramref name="provenanceKey"/> (models and thresholds),
    /// so the same run gives the same UIDs and a run with other models gives new ones.
    /// </summary>
    public static DicomDataset Build(SpineImage image, byte[] rgb, int width, int height, string provenanceKey, DateTime now)
    {
        if (rgb.Length != 3L * width * height) throw new ArgumentException($"{rgb.Length} bytes for {width}x{height} RGB", nameof(rgb));
        var src = image.Header ?? new DicomDataset();
        var ds = new DicomDataset(src.Encoding);
        foreach (var e in src.Elements)
            if (e.Tag != DicomTags.SOPClassUID && e.Tag != DicomTags.SOPInstanceUID) ds.Set(e);

        string sourceKey = image.SopInstanceUid ?? ("file:" + InputFiles.ItemKey(image.File));
        // PNG inputs have no study: one is derived from the file, so the object is still valid on its own.
        string study = image.StudyInstanceUid ?? DicomUid.FromSeed("spinexr-study/" + sourceKey);
        ds.SetString(DicomTags.StudyInstanceUID, DicomVR.UI, study);
        foreach (var (tag, vr) in new[] { (DicomTags.PatientName, DicomVR.PN), (DicomTags.PatientID, DicomVR.LO), (DicomTags.PatientBirthDate, DicomVR.DA),
                     (DicomTags.PatientSex, DicomVR.CS), (DicomTags.StudyDate, DicomVR.DA), (DicomTags.StudyTime, DicomVR.TM), (DicomTags.StudyID, DicomVR.SH),
                     (DicomTags.AccessionNumber, DicomVR.SH), (DicomTags.ReferringPhysicianName, DicomVR.PN) })
            if (!ds.Contains(tag)) ds.SetString(tag, vr, ""); // type 2: present, empty when unknown

        ds.SetString(DicomTags.SOPClassUID, DicomVR.UI, SopClassUid);
        ds.SetString(DicomTags.SOPInstanceUID, DicomVR.UI, DicomUid.FromSeed("spinexr-sc/" + provenanceKey + "/" + sourceKey));
        ds.SetString(DicomTags.SeriesInstanceUID, DicomVR.UI, DicomUid.FromSeed("spinexr-sc-series/" + provenanceKey + "/" + study));
        ds.SetString(DicomTags.ImageType, DicomVR.CS, "DERIVED", "SECONDARY");
        ds.SetString(DicomTags.Modality, DicomVR.CS, "OT");
        ds.SetString(DicomTags.ConversionType, DicomVR.CS, "WSD");
        ds.SetString(DicomTags.Manufacturer, DicomVR.LO, "SpineXR");
        ds.SetString(DicomTags.SeriesDescription, DicomVR.LO, "SpineXR findings - not for diagnostic use");
        ds.SetInts(DicomTags.SeriesNumber, DicomVR.IS, SeriesNumber);
        ds.SetInts(DicomTags.InstanceNumber, DicomVR.IS, 1);
        ds.SetString(DicomTags.ContentDate, DicomVR.DA, now.ToString("yyyyMMdd", CultureInfo.InvariantCulture));
        ds.SetString(DicomTags.ContentTime, DicomVR.TM, now.ToString("HHmmss", CultureInfo.InvariantCulture));
        ds.SetString(DicomTags.PatientOrientation, DicomVR.CS, "");
        ds.SetString(DicomTags.DerivationDescription, DicomVR.ST, "SpineXR predictions (boxes, classes, scores, verdict) burned into the image");
        ds.SetString(DicomTags.ImageComments, DicomVR.LT, "NOT FOR DIAGNOSTIC USE. Produced by SpineXR, research software.");
        if (image.Header is { } h && h.GetString(DicomTags.SOPClassUID) is { } srcClass && image.SopInstanceUid != null)
        {
            var reference = new DicomDataset();
            reference.SetString(DicomTags.ReferencedSOPClassUID, DicomVR.UI, srcClass);
            reference.SetString(DicomTags.ReferencedSOPInstanceUID, DicomVR.UI, image.SopInstanceUid);
            ds.SetSequence(DicomTags.SourceImageSequence, reference);
        }

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
