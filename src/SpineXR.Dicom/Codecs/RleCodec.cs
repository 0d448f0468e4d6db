using System.Buffers.Binary;

namespace SpineXR.Dicom.Codecs;

/// <summary>
/// RLE Lossless (1.2.840.10008.1.2.5), DICOM PS3.5 Annex G: a 64-byte header of up to 15 segment offsets, then one
/// PackBits segment per byte plane (most significant byte of each sample first, sample after sample). Decodes
/// straight into interleaved little-endian samples.
/// </summary>
public sealed class RleCodec : IPixelCodec
{
    public const string RleLossless = "1.2.840.10008.1.2.5";
    private const string Who = "RLE";

    public string Name => "RLE Lossless";

    public IReadOnlyList<string> TransferSyntaxes { get; } = [RleLossless];

    public DecodedFrame Decode(ReadOnlySpan<byte> frame, PixelFormat format, string transferSyntax, DecodeOptions? options = null)
    {
        FrameChecks.Validate(format, Who);
        if (frame.Length < 64) throw new DicomException($"{Who}: the frame has {frame.Length} bytes, less than the 64-byte header");
        int bps = format.BytesPerSample, spp = format.SamplesPerPixel;
        int planes = bps * spp;
        uint segments = BinaryPrimitives.ReadUInt32LittleEndian(frame);
        if (segments != planes)
            throw new DicomException($"{Who}: the header lists {segments} segments, {planes} expected for {spp} samples of {format.BitsAllocated} bits");
        int pixels = format.Rows * format.Columns;
        var output = new byte[format.FrameBytes];
        for (int k = 0; k < planes; k++)
        {
            uint start = BinaryPrimitives.ReadUInt32LittleEndian(frame[(4 + 4 * k)..]);
            uint end = k + 1 < planes ? BinaryPrimitives.ReadUInt32LittleEndian(frame[(8 + 4 * k)..]) : (uint)frame.Length;
            if (start < 64 || end > frame.Length || start > end)
                throw new DicomException($"{Who}: segment {k + 1} lies at bytes {start}..{end}, outside the {frame.Length}-byte frame");
            int sample = k / bps, byteInSample = bps - 1 - k % bps; // segments go most significant byte first
            DecodeSegment(frame[(int)start..(int)end], output, sample * bps + byteInSample, spp * bps, pixels, k + 1);
        }
        return new DecodedFrame(output, format.Photometric);
    }

    /// <summary>PackBits into every <paramref name="stride"/>-th byte of <paramref name="dst"/> from <paramref name="first"/>, <paramref name="count"/> bytes.</summary>
    private static void DecodeSegment(ReadOnlySpan<byte> src, Span<byte> dst, int first, int stride, int count, int segment)
    {
        int i = 0, n = 0, o = first;
        while (n < count)
        {
            if (i >= src.Length)
                throw new DicomException($"{Who}: segment {segment} ends after {n} of {count} bytes");
            int header = (sbyte)src[i++];
            if (header >= 0)
            {
                int run = Math.Min(header + 1, count - n);
                if (i + run > src.Length)
                    throw new DicomException($"{Who}: segment {segment} has a literal run past its end");
                for (int r = 0; r < run; r++, o += stride) dst[o] = src[i + r];
                i += header + 1;
                n += run;
            }
            else if (header != -128)
            {
                if (i >= src.Length) throw new DicomException($"{Who}: segment {segment} has a repeat run past its end");
                byte value = src[i++];
                int run = Math.Min(1 - header, count - n);
                for (int r = 0; r < run; r++, o += stride) dst[o] = value;
                n += run;
            }
        }
    }
}
