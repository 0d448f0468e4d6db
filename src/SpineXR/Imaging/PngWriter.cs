// A small PNG encoder (ISO/IEC 15948) for grayscale 8- and 16-bit images: IHDR, one IDAT (zlib), IEND.
// Rows use the Up filter (radiographs change little from row to row), which compresses well and costs one
// vectorised subtraction per row.
using System.Buffers.Binary;
using System.IO.Compression;
using System.Numerics;
using System.Runtime.InteropServices;
using SpineXR.IO;

namespace SpineXR.Imaging;

/// <summary>Writes grayscale PNG files (8 or 16 bits per pixel).</summary>
public static class PngWriter
{
    private static readonly uint[] CrcTable = MakeCrcTable();

    /// <summary>Writes an 8-bit grayscale PNG of <paramref name="width"/> x <paramref name="height"/> row-major pixels.</summary>
    public static void WriteGray8(Stream stream, int width, int height, ReadOnlySpan<byte> pixels, CompressionLevel level = CompressionLevel.Fastest)
    {
        Check(width, height, pixels.Length);
        Write(stream, width, height, 8, pixels, level);
    }

    /// <summary>Writes a 16-bit grayscale PNG (samples are stored big-endian, as PNG requires).</summary>
    public static void WriteGray16(Stream stream, int width, int height, ReadOnlySpan<ushort> pixels, CompressionLevel level = CompressionLevel.Fastest)
    {
        Check(width, height, pixels.Length);
        var be = new byte[pixels.Length * 2];
        var dst = MemoryMarshal.Cast<byte, ushort>(be.AsSpan());
        if (BitConverter.IsLittleEndian) BinaryPrimitives.ReverseEndianness(pixels, dst);
        else pixels.CopyTo(dst);
        Write(stream, width, height, 16, be, level);
    }

    /// <summary>Writes an 8-bit PNG file atomically (temp file, then rename).</summary>
    public static void SaveGray8(string path, int width, int height, byte[] pixels, CompressionLevel level = CompressionLevel.Fastest) =>
        AtomicFile.Write(path, s => WriteGray8(s, width, height, pixels, level));

    /// <summary>Writes a 16-bit PNG file atomically (temp file, then rename).</summary>
    public static void SaveGray16(string path, int width, int height, ushort[] pixels, CompressionLevel level = CompressionLevel.Fastest) =>
        AtomicFile.Write(path, s => WriteGray16(s, width, height, pixels, level));

    private static void Check(int width, int height, int count)
    {
        if (width < 1 || height < 1) throw new ArgumentException($"image size {width}x{height} must be positive");
        if ((long)width * height != count) throw new ArgumentException($"{count} pixels given for {width}x{height}");
    }

    private static void Write(Stream stream, int width, int height, int bitDepth, ReadOnlySpan<byte> samples, CompressionLevel level)
    {
        int rowBytes = width * bitDepth / 8;
        stream.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);

        Span<byte> ihdr = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr[4..], height);
        ihdr[8] = (byte)bitDepth;
        ihdr[9] = 0; // grayscale
        ihdr[10] = 0; // deflate
        ihdr[11] = 0; // adaptive filtering
        ihdr[12] = 0; // no interlace
        WriteChunk(stream, "IHDR"u8, ihdr);

        var compressed = new MemoryStream(Math.Max(1024, samples.Length / 3));
        using (var z = new ZLibStream(compressed, level, leaveOpen: true))
        {
            var line = new byte[rowBytes + 1];
            for (int y = 0; y < height; y++)
            {
                var row = samples.Slice(y * rowBytes, rowBytes);
                if (y == 0)
                {
                    line[0] = 0; // None
                    row.CopyTo(line.AsSpan(1));
                }
                else
                {
                    line[0] = 2; // Up: each byte minus the byte above
                    SubtractBytes(row, samples.Slice((y - 1) * rowBytes, rowBytes), line.AsSpan(1));
                }
                z.Write(line);
            }
        }
        WriteChunk(stream, "IDAT"u8, compressed.GetBuffer().AsSpan(0, (int)compressed.Length));
        WriteChunk(stream, "IEND"u8, []);
    }

    private static void SubtractBytes(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, Span<byte> dst)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            int n = Vector<byte>.Count;
            for (; i + n <= a.Length; i += n)
                (new Vector<byte>(a[i..]) - new Vector<byte>(b[i..])).CopyTo(dst[i..]);
        }
        for (; i < a.Length; i++) dst[i] = (byte)(a[i] - b[i]);
    }

    private static void WriteChunk(Stream s, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> head = stackalloc byte[8];
        BinaryPrimitives.WriteInt32BigEndian(head, data.Length);
        type.CopyTo(head[4..]);
        s.Write(head);
        s.Write(data);
        uint crc = Crc(Crc(0xFFFFFFFF, type), data) ^ 0xFFFFFFFF;
        Span<byte> tail = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(tail, crc);
        s.Write(tail);
    }

    private static uint Crc(uint crc, ReadOnlySpan<byte> data)
    {
        foreach (byte b in data) crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc;
    }

    private static uint[] MakeCrcTable()
    {
        var t = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
            t[n] = c;
        }
        return t;
    }
}
