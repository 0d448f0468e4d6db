using System.Security.Cryptography;
using System.Text;

namespace SpineXR.Web.Guards;

/// <summary>
/// Who sent a request, as far as the server can tell: the remote address, and with a key, a fingerprint of the key
/// it presented. Results are bound to it, so another caller asking for the id gets 404. Never a name or other PHI.
/// </summary>
public static class Caller
{
    /// <summary>"address" or "address/key-fingerprint" (12 hex digits of the key's SHA-256).</summary>
    public static string Of(HttpContext ctx)
    {
        string address = ctx.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        string? key = ctx.Request.Headers["X-Api-Key"];
        return string.IsNullOrEmpty(key) ? address : address + "/" + Fingerprint(key);
    }

    /// <summary>The remote address alone (per-client admission counts machines, not keys).</summary>
    public static string Address(HttpContext ctx) => ctx.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    private static string Fingerprint(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..12];
}
