using System.Runtime.InteropServices;
using SpineXR.Dicom.Codecs;

namespace SpineXR.Dicom.Tests.Codecs;

/// <summary>Synthetic frames and stored-value extraction for codec tests.</summary>
internal static class TestImages
{
    /// <summary>A smooth gradient with seeded noise in every sample, including bits above Bits Stored (which codecs must ignore).</summary>
    public static byte[] Random(PixelFormat f, int seed)
    {
        var rng = new Random(seed);
        var bytes = new byte[f.FrameBytes];
        int n = f.Rows * f.Columns * f.SamplesPerPixel;
        for (int i = 0; i < n; i++)
        {
            long v = (long)(i % 97) * 13 + rng.Next(1 << Math.Min(f.BitsStored, 30));
            if (rng.Next(8) == 0) v |= -1L << f.BitsStored; // junk high bits
            switch (f.BytesPerSample)
            {
                case 1: bytes[i] = (byte)v; break;
                case 2: MemoryMarshal.Cast<byte, ushort>(bytes.AsSpan())[i] = (ushort)v; break;
                default: MemoryMarshal.Cast<byte, int>(bytes.AsSpan())[i] = (int)v; break;
            }
        }
        return bytes;
    }

    /// <summary>Every sample masked to Bits Stored and sign-extended when signed: what a reader reports.</summary>
    public static long[] Stored(byte[] data, PixelFormat f)
    {
        int n = f.Rows * f.Columns * f.SamplesPerPixel;
        var values = new long[n];
        int shift = 64 - f.BitsStored;
        for (int i = 0; i < n; i++)
        {
            long raw = f.BytesPerSample switch
            {
                1 => data[i],
                2 => MemoryMarshal.Cast<byte, ushort>(data)[i],
                _ => MemoryMarshal.Cast<byte, uint>(data)[i],
            };
            values[i] = f.PixelRepresentation == 1 ? (raw << shift) >> shift : (long)((ulong)(raw << shift) >> shift);
        }
        return values;
    }
}
