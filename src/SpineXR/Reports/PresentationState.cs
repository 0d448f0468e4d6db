// A Grayscale Softcopy Presentation State (PS3.3 A.33.1) that draws SpineXR's findings over the source radiograph in
// any PACS viewer: each kept box as a closed POLYLINE graphic, its class and score as text above it, and the verdict
// in the top-left corner, on one graphic layer per class (coloured like the overlays). The pixels stay untouched.
using System.Globalization;
using SpineXR.Data;
using SpineXR.Dicom;
using SpineXR.Inference;

namespace SpineXR.Reports;

/// <summary>Builds and writes SpineXR's presentation states.</summary>
public static class PresentationState
{
    /// <summary>Grayscale Softcopy Presentation State Storage.</summary>
    public const string SopClassUid = "1.2.840.10008.5.1.4.1.1.11.1";

    /// <summary>Series number of the presentation state series (after the SR's 9902).</summary>
    public const int SeriesNumber = 9903;

    /// <summary>Layer of the verdict text.</summary>
    public const string VerdictLayer = "SPINEXR_VERDICT";

    /// <summary>The graphic layer of a class (Graphic Layer is CS: upper case, at most 16 characters).</summary>
    public static string ClassLayer(int classId) => "SPINEXR_CLASS_" + classId.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// The presentation state for <paramref name="prediction"/> of <paramref name="image"/> (a DICOM source).
    /// Coordinates are the boxes' own (original pixels, PIXEL units); the source's window, rescale and
    /// MONOCHROME1 inversion are repeated so the picture looks as it does without the presentation state.
    /// </summary>
    public static DicomDataset Build(SpineImage image, ImagePrediction prediction, string provenanceKey, DateTime now)
    {
        var source = DerivedInstance.SourceReference(image)
            ?? throw new InvalidOperationException($"{image.File}: a presentation state needs a DICOM source image (this input has no SOP Instance)");
        var header = image.Header!;
        int columns = header.GetIntOrDefault(DicomTags.Columns, image.OriginalWidth), rows = header.GetIntOrDefault(DicomTags.Rows, image.OriginalHeight);
        var ds = DerivedInstance.Start(image, "pr", SopClassUid, SeriesNumber, "SpineXR findings (presentation state) - not for diagnostic use", provenanceKey);
        ds.SetString(DicomTags.Modality, DicomVR.CS, "PR");
        // Laterality is type 2C (paired body parts only): with the body part named, checkers see that a spine is not paired.
        if (header.GetElement(DicomTags.BodyPartExamined) is { } bodyPart) ds.Set(bodyPart);
        DerivedInstance.SetDates(ds, now, DicomTags.InstanceCreationDate, DicomTags.InstanceCreationTime);
        DerivedInstance.SetDates(ds, now, DicomTags.PresentationCreationDate, DicomTags.PresentationCreationTime);
        ds.SetString(DicomTags.ContentLabel, DicomVR.CS, "SPINEXR");
        ds.SetString(DicomTags.ContentDescription, DicomVR.LO, "SpineXR findings: boxes, classes, scores, verdict");
        ds.SetString(DicomTags.ContentCreatorName, DicomVR.PN, "");
        ds.SetSequence(DicomTags.ContributingEquipmentSequence, DerivedInstance.ContributingEquipment(provenanceKey, now));

        ds.SetSequence(DicomTags.ReferencedSeriesSequence, new DicomDataset()
            .SetString(DicomTags.SeriesInstanceUID, DicomVR.UI, image.SeriesInstanceUid ?? DicomUid.FromSeed("spinexr-series/" + DerivedInstance.SourceKey(image)))
            .SetSequence(DicomTags.ReferencedImageSequence, source));

        var area = new DicomDataset()
            .SetInts(DicomTags.DisplayedAreaTopLeftHandCorner, DicomVR.SL, 1, 1)
            .SetInts(DicomTags.DisplayedAreaBottomRightHandCorner, DicomVR.SL, columns, rows)
            .SetString(DicomTags.PresentationSizeMode, DicomVR.CS, "SCALE TO FIT");
        // The pixels' shape: the source's spacing (row\column, mm) when it has one, else square.
        double[] spacing = header.GetDoubles(DicomTags.PixelSpacing) is { Length: 2 } ps ? ps : header.GetDoubles(DicomTags.ImagerPixelSpacing);
        if (spacing is [> 0, > 0]) area.SetDoubles(DicomTags.PresentationPixelSpacing, DicomVR.DS, spacing);
        else area.SetInts(DicomTags.PresentationPixelAspectRatio, DicomVR.IS, 1, 1);
        ds.SetSequence(DicomTags.DisplayedAreaSelectionSequence, area);

        // Modality LUT and VOI as in the source, so the presentation state changes nothing but the annotations.
        if (header.GetElement(DicomTags.RescaleSlope) is { } slope && header.GetElement(DicomTags.RescaleIntercept) is { } intercept)
        {
            ds.Set(slope).Set(intercept);
            ds.SetString(DicomTags.RescaleType, DicomVR.LO, header.GetStringOrDefault(DicomTags.RescaleType, "US"));
        }
        if (header.TryGetDouble(DicomTags.WindowCenter, out double center) && header.TryGetDouble(DicomTags.WindowWidth, out double width) && width >= 1)
            ds.SetSequence(DicomTags.SoftcopyVOILUTSequence, new DicomDataset()
                .SetDoubles(DicomTags.WindowCenter, DicomVR.DS, center)
                .SetDoubles(DicomTags.WindowWidth, DicomVR.DS, width));
        bool inverse = header.GetString(DicomTags.PhotometricInterpretation) == "MONOCHROME1";
        ds.SetString(DicomTags.PresentationLUTShape, DicomVR.CS, inverse ? "INVERSE" : "IDENTITY");

        // Graphic annotations: one item per layer that has something on it, each referencing the source image.
        float textHeight = Math.Max(12f, Math.Min(columns, rows) / 40f);
        var annotations = new List<DicomDataset>();
        var layers = new List<DicomDataset>();
        string banner = $"{prediction.Verdict}  P(abnormal) = {prediction.AbnormalProbability.ToString("0.000", CultureInfo.InvariantCulture)}";
        annotations.Add(Annotation(source, VerdictLayer, [], [Text(banner, 0, 0, columns, rows, textHeight)]));
        layers.Add(Layer(VerdictLayer, 0, "SpineXR verdict", prediction.Verdict == "abnormal" ? ((byte)0xD5, (byte)0x5E, (byte)0x00) : ((byte)0x00, (byte)0x9E, (byte)0x73)));
        foreach (var group in prediction.Boxes.GroupBy(b => b.ClassId).OrderBy(g => g.Key))
        {
            var graphics = group.Select(b => Rectangle(b.Xyxy)).ToList();
            var texts = group.Select(b => Text($"{b.Class} {b.Score.ToString("0.00", CultureInfo.InvariantCulture)}",
                b.Xyxy[0], Math.Max(0, b.Xyxy[1] - textHeight * 1.4f), columns, rows, textHeight)).ToList();
            annotations.Add(Annotation(source, ClassLayer(group.Key), graphics, texts));
            var c = ClassColors.Of(group.Key);
            layers.Add(Layer(ClassLayer(group.Key), layers.Count, LesionTaxonomy.Classes[group.Key], (c.Red, c.Green, c.Blue)));
        }
        ds.SetSequence(DicomTags.GraphicAnnotationSequence, annotations.ToArray());
        ds.SetSequence(DicomTags.GraphicLayerSequence, layers.ToArray());
        return ds;
    }

