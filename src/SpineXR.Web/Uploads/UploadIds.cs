using System.Buffers;
using System.Security.Cryptography;

namespace SpineXR.Web.Uploads;

/// <summary>Result ids (random, one per upload) and image ids of unnamed uploads without a SOP Instance UID.</summary>
public static class UploadIds
{
    private static readonly SearchValues<char> Hex = SearchValues.Create("0123456789abcdef");

    /// <summary>"sha256-" and the first 24 hex digits of the content's SHA-256: the image id of an unnamed PNG.</summary>
    public static string FromContent(ReadOnlySpan<byte> bytes) =>
        "sha256-" + Convert.ToHexStringLower(SHA256.HashData(bytes))[..24];

    /// <summary>A fresh result id: 128 random bits as 32 lower-case hex digits. Unguessable, never derived from the upload.</summary>
    public static string NewResultId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>True when <paramref name="id"/> has the shape of <see cref="NewResultId"/>.</summary>
    public static bool IsResultId(string? id) => id is { Length: 32 } && !id.AsSpan().ContainsAnyExcept(Hex);
}
