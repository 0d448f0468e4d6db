using System.Buffers.Binary;
using System.IO.Compression;

namespace SpineXR.Imaging;

/// <summary>
/// 16-bit greyscale PNG (colour types 0 and 4, not interlaced) to its exact sample values. SkiaSharp decodes
/// such files to 8 bits or to half floats, both lossy for 12..16-bit radiographs, so this small reader
/// (PNG spec: chunks, zlib IDAT, the five row filters) keeps every bit.
/// </summary>
public static class Png16Reader
{
    public static ushort[] Read(ReadOnlySpan<byte> png, int width, int height, int colorType)
    {
        int bpp = colorType == 4 ? 4 : 2; // bytes per pixel: grey16 (+ alpha16)
        if (png[28] != 0) throw new InvalidDataException("interlaced 16-bit PNG is not supported; save it without interlacing");
        var idat = new MemoryStream();
        int pos = 8;
        while (pos + 12 <= png.Length)
        {
            uint len = BinaryPrimitives.ReadUInt32BigEndian(png[pos..]);
            if (len > (uint)(png.Length - pos - 12)) throw new InvalidDataException($"PNG chunk at byte {pos} runs past the end of the file");
            var type = png.Slice(pos + 4, 4);
            if (type.SequenceEqual("IDAT"u8)) idat.Write(png.Slice(pos + 8, (int)len));
            else if (type.SequenceEqual("IEND"u8)) break;
            pos += 12 + (int)len;
        }
        if (idat.Length == 0) throw new InvalidDataException("PNG has no image data (IDAT)");

        long stride = (long)width * bpp;
        var rows = new byte[(stride + 1) * height];
        idat.Position = 0;
        using (var z = new ZLibStream(idat, CompressionMode.Decompress))
        {
            try { z.ReadExactly(rows); }
            catch (EndOfStreamException) { throw new InvalidDataException("PNG image data is truncated"); }
            catch (InvalidDataException e) { throw new InvalidDataException("PNG image data is corrupt: " + e.Message); }
        }

        var values = new ushort[(long)width * height];
        var prev = new byte[stride];
        var cur = new byte[stride];
        for (int y = 0; y < height; y++)
        {
            var src = rows.AsSpan((int)((stride + 1) * y), (int)stride + 1);
            byte filter = src[0];
            src[1..].CopyTo(cur);
            Unfilter(filter, cur, prev, bpp, y);
            var row = values.AsSpan(y * width, width);
            for (int x = 0; x < width; x++) row[x] = BinaryPrimitives.ReadUInt16BigEndian(cur.AsSpan(x * bpp));
            (prev, cur) = (cur, prev);
        }
        return values;
    }

    private static void Unfilter(byte filter, Span<byte> cur, ReadOnlySpan<byte> prev, int bpp, int y)
    {
        switch (filter)
        {
            case 0: break;
            case 1: for (int i = bpp; i < cur.Length; i++) cur[i] += cur[i - bpp]; break;
            case 2: for (int i = 0; i < cur.Length; i++) cur[i] += prev[i]; break;
            case 3:
                for (int i = 0; i < cur.Length; i++) cur[i] += (byte)(((i >= bpp ? cur[i - bpp] : 0) + prev[i]) >> 1);
                break;
            case 4:
                for (int i = 0; i < cur.Length; i++)
                {
                    int a = i >= bpp ? cur[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
                    int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
                    cur[i] += (byte)(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
                }
                break;
            default: throw new InvalidDataException($"PNG row {y} has unknown filter type {filter}");
        }
    }
}
