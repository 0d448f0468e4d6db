using System.Buffers.Binary;
using System.Runtime.InteropServices;
using SpineXR.Dicom.Codecs;

namespace SpineXR.Dicom.Imaging;

/// <summary>
/// Decodes frames to grayscale stored values. Values are masked to Bits Stored and sign-extended (PS3.5 8.1.1);
/// pydicom 2.3 leaves the bits above Bits Stored in place, which only matters for files with garbage there.
/// Colour (RGB, YBR) is converted to luminance with a warning, for the grayscale pipeline.
/// </summary>
public static class PixelDecoder
{
    /// <summary>Decodes frame <paramref name="frame"/> (default the first) of a file read with pixel data.</summary>
    public static StoredFrame DecodeGray(DicomFile file, int frame = 0) => DecodeGray(DicomPixelData.Create(file), frame);

    /// <param name="maxReduction">
    /// Halvings of the resolution allowed where the encoding offers them without decoding the full image (classic
    /// JPEG 2000, see <see cref="DicomPixelData.DecodeFrame(int, int)"/>); the result's
    /// <see cref="StoredFrame.Reduction"/> says how many were applied. 0 (the default) decodes at full size.
    /// </param>
    public static StoredFrame DecodeGray(DicomPixelData pixels, int frame = 0, int maxReduction = 0)
    {
        if (frame < 0 || frame >= pixels.FrameCount)
            throw new DicomException($"frame {frame} requested, the file has {pixels.FrameCount}");
        if (!pixels.IsEncapsulated) // straight from the file buffer, no copy
            return ToStored(pixels.GetRawFrame(frame).Span, pixels.Format, pixels.Format.Photometric);
        var (decoded, format, reduction) = pixels.DecodeFrame(frame, maxReduction);
        var stored = ToStored(decoded.Data, format, decoded.Photometric, decodedByCodec: true);
        return reduction == 0 ? stored : stored with { Reduction = reduction };
    }

    /// <summary>Decodes every frame.</summary>
    public static IReadOnlyList<StoredFrame> DecodeAllGray(DicomFile file)
    {
        var pixels = DicomPixelData.Create(file);
        var result = new StoredFrame[pixels.FrameCount];
        for (int i = 0; i < result.Length; i++) result[i] = DecodeGray(pixels, i);
        return result;
    }

    /// <summary>
    /// Native little-endian samples (<paramref name="data"/>, colour interleaved or planar as <paramref name="format"/>
    /// says for native data; interleaved for decoded data) to grayscale stored values.
    /// </summary>
    public static StoredFrame ToStored(ReadOnlySpan<byte> data, PixelFormat format, string photometric, bool decodedByCodec = false)
    {
        int n = format.Rows * format.Columns;
        var warnings = new List<string>();
        if (format.SamplesPerPixel == 1)
        {
            var values = new int[n];
            ExtractSamples(data, format, values, stride: 1, offset: 0);
            string ph = photometric is "MONOCHROME1" or "MONOCHROME2" ? photometric : "MONOCHROME2";
            if (ph != photometric) warnings.Add($"photometric interpretation {photometric} with one sample read as MONOCHROME2");
            return new StoredFrame(format.Rows, format.Columns, values, format.BitsStored, format.PixelRepresentation == 1, ph, warnings);
        }

        // Colour: three sample planes, then luminance.
        var r = new int[n];
        var g = new int[n];
        var b = new int[n];
        bool planar = format.PlanarConfiguration == 1 && !decodedByCodec;
        if (photometric is "YBR_FULL_422" && !decodedByCodec)
        {
            ExtractYbr422Luma(data, format, r);
            warnings.Add("YBR_FULL_422 colour image converted to luminance (Y)");
            return new StoredFrame(format.Rows, format.Columns, r, format.BitsStored, false, "MONOCHROME2", warnings);
        }
        if (planar)
        {
            int plane = n * format.BytesPerSample;
            ExtractSamples(data[..plane], format, r, 1, 0);
            ExtractSamples(data.Slice(plane, plane), format, g, 1, 0);
            ExtractSamples(data.Slice(2 * plane, plane), format, b, 1, 0);
        }
        else
        {
            ExtractSamples(data, format, r, 3, 0);
            ExtractSamples(data, format, g, 3, 1);
            ExtractSamples(data, format, b, 3, 2);
        }
        if (photometric.StartsWith("YBR", StringComparison.Ordinal))
        {
            warnings.Add($"{photometric} colour image converted to luminance (Y)");
            return new StoredFrame(format.Rows, format.Columns, r, format.BitsStored, false, "MONOCHROME2", warnings);
        }
        // ITU-R BT.601 luma, as in the RGB -> YBR_FULL conversion of PS3.3 C.7.6.3.1.2.
        for (int i = 0; i < n; i++) r[i] = (int)Math.Round(0.299 * r[i] + 0.587 * g[i] + 0.114 * b[i]);
        warnings.Add($"{photometric} colour image converted to luminance (0.299 R + 0.587 G + 0.114 B)");
        return new StoredFrame(format.Rows, format.Columns, r, format.BitsStored, false, "MONOCHROME2", warnings);
    }

