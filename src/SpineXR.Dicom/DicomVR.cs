namespace SpineXR.Dicom;

/// <summary>Value Representation, stored as its two ASCII characters (first in the high byte).</summary>
public enum DicomVR : ushort
{
    AE = 'A' << 8 | 'E', AS = 'A' << 8 | 'S', AT = 'A' << 8 | 'T', CS = 'C' << 8 | 'S', DA = 'D' << 8 | 'A',
    DS = 'D' << 8 | 'S', DT = 'D' << 8 | 'T', FD = 'F' << 8 | 'D', FL = 'F' << 8 | 'L', IS = 'I' << 8 | 'S',
    LO = 'L' << 8 | 'O', LT = 'L' << 8 | 'T', OB = 'O' << 8 | 'B', OD = 'O' << 8 | 'D', OF = 'O' << 8 | 'F',
    OL = 'O' << 8 | 'L', OV = 'O' << 8 | 'V', OW = 'O' << 8 | 'W', PN = 'P' << 8 | 'N', SH = 'S' << 8 | 'H',
    SL = 'S' << 8 | 'L', SQ = 'S' << 8 | 'Q', SS = 'S' << 8 | 'S', ST = 'S' << 8 | 'T', SV = 'S' << 8 | 'V',
    TM = 'T' << 8 | 'M', UC = 'U' << 8 | 'C', UI = 'U' << 8 | 'I', UL = 'U' << 8 | 'L', UN = 'U' << 8 | 'N',
    UR = 'U' << 8 | 'R', US = 'U' << 8 | 'S', UT = 'U' << 8 | 'T', UV = 'U' << 8 | 'V',
}

/// <summary>Properties of VRs that the reader and writer need (PS3.5 6.2 and 7.1.2).</summary>
public static class DicomVRInfo
{
    /// <summary>Parses two ASCII bytes; false when they are not a known VR.</summary>
    public static bool TryParse(byte a, byte b, out DicomVR vr)
    {
        vr = (DicomVR)(a << 8 | b);
        return IsKnown(vr);
    }

    public static bool IsKnown(DicomVR vr) => vr switch
    {
        DicomVR.AE or DicomVR.AS or DicomVR.AT or DicomVR.CS or DicomVR.DA or DicomVR.DS or DicomVR.DT or DicomVR.FD
            or DicomVR.FL or DicomVR.IS or DicomVR.LO or DicomVR.LT or DicomVR.OB or DicomVR.OD or DicomVR.OF or DicomVR.OL
            or DicomVR.OV or DicomVR.OW or DicomVR.PN or DicomVR.SH or DicomVR.SL or DicomVR.SQ or DicomVR.SS or DicomVR.ST
            or DicomVR.SV or DicomVR.TM or DicomVR.UC or DicomVR.UI or DicomVR.UL or DicomVR.UN or DicomVR.UR or DicomVR.US
            or DicomVR.UT or DicomVR.UV => true,
        _ => false,
    };

    /// <summary>VRs with a 2-byte reserved field and a 32-bit length in explicit VR encodings.</summary>
    public static bool HasLongLength(DicomVR vr) => vr is DicomVR.OB or DicomVR.OD or DicomVR.OF or DicomVR.OL or DicomVR.OV
        or DicomVR.OW or DicomVR.SQ or DicomVR.SV or DicomVR.UC or DicomVR.UN or DicomVR.UR or DicomVR.UT or DicomVR.UV;

    /// <summary>Text VRs (padded with a space).</summary>
    public static bool IsString(DicomVR vr) => vr is DicomVR.AE or DicomVR.AS or DicomVR.CS or DicomVR.DA or DicomVR.DS
        or DicomVR.DT or DicomVR.IS or DicomVR.LO or DicomVR.LT or DicomVR.PN or DicomVR.SH or DicomVR.ST or DicomVR.TM
        or DicomVR.UC or DicomVR.UI or DicomVR.UR or DicomVR.UT;

    /// <summary>Text VRs whose bytes follow Specific Character Set (the rest are plain ASCII).</summary>
    public static bool UsesCharacterSet(DicomVR vr) => vr is DicomVR.LO or DicomVR.LT or DicomVR.PN or DicomVR.SH
        or DicomVR.ST or DicomVR.UC or DicomVR.UT;

    /// <summary>Text VRs that hold one value (no backslash splitting).</summary>
    public static bool IsSingleValuedText(DicomVR vr) => vr is DicomVR.LT or DicomVR.ST or DicomVR.UT or DicomVR.UR;

    /// <summary>Size in bytes of one binary unit, for byte swapping (0 for text and OB/UN/SQ).</summary>
    public static int SwapUnit(DicomVR vr) => vr switch
    {
        DicomVR.US or DicomVR.SS or DicomVR.OW or DicomVR.AT => 2,
        DicomVR.UL or DicomVR.SL or DicomVR.FL or DicomVR.OF or DicomVR.OL => 4,
        DicomVR.FD or DicomVR.OD or DicomVR.SV or DicomVR.UV or DicomVR.OV => 8,
        _ => 0,
    };

    public static string ToText(DicomVR vr) => new([(char)((ushort)vr >> 8), (char)((ushort)vr & 0xFF)]);
}
