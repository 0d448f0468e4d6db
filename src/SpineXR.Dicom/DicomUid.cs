using System.Numerics;
using System.Security.Cryptography;
using System.Text;

namespace SpineXR.Dicom;

/// <summary>UID generation: 2.25.&lt;128-bit number&gt; (PS3.5 B.2), random or derived from a seed.</summary>
public static class DicomUid
{
    /// <summary>Implementation Class UID written into meta headers (a fixed 2.25 UID for SpineXR).</summary>
    public const string ImplementationClassUid = "2.25.290376355815135099539635478628095868211";

    /// <summary>Implementation Version Name (at most 16 characters).</summary>
    public const string ImplementationVersionName = "SPINEXR_1";

    public const string SecondaryCaptureImageStorage = "1.2.840.10008.5.1.4.1.1.7";
    public const string DigitalXRayImageStorageForPresentation = "1.2.840.10008.5.1.4.1.1.1.1";
    public const string ComputedRadiographyImageStorage = "1.2.840.10008.5.1.4.1.1.1";

    /// <summary>A new random UID.</summary>
    public static string Generate() => From128Bits(Guid.NewGuid().ToByteArray());

    /// <summary>The same UID for the same seed (SHA-256 of the UTF-8 seed, first 128 bits): reproducible synthetic data.</summary>
    public static string FromSeed(string seed) => From128Bits(SHA256.HashData(Encoding.UTF8.GetBytes(seed)).AsSpan(0, 16));

    /// <summary>A UID under <paramref name="root"/> from a seed, at most 64 characters.</summary>
    public static string FromSeed(string root, string seed)
    {
        var h = SHA256.HashData(Encoding.UTF8.GetBytes(seed));
        string suffix = new BigInteger(h.AsSpan(0, 12), isUnsigned: true).ToString(System.Globalization.CultureInfo.InvariantCulture);
        string uid = root.TrimEnd('.') + "." + suffix;
        if (uid.Length > 64) throw new ArgumentException($"UID root '{root}' is too long", nameof(root));
        return uid;
    }

    private static string From128Bits(ReadOnlySpan<byte> bytes) =>
        "2.25." + new BigInteger(bytes, isUnsigned: true).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>True for a syntactically valid UID (digits and dots, no leading zeros, at most 64 characters).</summary>
    public static bool IsValid(string uid)
    {
        if (uid.Length is 0 or > 64) return false;
        foreach (var part in uid.Split('.'))
        {
            if (part.Length == 0 || (part.Length > 1 && part[0] == '0')) return false;
            foreach (char c in part) if (c is < '0' or > '9') return false;
        }
        return true;
    }
}
