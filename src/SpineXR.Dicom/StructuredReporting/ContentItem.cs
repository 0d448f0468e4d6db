// SR content items (PS3.3 C.17.3, Document Content Macro): each is a dataset with Relationship Type, Value Type,
// Concept Name Code Sequence and the value attributes of its type; children sit in its Content Sequence.

namespace SpineXR.Dicom.StructuredReporting;

/// <summary>Builds and reads SR content items (CONTAINER, CODE, TEXT, UIDREF, NUM, SCOORD, IMAGE).</summary>
public static class ContentItem
{
    public const string Contains = "CONTAINS";
    public const string HasObsContext = "HAS OBS CONTEXT";
    public const string HasConceptMod = "HAS CONCEPT MOD";
    public const string SelectedFrom = "SELECTED FROM";

    /// <summary>A CONTAINER (continuity SEPARATE) with <paramref name="children"/>; no relationship for the root.</summary>
    public static DicomDataset Container(string? relationship, CodedConcept name, IEnumerable<DicomDataset> children)
    {
        var ds = Start(relationship, "CONTAINER", name);
        ds.SetString(DicomTags.ContinuityOfContent, DicomVR.CS, "SEPARATE");
        var list = children.ToArray();
        if (list.Length > 0) ds.SetSequence(DicomTags.ContentSequence, list);
        return ds;
    }

    public static DicomDataset Code(string relationship, CodedConcept name, CodedConcept value) =>
        Start(relationship, "CODE", name).SetSequence(DicomTags.ConceptCodeSequence, value.ToItem());

    public static DicomDataset Text(string relationship, CodedConcept name, string value) =>
        Start(relationship, "TEXT", name).SetString(DicomTags.TextValue, DicomVR.UT, value);

    public static DicomDataset UidRef(string relationship, CodedConcept name, string uid) =>
        Start(relationship, "UIDREF", name).SetString(DicomTags.UID, DicomVR.UI, uid);

    /// <summary>A NUM: the value as DS text (at most 16 characters) and exactly as Floating Point Value (FD).</summary>
    public static DicomDataset Num(string relationship, CodedConcept name, double value, CodedConcept units)
    {
        var measured = new DicomDataset()
            .SetSequence(DicomTags.MeasurementUnitsCodeSequence, units.ToItem())
            .SetDoubles(DicomTags.NumericValue, DicomVR.DS, value)
            .SetDoubles(DicomTags.FloatingPointValue, DicomVR.FD, value);
        return Start(relationship, "NUM", name).SetSequence(DicomTags.MeasuredValueSequence, measured);
    }

    /// <summary>
    /// A SCOORD in image pixel coordinates (column, row pairs; the top-left corner of the top-left pixel is 0,0,
    /// PS3.3 C.18.6.1.2) on the image <paramref name="image"/> (an IMAGE item, related SELECTED FROM).
    /// </summary>
    public static DicomDataset Scoord(string relationship, CodedConcept name, string graphicType, ReadOnlySpan<float> points, DicomDataset image)
    {
        if (points.Length == 0 || points.Length % 2 != 0) throw new ArgumentException("SCOORD points are column,row pairs", nameof(points));
        var data = new byte[points.Length * 4];
        for (int i = 0; i < points.Length; i++) System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(i * 4), points[i]);
        return Start(relationship, "SCOORD", name)
            .SetBytes(DicomTags.GraphicData, DicomVR.FL, data)
            .SetString(DicomTags.GraphicType, DicomVR.CS, graphicType)
            .SetSequence(DicomTags.ContentSequence, image);
    }

    /// <summary>An IMAGE reference (no concept name: PS3.3 allows none for SELECTED FROM targets).</summary>
    public static DicomDataset Image(string relationship, CodedConcept? name, string sopClassUid, string sopInstanceUid)
    {
        var ds = new DicomDataset()
            .SetString(DicomTags.RelationshipType, DicomVR.CS, relationship)
            .SetString(DicomTags.ValueType, DicomVR.CS, "IMAGE");
        if (name != null) ds.SetSequence(DicomTags.ConceptNameCodeSequence, name.ToItem());
        return ds.SetSequence(DicomTags.ReferencedSOPSequence, SopReference(sopClassUid, sopInstanceUid));
    }

    /// <summary>A Referenced SOP item: class and instance UID.</summary>
    public static DicomDataset SopReference(string sopClassUid, string sopInstanceUid) => new DicomDataset()
        .SetString(DicomTags.ReferencedSOPClassUID, DicomVR.UI, sopClassUid)
        .SetString(DicomTags.ReferencedSOPInstanceUID, DicomVR.UI, sopInstanceUid);

    // ---------------------------------------------------------------- reading

    public static string? ValueType(DicomDataset item) => item.GetString(DicomTags.ValueType);

    public static CodedConcept? Name(DicomDataset item) => CodedConcept.FromSequence(item, DicomTags.ConceptNameCodeSequence);

    public static IReadOnlyList<DicomDataset> Children(DicomDataset item) => item.GetSequence(DicomTags.ContentSequence);

    /// <summary>The children of <paramref name="item"/> whose concept name is <paramref name="name"/>.</summary>
    public static IEnumerable<DicomDataset> ChildrenNamed(DicomDataset item, CodedConcept name) =>
        Children(item).Where(c => name.Matches(Name(c)));

    /// <summary>The coded value of a CODE item, or null.</summary>
    public static CodedConcept? CodeValue(DicomDataset item) => CodedConcept.FromSequence(item, DicomTags.ConceptCodeSequence);

    /// <summary>The value of a NUM item: Floating Point Value when present (exact), else the DS text.</summary>
    public static double? NumValue(DicomDataset item)
    {
        if (item.GetSequence(DicomTags.MeasuredValueSequence) is not [var measured, ..]) return null;
        if (measured.TryGetDouble(DicomTags.FloatingPointValue, out double d)) return d;
        return measured.TryGetDouble(DicomTags.NumericValue, out d) ? d : null;
    }

    /// <summary>The points of a SCOORD item (column, row pairs).</summary>
    public static float[] Points(DicomDataset item) => item.GetDoubles(DicomTags.GraphicData).Select(v => (float)v).ToArray();

    private static DicomDataset Start(string? relationship, string valueType, CodedConcept name)
    {
        var ds = new DicomDataset();
        if (relationship != null) ds.SetString(DicomTags.RelationshipType, DicomVR.CS, relationship);
        ds.SetString(DicomTags.ValueType, DicomVR.CS, valueType);
        ds.SetSequence(DicomTags.ConceptNameCodeSequence, name.ToItem());
        return ds;
    }
}
