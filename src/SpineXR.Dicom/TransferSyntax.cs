namespace SpineXR.Dicom;

/// <summary>A transfer syntax: how the dataset after the meta header is encoded (PS3.5 10 and Annex A).</summary>
public sealed record TransferSyntax(string Uid, string Name, bool ExplicitVR, bool LittleEndian, bool Deflated, bool Encapsulated)
{
    public const string ImplicitVRLittleEndianUid = "1.2.840.10008.1.2";
    public const string ExplicitVRLittleEndianUid = "1.2.840.10008.1.2.1";
    public const string DeflatedExplicitVRLittleEndianUid = "1.2.840.10008.1.2.1.99";
    public const string ExplicitVRBigEndianUid = "1.2.840.10008.1.2.2";
    public const string JpegBaselineUid = "1.2.840.10008.1.2.4.50";
    public const string JpegExtendedUid = "1.2.840.10008.1.2.4.51";
    public const string JpegLosslessUid = "1.2.840.10008.1.2.4.57";
    public const string JpegLosslessSV1Uid = "1.2.840.10008.1.2.4.70";
    public const string JpegLSLosslessUid = "1.2.840.10008.1.2.4.80";
    public const string JpegLSNearLosslessUid = "1.2.840.10008.1.2.4.81";
    public const string Jpeg2000LosslessUid = "1.2.840.10008.1.2.4.90";
    public const string Jpeg2000Uid = "1.2.840.10008.1.2.4.91";
    public const string HtJ2kLosslessUid = "1.2.840.10008.1.2.4.201";
    public const string HtJ2kLosslessRpclUid = "1.2.840.10008.1.2.4.202";
    public const string HtJ2kUid = "1.2.840.10008.1.2.4.203";
    public const string RleLosslessUid = "1.2.840.10008.1.2.5";

    public static readonly TransferSyntax ImplicitVRLittleEndian = new(ImplicitVRLittleEndianUid, "Implicit VR Little Endian", false, true, false, false);
    public static readonly TransferSyntax ExplicitVRLittleEndian = new(ExplicitVRLittleEndianUid, "Explicit VR Little Endian", true, true, false, false);
    public static readonly TransferSyntax DeflatedExplicitVRLittleEndian = new(DeflatedExplicitVRLittleEndianUid, "Deflated Explicit VR Little Endian", true, true, true, false);
    public static readonly TransferSyntax ExplicitVRBigEndian = new(ExplicitVRBigEndianUid, "Explicit VR Big Endian", true, false, false, false);

    private static readonly Dictionary<string, string> EncapsulatedNames = new(StringComparer.Ordinal)
    {
        [JpegBaselineUid] = "JPEG Baseline", [JpegExtendedUid] = "JPEG Extended (12-bit)",
        ["1.2.840.10008.1.2.4.53"] = "JPEG Spectral Selection (retired)", ["1.2.840.10008.1.2.4.55"] = "JPEG Full Progression (retired)",
        [JpegLosslessUid] = "JPEG Lossless", [JpegLosslessSV1Uid] = "JPEG Lossless SV1",
        [JpegLSLosslessUid] = "JPEG-LS Lossless", [JpegLSNearLosslessUid] = "JPEG-LS Near-Lossless",
        [Jpeg2000LosslessUid] = "JPEG 2000 Lossless", [Jpeg2000Uid] = "JPEG 2000",
        ["1.2.840.10008.1.2.4.92"] = "JPEG 2000 Part 2 Lossless", ["1.2.840.10008.1.2.4.93"] = "JPEG 2000 Part 2",
        [HtJ2kLosslessUid] = "HTJ2K Lossless", [HtJ2kLosslessRpclUid] = "HTJ2K Lossless RPCL", [HtJ2kUid] = "HTJ2K",
        [RleLosslessUid] = "RLE Lossless", ["1.2.840.10008.1.2.4.100"] = "MPEG2", ["1.2.840.10008.1.2.4.102"] = "MPEG-4 AVC",
        ["1.2.840.10008.1.2.4.110"] = "JPEG XL Lossless", ["1.2.840.10008.1.2.4.112"] = "JPEG XL",
    };

    /// <summary>
    /// The transfer syntax for a UID. Unknown UIDs are taken as encapsulated explicit VR little endian (every
    /// compressed syntax is), so the header still reads and the pixel step reports "no codec".
    /// </summary>
    public static TransferSyntax FromUid(string uid)
    {
        uid = uid.Trim().TrimEnd('\0').Trim();
        return uid switch
        {
            ImplicitVRLittleEndianUid => ImplicitVRLittleEndian,
            ExplicitVRLittleEndianUid => ExplicitVRLittleEndian,
            DeflatedExplicitVRLittleEndianUid => DeflatedExplicitVRLittleEndian,
            ExplicitVRBigEndianUid => ExplicitVRBigEndian,
            _ => new TransferSyntax(uid, EncapsulatedNames.GetValueOrDefault(uid, "unknown transfer syntax"), true, true, false, true),
        };
    }

    public override string ToString() => $"{Name} ({Uid})";
}
