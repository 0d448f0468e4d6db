using System.Numerics;
using System.Runtime.InteropServices;

namespace SpineXR.Dicom.Codecs;

/// <summary>Writes decoded integer samples into native little-endian Pixel Data (truncating to the sample width).</summary>
internal static class SampleCopy
{
    /// <summary>
    /// Stores component <paramref name="component"/> of <paramref name="components"/> (interleaved) from
    /// <paramref name="src"/> into <paramref name="dst"/>, <paramref name="bytesPerSample"/> bytes each.
    /// </summary>
    public static void FromInt32(ReadOnlySpan<int> src, Span<byte> dst, int bytesPerSample, int component, int components)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("codecs assume a little-endian machine");
        switch (bytesPerSample)
        {
            case 1:
                if (components == 1) Narrow8(src, dst);
                else for (int i = 0, j = component; i < src.Length; i++, j += components) dst[j] = (byte)src[i];
                break;
            case 2:
                var d16 = MemoryMarshal.Cast<byte, ushort>(dst);
                if (components == 1) Narrow16(src, d16);
                else for (int i = 0, j = component; i < src.Length; i++, j += components) d16[j] = (ushort)src[i];
                break;
            default:
                var d32 = MemoryMarshal.Cast<byte, int>(dst);
                if (components == 1) src.CopyTo(d32);
                else for (int i = 0, j = component; i < src.Length; i++, j += components) d32[j] = src[i];
                break;
        }
    }

    private static void Narrow16(ReadOnlySpan<int> src, Span<ushort> dst)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var s = MemoryMarshal.Cast<int, Vector<uint>>(src);
            var d = MemoryMarshal.Cast<ushort, Vector<ushort>>(dst[..(src.Length & ~(Vector<ushort>.Count - 1))]);
            for (int k = 0; k < d.Length; k++) d[k] = Vector.Narrow(s[2 * k], s[2 * k + 1]);
            i = d.Length * Vector<ushort>.Count;
        }
        for (; i < src.Length; i++) dst[i] = (ushort)src[i];
    }

    private static void Narrow8(ReadOnlySpan<int> src, Span<byte> dst)
    {
        for (int i = 0; i < src.Length; i++) dst[i] = (byte)src[i];
    }
}