    /// <summary>Reads every <paramref name="stride"/>-th sample starting at <paramref name="offset"/>, masked and sign-extended.</summary>
    public static void ExtractSamples(ReadOnlySpan<byte> data, PixelFormat format, Span<int> dest, int stride, int offset)
    {
        int n = dest.Length;
        int bits = format.BitsStored;
        bool signed = format.PixelRepresentation == 1;
        int shift = 32 - bits;
        uint mask = bits >= 32 ? uint.MaxValue : (1u << bits) - 1;
        long need = ((long)(n - 1) * stride + offset + 1) * format.BytesPerSample;
        if (data.Length < need) throw new DicomException($"pixel data holds {data.Length} bytes, {need} needed");
        switch (format.BytesPerSample)
        {
            case 1:
                for (int i = 0, j = offset; i < n; i++, j += stride)
                {
                    uint v = data[j] & mask;
                    dest[i] = signed ? (int)(v << shift) >> shift : (int)v;
                }
                break;
            case 2:
            {
                var s = MemoryMarshal.Cast<byte, ushort>(data[..(data.Length & ~1)]);
                if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("big-endian hosts are not supported");
                if (stride == 1 && !signed)
                {
                    ushort m16 = (ushort)mask;
                    for (int i = 0; i < n; i++) dest[i] = s[i] & m16;
                }
                else if (stride == 1)
                {
                    for (int i = 0; i < n; i++) dest[i] = (int)((uint)s[i] << shift) >> shift;
                }
                else
                {
                    for (int i = 0, j = offset; i < n; i++, j += stride)
                    {
                        uint v = s[j] & mask;
                        dest[i] = signed ? (int)(v << shift) >> shift : (int)v;
                    }
                }
                break;
            }
            default:
            {
                for (int i = 0, j = offset; i < n; i++, j += stride)
                {
                    uint v = BinaryPrimitives.ReadUInt32LittleEndian(data[(j * 4)..]) & mask;
                    if (signed) dest[i] = shift == 0 ? (int)v : (int)(v << shift) >> shift;
                    else if (v > int.MaxValue) throw new DicomException($"unsigned 32-bit stored value {v} exceeds the supported range");
                    else dest[i] = (int)v;
                }
                break;
            }
        }
    }

    /// <summary>Native YBR_FULL_422: each pair of pixels is Y1 Y2 Cb Cr; keep the Ys.</summary>
    private static void ExtractYbr422Luma(ReadOnlySpan<byte> data, PixelFormat format, Span<int> dest)
    {
        if (format.BytesPerSample != 1) throw new DicomException("YBR_FULL_422 with more than 8 bits is not supported");
        int n = dest.Length;
        long need = (long)n * 2;
        if (data.Length < need) throw new DicomException($"YBR_FULL_422 pixel data holds {data.Length} bytes, {need} needed");
        uint mask = format.BitsStored >= 8 ? 0xFFu : (1u << format.BitsStored) - 1;
        for (int i = 0; i < n; i++)
        {
            int pair = i >> 1;
            dest[i] = (int)(data[pair * 4 + (i & 1)] & mask);
        }
    }
}
