using System.Buffers.Binary;
using System.IO.Compression;
using SpineXR.Imaging;

namespace SpineXR.Tests.Imaging;

public class PngWriterTests
{
    /// <summary>A minimal independent PNG reader: chunk CRCs, IHDR, zlib IDAT, filters None/Sub/Up/Average/Paeth.</summary>
    private static (int W, int H, int Depth, byte[] Samples) Decode(byte[] png) => Decode(png, out _);

    private static (int W, int H, int Depth, byte[] Samples) Decode(byte[] png, out int channels)
    {
        channels = 1;
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        int pos = 8, w = 0, h = 0, depth = 0;
        var idat = new MemoryStream();
        bool end = false;
        while (!end)
        {
            int len = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(pos));
            string type = System.Text.Encoding.ASCII.GetString(png, pos + 4, 4);
            var data = png.AsSpan(pos + 8, len);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(pos + 8 + len));
            Assert.Equal(Crc32(png.AsSpan(pos + 4, 4 + len)), crc);
            if (type == "IHDR") { w = BinaryPrimitives.ReadInt32BigEndian(data); h = BinaryPrimitives.ReadInt32BigEndian(data[4..]); depth = data[8]; Assert.Contains(data[9], new byte[] { 0, 2 }); channels = data[9] == 2 ? 3 : 1; }
            if (type == "IDAT") idat.Write(data);
            end = type == "IEND";
            pos += 12 + len;
        }
        idat.Position = 0;
        var raw = new MemoryStream();
        using (var z = new ZLibStream(idat, CompressionMode.Decompress)) z.CopyTo(raw);
        var r = raw.ToArray();
        int bpp = depth / 8 * channels, stride = w * bpp;
        var outp = new byte[stride * h];
        for (int y = 0; y < h; y++)
        {
            int f = r[y * (stride + 1)];
            for (int x = 0; x < stride; x++)
            {
                int v = r[y * (stride + 1) + 1 + x];
                int a = x >= bpp ? outp[y * stride + x - bpp] : 0, b = y > 0 ? outp[(y - 1) * stride + x] : 0;
                int c = x >= bpp && y > 0 ? outp[(y - 1) * stride + x - bpp] : 0;
                int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
                int pred = f switch { 0 => 0, 1 => a, 2 => b, 3 => (a + b) / 2, _ => pa <= pb && pa <= pc ? a : pb <= pc ? b : c };
                outp[y * stride + x] = (byte)(v + pred);
            }
        }
        return (w, h, depth, outp);
    }

    /// <summary>Bitwise CRC-32 (ISO-HDLC), written out so the test does not share the writer's table.</summary>
    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320 & (uint)-(int)(crc & 1));
        }
        return ~crc;
    }

    [Fact]
    public void Gray8_round_trips_through_an_independent_decoder()
    {
        var px = new byte[37 * 23];
        new Random(3).NextBytes(px);
        var ms = new MemoryStream();
        PngWriter.WriteGray8(ms, 37, 23, px);
        var (w, h, d, s) = Decode(ms.ToArray());
        Assert.Equal((37, 23, 8), (w, h, d));
        Assert.Equal(px, s);
    }

    [Fact]
    public void Gray16_is_big_endian_and_round_trips()
    {
        var px = new ushort[5 * 4];
        for (int i = 0; i < px.Length; i++) px[i] = (ushort)(i * 3001);
        var ms = new MemoryStream();
        PngWriter.WriteGray16(ms, 5, 4, px);
        var (w, h, d, s) = Decode(ms.ToArray());
        Assert.Equal((5, 4, 16), (w, h, d));
        for (int i = 0; i < px.Length; i++) Assert.Equal(px[i], BinaryPrimitives.ReadUInt16BigEndian(s.AsSpan(i * 2)));
    }

    [Fact]
    public void Rgb8_round_trips_through_an_independent_decoder_and_Skia()
    {
        var px = new byte[3 * 41 * 19];
        new Random(5).NextBytes(px);
        var ms = new MemoryStream();
        PngWriter.WriteRgb8(ms, 41, 19, px);
        var (w, h, d, s) = Decode(ms.ToArray(), out int channels);
        Assert.Equal((41, 19, 8, 3), (w, h, d, channels));
        Assert.Equal(px, s);
        using var bmp = SkiaSharp.SKBitmap.Decode(ms.ToArray());
        var c = bmp.GetPixel(40, 18);
        Assert.Equal((px[^3], px[^2], px[^1]), (c.Red, c.Green, c.Blue));
    }

    [Fact]
    public void Wrong_pixel_count_is_rejected()
    {
        Assert.Throws<ArgumentException>(() => PngWriter.WriteGray8(new MemoryStream(), 4, 4, new byte[15]));
        Assert.Throws<ArgumentException>(() => PngWriter.WriteRgb8(new MemoryStream(), 4, 4, new byte[47]));
    }
}
