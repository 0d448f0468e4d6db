// A DICOM Enhanced SR holding SpineXR's findings as a TID 1500 Imaging Measurement Report (PS3.16), the form
// IHE AI Results (AIR) asks of AI results and that viewers such as OHIF/cornerstone3D read back: one Measurement
// Group per kept box (TID 1410: coded finding, image region as a 5-point SCOORD POLYLINE on the box corners
// referencing the source image, the probability), and one image-level group (TID 1501: P(abnormal) and the verdict).
using System.Globalization;
using SpineXR.Data;
using SpineXR.Dicom;
using SpineXR.Dicom.StructuredReporting;
using SpineXR.Inference;

namespace SpineXR.Reports;

/// <summary>Builds, writes and reads SpineXR's TID 1500 measurement reports.</summary>
public static class MeasurementReport
{
    /// <summary>
    /// Enhanced SR Storage: the smallest IOD that allows image-region SCOORDs (what the issue asks: Enhanced or
    /// Comprehensive 3D); the tree has no by-reference relationships and no 3D coordinates, so it needs no more.
    /// </summary>
    public const string SopClassUid = "1.2.840.10008.5.1.4.1.1.88.22";

    /// <summary>Series number of the SR series (after the Secondary Capture's 9901).</summary>
    public const int SeriesNumber = 9902;

    /// <summary>Tracking Identifier of the image-level group (the per-box groups are "lesion N").</summary>
    public const string ImageLevelTracking = "image-level abnormality";

    /// <summary>
    /// The SR for <paramref name="prediction"/> of <paramref name="image"/> (a DICOM source: its SOP Class and
    /// Instance UIDs are referenced). UIDs derive from the source and <paramref name="provenanceKey"/> as for the
    /// Secondary Capture; the report is UNVERIFIED (no person has checked it).
    /// </summary>
    public static DicomDataset Build(SpineImage image, ImagePrediction prediction, string provenanceKey, DateTime now)
    {
        var source = DerivedInstance.SourceReference(image)
            ?? throw new InvalidOperationException($"{image.File}: a structured report needs a DICOM source image (this input has no SOP Instance)");
        string sourceClass = source.GetString(DicomTags.ReferencedSOPClassUID)!, sourceInstance = image.SopInstanceUid!;
        var ds = DerivedInstance.Start(image, "sr", SopClassUid, SeriesNumber, "SpineXR findings (TID 1500) - not for diagnostic use", provenanceKey);
        ds.SetString(DicomTags.Modality, DicomVR.CS, "SR");
        ds.SetSequence(DicomTags.ReferencedPerformedProcedureStepSequence);
        DerivedInstance.SetDates(ds, now, DicomTags.InstanceCreationDate, DicomTags.InstanceCreationTime);
        DerivedInstance.SetDates(ds, now, DicomTags.ContentDate, DicomTags.ContentTime);
        ds.SetString(DicomTags.CompletionFlag, DicomVR.CS, "COMPLETE");
        ds.SetString(DicomTags.VerificationFlag, DicomVR.CS, "UNVERIFIED");
        ds.SetSequence(DicomTags.PerformedProcedureCodeSequence);
        ds.SetSequence(DicomTags.CurrentRequestedProcedureEvidenceSequence, Evidence(image, source));
        ds.SetSequence(DicomTags.CodingSchemeIdentificationSequence, FindingCodes.PrivateSchemeIdentification());
        ds.SetSequence(DicomTags.ContributingEquipmentSequence, DerivedInstance.ContributingEquipment(provenanceKey, now));

        string sopUid = ds.GetString(DicomTags.SOPInstanceUID)!;
        var groups = new List<DicomDataset> { ImageLevelGroup(prediction, sopUid) };
        for (int i = 0; i < prediction.Boxes.Count; i++)
            groups.Add(BoxGroup(prediction.Boxes[i], i, sopUid, sourceClass, sourceInstance));

        var root = ContentItem.Container(null, FindingCodes.ImagingMeasurementReport,
        [
            ContentItem.Code(ContentItem.HasConceptMod, FindingCodes.LanguageOfContent, FindingCodes.EnglishUS),
            ContentItem.Code(ContentItem.HasObsContext, FindingCodes.ObserverType, FindingCodes.Device),
            ContentItem.UidRef(ContentItem.HasObsContext, FindingCodes.DeviceObserverUid, DerivedInstance.DeviceUid),
            ContentItem.Text(ContentItem.HasObsContext, FindingCodes.DeviceObserverName, DerivedInstance.AlgorithmName),
            ContentItem.Text(ContentItem.HasObsContext, FindingCodes.DeviceObserverManufacturer, DerivedInstance.AlgorithmName),
            ContentItem.Text(ContentItem.HasObsContext, FindingCodes.DeviceObserverModelName, DerivedInstance.AlgorithmName),
            ContentItem.Code(ContentItem.HasConceptMod, FindingCodes.ProcedureReported, FindingCodes.ImagingProcedure),
            ContentItem.Container(ContentItem.Contains, FindingCodes.ImageLibrary,
            [
                ContentItem.Container(ContentItem.Contains, FindingCodes.ImageLibraryGroup,
                    [ContentItem.Image(ContentItem.Contains, null, sourceClass, sourceInstance)]),
            ]),
            ContentItem.Container(ContentItem.Contains, FindingCodes.ImagingMeasurements, groups),
        ]);
        foreach (var e in root.Elements) ds.Set(e);
        ds.SetSequence(DicomTags.ContentTemplateSequence, new DicomDataset()
            .SetString(DicomTags.MappingResource, DicomVR.CS, "DCMR")
            .SetString(DicomTags.TemplateIdentifier, DicomVR.CS, "1500"));
        return ds;
    }

