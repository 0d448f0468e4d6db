using System.Buffers.Binary;
using SkiaSharp;
using SpineXR.Inference;

namespace SpineXR.Web.Uploads;

/// <summary>
/// PNG uploads (8- or 16-bit, grey or colour) through SkiaSharp. An 8-bit grey PNG is taken as already converted
/// (e.g. `spinexr dicom convert` output) and goes to the models as is; 16-bit grey is min-max scaled to 8 bits as
/// in the reference conversion and keeps its 16-bit values for windowing; colour is reduced to luma.
/// </summary>
public static class PngUpload
{
    private static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    public static bool LooksLikePng(ReadOnlySpan<byte> bytes) => bytes.StartsWith(Signature);

    public static DecodedUpload Decode(ReadOnlyMemory<byte> bytes, string fileName, UploadLimits limits)
    {
        var span = bytes.Span;
        if (!LooksLikePng(span)) throw new UnreadableUploadException("not a PNG file (no PNG signature)");
        // IHDR is always the first chunk: width, height, bit depth, colour type.
        if (span.Length < 33 || !span.Slice(12, 4).SequenceEqual("IHDR"u8))
            throw new UnreadableUploadException("PNG header chunk IHDR missing or truncated");
        uint w = BinaryPrimitives.ReadUInt32BigEndian(span[16..]), h = BinaryPrimitives.ReadUInt32BigEndian(span[20..]);
        int bitDepth = span[24], colorType = span[25];
        if (w == 0 || h == 0 || w > int.MaxValue || h > int.MaxValue)
            throw new UnreadableUploadException($"PNG size {w}x{h} is not a valid image size");
        limits.CheckPixels(w, h);
        int width = (int)w, height = (int)h, n = width * height;
        bool grey16 = bitDepth == 16 && colorType is 0 or 4;
        int viewMaxSide = limits.ViewMaxSide;
        // 16-bit grey: the values (2) and the 8-bit copy (1); otherwise Skia's RGBA bitmap (4) and the 8-bit copy.
        var reservation = limits.Reserve?.Invoke((long)n * (grey16 ? 3 : 5));
        try
        {
            return Decode(span, fileName, width, height, grey16, colorType, viewMaxSide) with { Reservation = reservation };
        }
        catch
        {
            reservation?.Dispose();
            throw;
        }
    }

    private static DecodedUpload Decode(ReadOnlySpan<byte> span, string fileName, int width, int height, bool grey16, int colorType, int viewMaxSide)
    {
        int n = width * height;

        var gray8 = new byte[n];
        string id = UploadIds.FromContent(span);
        if (grey16)
        {
            var values = Png16Reader.Read(span, width, height, colorType);
            ushort lo = ushort.MaxValue, hi = 0;
            foreach (ushort v in values)
            {
                if (v < lo) lo = v;
                if (v > hi) hi = v;
            }
            float k = hi > lo ? 255f / (hi - lo) : 0;
            for (int i = 0; i < n; i++) gray8[i] = (byte)MathF.Round((values[i] - lo) * k);
            return new DecodedUpload(new SpineImage(fileName, id, gray8, width, height),
                () => ImageView.Create<ushort>(values, gray8, width, height, viewMaxSide));
        }

        using var data = SKData.CreateCopy(span);
        using var codec = SKCodec.Create(data) ?? throw new UnreadableUploadException("PNG could not be opened (corrupt stream)");
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var bmp = new SKBitmap(info);
        var result = codec.GetPixels(info, bmp.GetPixels());
        if (result != SKCodecResult.Success)
            throw new UnreadableUploadException($"PNG decoding failed: {result}");
        var px = bmp.GetPixelSpan();
        for (int i = 0, j = 0; i < n; i++, j += 4)
        {
            byte r = px[j], g = px[j + 1], b = px[j + 2];
            gray8[i] = r == g && g == b ? r : (byte)((r * 299 + g * 587 + b * 114 + 500) / 1000);
        }
        return new DecodedUpload(new SpineImage(fileName, id, gray8, width, height),
            () => ImageView.Create<byte>(gray8, gray8, width, height, viewMaxSide, windowCenter: 127.5, windowWidth: 256));
    }
}
