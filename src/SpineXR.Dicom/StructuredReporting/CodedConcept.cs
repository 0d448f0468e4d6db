namespace SpineXR.Dicom.StructuredReporting;

/// <summary>A coded concept (PS3.3 8.8, Code Sequence Macro): code value, coding scheme designator, code meaning.</summary>
public sealed record CodedConcept(string Value, string Scheme, string Meaning)
{
    /// <summary>The concept as a Code Sequence item (Code Value SH, so at most 16 characters).</summary>
    public DicomDataset ToItem()
    {
        if (Value.Length is 0 or > 16) throw new ArgumentException($"code value '{Value}' must have 1 to 16 characters", nameof(Value));
        return new DicomDataset()
            .SetString(DicomTags.CodeValue, DicomVR.SH, Value)
            .SetString(DicomTags.CodingSchemeDesignator, DicomVR.SH, Scheme)
            .SetString(DicomTags.CodeMeaning, DicomVR.LO, Meaning);
    }

    /// <summary>The concept of a Code Sequence item, or null when the item lacks a value or scheme.</summary>
    public static CodedConcept? FromItem(DicomDataset item)
    {
        string? value = item.GetString(DicomTags.CodeValue), scheme = item.GetString(DicomTags.CodingSchemeDesignator);
        if (string.IsNullOrEmpty(value) || string.IsNullOrEmpty(scheme)) return null;
        return new CodedConcept(value, scheme, item.GetString(DicomTags.CodeMeaning) ?? "");
    }

    /// <summary>The first item of the code sequence <paramref name="tag"/> of <paramref name="ds"/>, or null.</summary>
    public static CodedConcept? FromSequence(DicomDataset ds, DicomTag tag) =>
        ds.GetSequence(tag) is [var item, ..] ? FromItem(item) : null;

    /// <summary>Same code: value and scheme (the meaning is display text and may differ between writers).</summary>
    public bool Matches(CodedConcept? other) => other != null && other.Value == Value && other.Scheme == Scheme;

    public override string ToString() => $"({Value}, {Scheme}, \"{Meaning}\")";
}
