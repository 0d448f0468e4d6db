using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;

namespace SpineXR.Synthesis;

/// <summary>
/// Identifiers of synthetic data. Like VinDr-SpineXR's, study, series and image ids are 32-digit lowercase hex
/// hashes (here of the seed and the item's index), and the image id is the file stem. The DICOM UIDs carry the same
/// 128-bit numbers in the standard's UUID form, <c>2.25.&lt;decimal&gt;</c>, so each id maps to its UID and back.
/// </summary>
public static class SynthIds
{
    /// <summary>The hex id of item <paramref name="index"/> of <paramref name="kind"/> ("study", "series", "image", "patient").</summary>
    public static string Hex(long seed, string kind, long index)
    {
        byte[] h = SHA256.HashData(Encoding.UTF8.GetBytes(FormattableString.Invariant($"spinexr-synth/{seed}/{kind}/{index}")));
        return Convert.ToHexStringLower(h.AsSpan(0, 16));
    }

    /// <summary>The DICOM UID for a 32-digit hex id: 2.25 followed by the id as an unsigned decimal.</summary>
    public static string Uid(string hex) =>
        "2.25." + BigInteger.Parse("0" + hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture);

    /// <summary>The hex id back from a 2.25 UID made by <see cref="Uid"/>, or null for any other UID.</summary>
    public static string? HexFromUid(string uid)
    {
        if (!uid.StartsWith("2.25.", StringComparison.Ordinal) ||
            !BigInteger.TryParse(uid.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out var v) || v.Sign < 0) return null;
        string hex = v.ToString("x32", CultureInfo.InvariantCulture);
        hex = hex.TrimStart('0').PadLeft(32, '0');
        return hex.Length == 32 ? hex : null;
    }
}