    /// <summary>Writes the SR of one image to <paramref name="path"/> atomically.</summary>
    public static void Save(string path, SpineImage image, ImagePrediction prediction, string provenanceKey) =>
        DicomWriter.Save(path, Build(image, prediction, provenanceKey, DateTime.Now));

    /// <summary>
    /// Reads the findings back from a SpineXR TID 1500 report: boxes from the Image Region SCOORDs (bounding box of
    /// the points), classes from the finding codes (<see cref="FindingCodes"/>), scores and P(abnormal) from the NUMs.
    /// A report that is not one is a <see cref="DicomException"/> with the reason.
    /// </summary>
    public static ReportedFindings Read(DicomDataset ds)
    {
        if (!FindingCodes.ImagingMeasurementReport.Matches(ContentItem.Name(ds)))
            throw new DicomException("not a TID 1500 measurement report: the root concept is not (126000, DCM)");
        var measurements = ContentItem.ChildrenNamed(ds, FindingCodes.ImagingMeasurements).FirstOrDefault()
            ?? throw new DicomException("measurement report has no Imaging Measurements container");
        string? sourceUid = null;
        double? abnormal = null;
        string? verdict = null;
        var boxes = new List<PredictedBox>();
        foreach (var group in ContentItem.ChildrenNamed(measurements, FindingCodes.MeasurementGroup))
        {
            var finding = ContentItem.ChildrenNamed(group, FindingCodes.Finding).Select(ContentItem.CodeValue).FirstOrDefault();
            double? probability = ContentItem.ChildrenNamed(group, FindingCodes.Probability).Select(ContentItem.NumValue).FirstOrDefault();
            if (FindingCodes.Abnormal.Matches(finding))
            {
                abnormal = probability;
                var answer = ContentItem.ChildrenNamed(group, FindingCodes.Abnormal).Select(ContentItem.CodeValue).FirstOrDefault();
                verdict = FindingCodes.Yes.Matches(answer) ? "abnormal" : FindingCodes.No.Matches(answer) ? "normal" : null;
                continue;
            }
            int classId = FindingCodes.ClassOf(finding);
            if (classId < 0) throw new DicomException($"measurement group with an unknown finding {finding?.ToString() ?? "(none)"}");
            var region = ContentItem.ChildrenNamed(group, FindingCodes.ImageRegion).FirstOrDefault()
                ?? throw new DicomException($"{LesionTaxonomy.Classes[classId]} group has no Image Region");
            float[] pts = ContentItem.Points(region);
            if (pts.Length < 4) throw new DicomException($"{LesionTaxonomy.Classes[classId]} image region has {pts.Length / 2} point(s)");
            var image = ContentItem.Children(region).FirstOrDefault(c => ContentItem.ValueType(c) == "IMAGE")
                ?? throw new DicomException($"{LesionTaxonomy.Classes[classId]} image region references no image");
            string? refUid = image.GetSequence(DicomTags.ReferencedSOPSequence) is [var r, ..] ? r.GetString(DicomTags.ReferencedSOPInstanceUID) : null;
            if (refUid == null || (sourceUid != null && refUid != sourceUid)) throw new DicomException("image regions reference different or no images");
            sourceUid = refUid;
            float x1 = float.MaxValue, y1 = float.MaxValue, x2 = float.MinValue, y2 = float.MinValue;
            for (int i = 0; i + 1 < pts.Length; i += 2)
            {
                x1 = Math.Min(x1, pts[i]); x2 = Math.Max(x2, pts[i]);
                y1 = Math.Min(y1, pts[i + 1]); y2 = Math.Max(y2, pts[i + 1]);
            }
            boxes.Add(new PredictedBox(LesionTaxonomy.Classes[classId], classId, (float)(probability ?? double.NaN), [x1, y1, x2, y2]));
        }
        if (abnormal is null || verdict is null) throw new DicomException("measurement report has no image-level probability and verdict");
        sourceUid ??= ContentItem.ChildrenNamed(ds, FindingCodes.ImageLibrary)
            .SelectMany(ContentItem.Children).SelectMany(ContentItem.Children)
            .Select(i => i.GetSequence(DicomTags.ReferencedSOPSequence) is [var r, ..] ? r.GetString(DicomTags.ReferencedSOPInstanceUID) : null)
            .FirstOrDefault(u => u != null)
            ?? throw new DicomException("measurement report references no source image");
        return new ReportedFindings(sourceUid, abnormal.Value, verdict, boxes);
    }