    /// <summary>Writes the presentation state of one image to <paramref name="path"/> atomically.</summary>
    public static void Save(string path, SpineImage image, ImagePrediction prediction, string provenanceKey) =>
        DicomWriter.Save(path, Build(image, prediction, provenanceKey, DateTime.Now));

    private static DicomDataset Annotation(DicomDataset source, string layer, List<DicomDataset> graphics, List<DicomDataset> texts)
    {
        var ds = new DicomDataset()
            .SetSequence(DicomTags.ReferencedImageSequence, source)
            .SetString(DicomTags.GraphicLayer, DicomVR.CS, layer);
        if (texts.Count > 0) ds.SetSequence(DicomTags.TextObjectSequence, texts.ToArray());
        if (graphics.Count > 0) ds.SetSequence(DicomTags.GraphicObjectSequence, graphics.ToArray());
        return ds;
    }

    /// <summary>A closed POLYLINE on the box corners, in image pixels.</summary>
    private static DicomDataset Rectangle(float[] xyxy)
    {
        float x1 = xyxy[0], y1 = xyxy[1], x2 = xyxy[2], y2 = xyxy[3];
        return new DicomDataset()
            .SetString(DicomTags.GraphicAnnotationUnits, DicomVR.CS, "PIXEL")
            .SetInts(DicomTags.GraphicDimensions, DicomVR.US, 2)
            .SetInts(DicomTags.NumberOfGraphicPoints, DicomVR.US, 5)
            .SetDoubles(DicomTags.GraphicData, DicomVR.FL, x1, y1, x2, y1, x2, y2, x1, y2, x1, y1)
            .SetString(DicomTags.GraphicType, DicomVR.CS, "POLYLINE")
            .SetString(DicomTags.GraphicFilled, DicomVR.CS, "N");
    }

    /// <summary>Text in a bounding box whose top-left corner is (x, y), clipped to the image.</summary>
    private static DicomDataset Text(string text, float x, float y, int columns, int rows, float height)
    {
        float x2 = Math.Min(columns, x + height * 0.6f * text.Length), y2 = Math.Min(rows, y + height * 1.4f);
        x = Math.Min(x, Math.Max(0, x2 - 1));
        y = Math.Min(y, Math.Max(0, y2 - 1));
        return new DicomDataset()
            .SetString(DicomTags.BoundingBoxAnnotationUnits, DicomVR.CS, "PIXEL")
            .SetString(DicomTags.UnformattedTextValue, DicomVR.ST, text)
            .SetDoubles(DicomTags.BoundingBoxTopLeftHandCorner, DicomVR.FL, x, y)
            .SetDoubles(DicomTags.BoundingBoxBottomRightHandCorner, DicomVR.FL, x2, y2)
            .SetString(DicomTags.BoundingBoxTextHorizontalJustification, DicomVR.CS, "LEFT");
    }

    private static DicomDataset Layer(string name, int order, string description, (byte R, byte G, byte B) colour) => new DicomDataset()
        .SetString(DicomTags.GraphicLayer, DicomVR.CS, name)
        .SetInts(DicomTags.GraphicLayerOrder, DicomVR.IS, order)
        .SetInts(DicomTags.GraphicLayerRecommendedDisplayGrayscaleValue, DicomVR.US, 0xFFFF)
        .SetInts(DicomTags.GraphicLayerRecommendedDisplayCIELabValue, DicomVR.US, CieLab.FromRgb(colour.R, colour.G, colour.B))
        .SetString(DicomTags.GraphicLayerDescription, DicomVR.LO, description);
}
