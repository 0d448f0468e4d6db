using System.Globalization;

namespace SpineXR.Dicom;

/// <summary>
/// The built-in data dictionary (from pydicom 2.3's, see tools/make_dicom_dictionary.py): the VR of a tag for
/// implicit VR files, and keywords for messages.
/// </summary>
public static class DicomDictionary
{
    private static readonly Lazy<Dictionary<uint, ushort>> VrTable = new(BuildVrs);
    private static readonly Lazy<Dictionary<uint, string>> KeywordTable = new(BuildKeywords);

    // Ambiguous dictionary VRs are stored as lower-case codes and resolved here.
    private const ushort UsOrSs = 'x' << 8 | 's', ObOrOw = 'o' << 8 | 'x', UsOrSsOrOw = 'x' << 8 | 'w', UsOrOw = 'u' << 8 | 'w';

    /// <summary>
    /// VR of <paramref name="tag"/> for an implicit VR file. Ambiguous entries resolve to US/SS by
    /// <paramref name="signed"/> and OB-or-OW to OW; group lengths are UL; private and unknown tags are UN.
    /// </summary>
    public static DicomVR LookupVR(DicomTag tag, bool signed = false)
    {
        if (tag.Element == 0) return DicomVR.UL;
        if (tag.IsPrivate) return tag.Element is >= 0x0010 and <= 0x00FF ? DicomVR.LO : DicomVR.UN;
        uint key = tag.Value;
        if ((tag.Group & 0xFF00) is 0x5000 or 0x6000) key = (uint)(tag.Group & 0xFF00) << 16 | tag.Element;
        if (!VrTable.Value.TryGetValue(key, out ushort code)) return DicomVR.UN;
        return code switch
        {
            UsOrSs => signed ? DicomVR.SS : DicomVR.US,
            ObOrOw => DicomVR.OW,
            UsOrSsOrOw or UsOrOw => DicomVR.US,
            _ => (DicomVR)code,
        };
    }

    /// <summary>The keyword of a tag ("PatientName"), or null for tags outside the keyword table.</summary>
    public static string? Keyword(DicomTag tag) => KeywordTable.Value.TryGetValue(tag.Value, out var k) ? k : null;

    private static Dictionary<uint, ushort> BuildVrs()
    {
        string s = DicomDictionaryData.Vrs;
        var d = new Dictionary<uint, ushort>(s.Length / 10);
        for (int i = 0; i + 10 <= s.Length; i += 10)
            d[uint.Parse(s.AsSpan(i, 8), NumberStyles.HexNumber, CultureInfo.InvariantCulture)] = (ushort)(s[i + 8] << 8 | s[i + 9]);
        return d;
    }

    private static Dictionary<uint, string> BuildKeywords()
    {
        var d = new Dictionary<uint, string>();
        foreach (var entry in DicomDictionaryData.Keywords.Split(';', StringSplitOptions.RemoveEmptyEntries))
            d[uint.Parse(entry.AsSpan(0, 8), NumberStyles.HexNumber, CultureInfo.InvariantCulture)] = entry[8..];
        return d;
    }
}
