using System.Buffers;
using System.Security.Cryptography;

namespace SpineXR.Web.Uploads;

/// <summary>Result ids: the SOP Instance UID when it is a usable path segment, else a hash of the bytes.</summary>
public static class UploadIds
{
    private static readonly SearchValues<char> Allowed = SearchValues.Create("0123456789.abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_");

    /// <summary>"sha256-" and the first 24 hex digits of the content's SHA-256: the same upload gets the same id.</summary>
    public static string FromContent(ReadOnlySpan<byte> bytes) =>
        "sha256-" + Convert.ToHexStringLower(SHA256.HashData(bytes))[..24];

    /// <summary>True when <paramref name="id"/> can be used as is in /api/v1/overlay/{id}.png.</summary>
    public static bool IsSafe(string? id) =>
        id is { Length: > 0 and <= 128 } && !id.AsSpan().ContainsAnyExcept(Allowed) && id[0] != '.' && !id.Contains("..");
}
