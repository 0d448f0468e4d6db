// A small PNG encoder (ISO/IEC 15948) for grayscale 8- and 16-bit and 8-bit RGB images: IHDR, one IDAT (zlib),
// IEND. Rows use the Up filter (radiographs change little from row to row), which compresses well and costs one
// vectorised subtraction per row. The default level (Fastest) uses RleDeflate (zlib's Z_RLE strategy, as OpenCV's
// PNG default); other levels go through System.IO.Compression. Chunk CRCs use System.IO.Hashing's vectorised CRC-32.
using System.Buffers.Binary;
using System.IO.Compression;
using System.Numerics;
using System.Runtime.InteropServices;
using SpineXR.IO;

namespace SpineXR.Imaging;

/// <summary>Writes grayscale (8 or 16 bits per pixel) and 8-bit RGB PNG files.</summary>
public static class PngWriter
{
    private const byte Grayscale = 0, TrueColour = 2; // IHDR colour types

    /// <summary>Writes an 8-bit grayscale PNG of <paramref name="width"/> x <paramref name="height"/> row-major pixels.</summary>
    public static void WriteGray8(Stream stream, int width, int height, ReadOnlySpan<byte> pixels, CompressionLevel level = CompressionLevel.Fastest)
    {
        Check(width, height, pixels.Length);
        Write(stream, width, height, 8, Grayscale, pixels, level);
    }

    /// <summary>Writes an 8-bit RGB PNG of interleaved R, G, B samples, row-major, no row padding.</summary>
    public static void WriteRgb8(Stream stream, int width, int height, ReadOnlySpan<byte> rgb, CompressionLevel level = CompressionLevel.Fastest)
    {
        if (width < 1 || height < 1) throw new ArgumentException($"image size {width}x{height} must be positive");
        if (3L * width * height != rgb.Length) throw new ArgumentException($"{rgb.Length} bytes given for {width}x{height} RGB");
        Write(stream, width, height, 8, TrueColour, rgb, level);
    }

    /// <summary>Writes a 16-bit grayscale PNG (samples are stored big-endian, as PNG requires).</summary>
    public static void WriteGray16(Stream stream, int width, int height, ReadOnlySpan<ushort> pixels, CompressionLevel level = CompressionLevel.Fastest)
    {
        Check(width, height, pixels.Length);
        var be = GC.AllocateUninitializedArray<byte>(pixels.Length * 2);
        var dst = MemoryMarshal.Cast<byte, ushort>(be.AsSpan());
        if (BitConverter.IsLittleEndian) BinaryPrimitives.ReverseEndianness(pixels, dst);
        else pixels.CopyTo(dst);
        Write(stream, width, height, 16, Grayscale, be, level);
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

    private static void Write(Stream stream, int width, int height, int bitDepth, byte colourType, ReadOnlySpan<byte> samples, CompressionLevel level)
    {
        int rowBytes = checked(width * (colourType == TrueColour ? 3 : 1) * bitDepth / 8);
        stream.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);

        Span<byte> ihdr = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr[4..], height);
        ihdr[8] = (byte)bitDepth;
        ihdr[9] = colourType;
        ihdr[10] = 0; // deflate
        ihdr[11] = 0; // adaptive filtering
        ihdr[12] = 0; // no interlace
        WriteChunk(stream, "IHDR"u8, ihdr);

        // Filtered scanlines: a filter byte, then the row (Up filter for all rows after the first).
        // Pooled: the largest transient buffer of a conversion, reused across files (fewer page faults and GCs).
        int filteredLength = checked((rowBytes + 1) * height);
        byte[] pooled = System.Buffers.ArrayPool<byte>.Shared.Rent(filteredLength);
        var filtered = pooled.AsSpan(0, filteredLength);
        for (int y = 0; y < height; y++)
        {
            var line = filtered.Slice(y * (rowBytes + 1), rowBytes + 1);
            var row = samples.Slice(y * rowBytes, rowBytes);
            if (y == 0)
            {
                line[0] = 0; // None
                row.CopyTo(line[1..]);
            }
            else
            {
                line[0] = 2; // Up: each byte minus the byte above
                SubtractBytes(row, samples.Slice((y - 1) * rowBytes, rowBytes), line[1..]);
            }
        }
        byte[] zlib;
        int zlibLength;
        bool rented = level == CompressionLevel.Fastest; // RleDeflate's output is pooled
        if (rented) zlibLength = RleDeflate.Compress(filtered, out zlib);
        else zlibLength = (zlib = ZLib(filtered, level)).Length;
        System.Buffers.ArrayPool<byte>.Shared.Return(pooled);
        WriteChunk(stream, "IDAT"u8, zlib.AsSpan(0, zlibLength));
        if (rented) System.Buffers.ArrayPool<byte>.Shared.Return(zlib);
        WriteChunk(stream, "IEND"u8, []);
    }

    private static byte[] ZLib(ReadOnlySpan<byte> data, CompressionLevel level)
    {
        var ms = new MemoryStream(data.Length / 2 + 64);
        using (var z = new ZLibStream(ms, level, leaveOpen: true)) z.Write(data);
        return ms.ToArray();
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
        var crc = new System.IO.Hashing.Crc32();
        crc.Append(type);
        crc.Append(data);
        Span<byte> tail = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(tail, crc.GetCurrentHashAsUInt32());
        s.Write(tail);
    }
}
