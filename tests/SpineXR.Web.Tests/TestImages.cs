using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using SkiaSharp;

namespace SpineXR.Web.Tests;

/// <summary>Small images built in code: a minimal explicit-VR little-endian DICOM and grey PNGs (8 and 16 bit).</summary>
public static class TestImages
{
    public const string SopInstanceUid = "1.2.826.0.1.3680043.8.498.12345";

    /// <summary>A 12-bit MONOCHROME2 DX image: a bright "vertebra" block on a dark ramp, with a window in the header.</summary>
    public static ushort[] SpinePixels(int width, int height)
    {
        var px = new ushort[width * height];
        for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
        {
            int v = 200 + (x * 1500 / width);
            if (x > width / 3 && x < 2 * width / 3 && y > height / 4 && y < 3 * height / 4) v = 3000 + ((x ^ y) & 63);
            px[y * width + x] = (ushort)v;
        }
        return px;
    }

    /// <summary>Part 10 file, explicit VR little endian, uncompressed 16-bit allocated / 12 stored.</summary>
    public static byte[] Dicom(int width, int height, string sopInstanceUid = SopInstanceUid, ushort[]? pixels = null,
        string photometric = "MONOCHROME2")
    {
        pixels ??= SpinePixels(width, height);
        const string sopClass = "1.2.840.10008.5.1.4.1.1.1.1"; // Digital X-Ray Image Storage - For Presentation
        var meta = new MemoryStream();
        Element(meta, 0x0002, 0x0001, "OB", [0, 1]);
        Element(meta, 0x0002, 0x0002, "UI", Ui(sopClass));
        Element(meta, 0x0002, 0x0003, "UI", Ui(sopInstanceUid));
        Element(meta, 0x0002, 0x0010, "UI", Ui("1.2.840.10008.1.2.1"));

        var ms = new MemoryStream();
        ms.Write(new byte[128]);
        ms.Write("DICM"u8);
        Element(ms, 0x0002, 0x0000, "UL", U32((uint)meta.Length));
        meta.WriteTo(ms);
        Element(ms, 0x0008, 0x0016, "UI", Ui(sopClass));
        Element(ms, 0x0008, 0x0018, "UI", Ui(sopInstanceUid));
        Element(ms, 0x0008, 0x0060, "CS", Text("DX"));
        Element(ms, 0x0020, 0x000D, "UI", Ui("1.2.826.0.1.3680043.8.498.1"));
        Element(ms, 0x0020, 0x000E, "UI", Ui("1.2.826.0.1.3680043.8.498.2"));
        Element(ms, 0x0028, 0x0002, "US", U16(1));
        Element(ms, 0x0028, 0x0004, "CS", Text(photometric));
        Element(ms, 0x0028, 0x0010, "US", U16((ushort)height));
        Element(ms, 0x0028, 0x0011, "US", U16((ushort)width));
        Element(ms, 0x0028, 0x0100, "US", U16(16));
        Element(ms, 0x0028, 0x0101, "US", U16(12));
        Element(ms, 0x0028, 0x0102, "US", U16(11));
        Element(ms, 0x0028, 0x0103, "US", U16(0));
        Element(ms, 0x0028, 0x1050, "DS", Text("1600"));
        Element(ms, 0x0028, 0x1051, "DS", Text("3200"));
        var data = new byte[pixels.Length * 2];
        for (int i = 0; i < pixels.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(i * 2), pixels[i]);
        Element(ms, 0x7FE0, 0x0010, "OW", data);
        return ms.ToArray();
    }

    private static void Element(Stream s, ushort group, ushort element, string vr, byte[] value)
    {
        Span<byte> h = stackalloc byte[12];
        BinaryPrimitives.WriteUInt16LittleEndian(h, group);
        BinaryPrimitives.WriteUInt16LittleEndian(h[2..], element);
        h[4] = (byte)vr[0];
        h[5] = (byte)vr[1];
        if (vr is "OB" or "OW" or "UN" or "SQ" or "UT")
        {
            h[6] = h[7] = 0;
            BinaryPrimitives.WriteUInt32LittleEndian(h[8..], (uint)value.Length);
            s.Write(h);
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(h[6..], (ushort)value.Length);
            s.Write(h[..8]);
        }
        s.Write(value);
    }

    private static byte[] Ui(string uid) => Pad(Encoding.ASCII.GetBytes(uid), 0);
    private static byte[] Text(string t) => Pad(Encoding.ASCII.GetBytes(t), (byte)' ');
    private static byte[] Pad(byte[] b, byte pad) => b.Length % 2 == 0 ? b : [.. b, pad];
    private static byte[] U16(ushort v) { var b = new byte[2]; BinaryPrimitives.WriteUInt16LittleEndian(b, v); return b; }
    private static byte[] U32(uint v) { var b = new byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, v); return b; }

    /// <summary>8-bit grey PNG through SkiaSharp.</summary>
    public static byte[] Png8(int width, int height, Func<int, int, byte> pixel)
    {
        using var bmp = new SKBitmap(new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque));
        var span = bmp.GetPixelSpan();
        for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++) span[y * width + x] = pixel(x, y);
        using var data = bmp.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>16-bit grey PNG (colour type 0), written by hand: Skia does not encode grey16.</summary>
    public static byte[] Png16(int width, int height, Func<int, int, ushort> pixel)
    {
        var raw = new MemoryStream();
        using (var z = new ZLibStream(raw, CompressionLevel.Fastest, leaveOpen: true))
        {
            var row = new byte[1 + width * 2];
            for (int y = 0; y < height; y++)
            {
                row[0] = 0; // filter: none
                for (int x = 0; x < width; x++) BinaryPrimitives.WriteUInt16BigEndian(row.AsSpan(1 + x * 2), pixel(x, y));
                z.Write(row);
            }
        }
        var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, (uint)width);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), (uint)height);
        ihdr[8] = 16; // bit depth
        ihdr[9] = 0;  // grey
        Chunk(png, "IHDR", ihdr);
        Chunk(png, "IDAT", raw.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream s, string type, byte[] data)
    {
        Span<byte> len = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(len, (uint)data.Length);
        s.Write(len);
        var td = new byte[4 + data.Length];
        Encoding.ASCII.GetBytes(type, td);
        data.CopyTo(td, 4);
        s.Write(td);
        BinaryPrimitives.WriteUInt32BigEndian(len, Crc32(td));
        s.Write(len);
    }

    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint c = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            c ^= b;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
        }
        return ~c;
    }
}
