namespace SpineXR.Dicom;

/// <summary>
/// One data element: a plain value (raw bytes in the source byte order), a sequence of items, or encapsulated
/// pixel data (fragments). Values are decoded on access by <see cref="DicomDataset"/>.
/// </summary>
public sealed class DicomElement
{
    public DicomElement(DicomTag tag, DicomVR vr, ReadOnlyMemory<byte> data, bool bigEndian = false)
    {
        Tag = tag;
        VR = vr;
        Data = data;
        BigEndian = bigEndian;
    }

    private DicomElement(DicomTag tag, DicomVR vr, IReadOnlyList<DicomDataset>? items, IReadOnlyList<ReadOnlyMemory<byte>>? fragments)
    {
        Tag = tag;
        VR = vr;
        Items = items;
        Fragments = fragments;
    }

    /// <summary>A sequence element.</summary>
    public static DicomElement Sequence(DicomTag tag, IReadOnlyList<DicomDataset> items) => new(tag, DicomVR.SQ, items, null);

    /// <summary>Encapsulated pixel data: <paramref name="fragments"/>[0] is the Basic Offset Table (may be empty).</summary>
    public static DicomElement Encapsulated(DicomTag tag, DicomVR vr, IReadOnlyList<ReadOnlyMemory<byte>> fragments) =>
        new(tag, vr, null, fragments);

    public DicomTag Tag { get; }
    public DicomVR VR { get; }

    /// <summary>The value bytes as stored (empty for sequences and encapsulated data).</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>True when <see cref="Data"/> holds big-endian binary values (explicit VR big endian source).</summary>
    public bool BigEndian { get; }

    /// <summary>Items of a sequence, or null.</summary>
    public IReadOnlyList<DicomDataset>? Items { get; }

    /// <summary>Fragments of encapsulated pixel data (item 0 = Basic Offset Table), or null.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>>? Fragments { get; }

    public bool IsSequence => Items != null;
    public bool IsEncapsulated => Fragments != null;

    public override string ToString() =>
        $"{Tag} {DicomVRInfo.ToText(VR)} " + (Items != null ? $"{Items.Count} item(s)" : Fragments != null ? $"{Fragments.Count} fragment(s)" : $"{Data.Length} bytes");
}