    private static DicomDataset Evidence(SpineImage image, DicomDataset source) => new DicomDataset()
        .SetString(DicomTags.StudyInstanceUID, DicomVR.UI, DerivedInstance.StudyUid(image))
        .SetSequence(DicomTags.ReferencedSeriesSequence, new DicomDataset()
            .SetString(DicomTags.SeriesInstanceUID, DicomVR.UI, image.SeriesInstanceUid ?? DicomUid.FromSeed("spinexr-series/" + DerivedInstance.SourceKey(image)))
            .SetSequence(DicomTags.ReferencedSOPSequence, source));

    /// <summary>Tracking, finding, site and algorithm: the head every group of this report shares.</summary>
    private static List<DicomDataset> GroupHead(string tracking, string trackingUid, CodedConcept finding) =>
    [
        ContentItem.Text(ContentItem.HasObsContext, FindingCodes.TrackingIdentifier, tracking),
        ContentItem.UidRef(ContentItem.HasObsContext, FindingCodes.TrackingUid, trackingUid),
        ContentItem.Code(ContentItem.Contains, FindingCodes.Finding, finding),
        ContentItem.Code(ContentItem.HasConceptMod, FindingCodes.FindingSite, FindingCodes.Spine),
        ContentItem.Text(ContentItem.HasConceptMod, FindingCodes.AlgorithmName, DerivedInstance.AlgorithmName),
        ContentItem.Text(ContentItem.HasConceptMod, FindingCodes.AlgorithmVersion, DerivedInstance.AlgorithmVersion),
    ];

    private static DicomDataset ImageLevelGroup(ImagePrediction p, string sopUid)
    {
        var items = GroupHead(ImageLevelTracking, DicomUid.FromSeed(sopUid + "/image"), FindingCodes.Abnormal);
        items.Add(ContentItem.Num(ContentItem.Contains, FindingCodes.Probability, p.AbnormalProbability, FindingCodes.NoUnits));
        items.Add(ContentItem.Code(ContentItem.Contains, FindingCodes.Abnormal, p.Verdict == "abnormal" ? FindingCodes.Yes : FindingCodes.No));
        return ContentItem.Container(ContentItem.Contains, FindingCodes.MeasurementGroup, items);
    }

    private static DicomDataset BoxGroup(PredictedBox box, int index, string sopUid, string sourceClass, string sourceInstance)
    {
        if (box.ClassId < 0 || box.ClassId >= FindingCodes.Classes.Count) throw new ArgumentException($"class id {box.ClassId} out of range", nameof(box));
        float x1 = box.Xyxy[0], y1 = box.Xyxy[1], x2 = box.Xyxy[2], y2 = box.Xyxy[3];
        var items = GroupHead($"lesion {index + 1}", DicomUid.FromSeed(sopUid + "/lesion/" + index), FindingCodes.Classes[box.ClassId]);
        // The closed rectangle on the box corners (cornerstone3D's RectangleROI reads exactly this shape).
        items.Add(ContentItem.Scoord(ContentItem.Contains, FindingCodes.ImageRegion, "POLYLINE", [x1, y1, x2, y1, x2, y2, x1, y2, x1, y1],
            ContentItem.Image(ContentItem.SelectedFrom, null, sourceClass, sourceInstance)));
        // the score's shortest decimal form (0.95, not the float's 0.949999988): it reads back as the same float
        double score = double.Parse(box.Score.ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        items.Add(ContentItem.Num(ContentItem.Contains, FindingCodes.Probability, score, FindingCodes.NoUnits));
        return ContentItem.Container(ContentItem.Contains, FindingCodes.MeasurementGroup, items);
    }
}
