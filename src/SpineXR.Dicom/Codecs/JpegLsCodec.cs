using System.Runtime.InteropServices;

namespace SpineXR.Dicom.Codecs;

/// <summary>
/// JPEG-LS lossless (1.2.840.10008.1.2.4.80) and near-lossless (.81) decoding through CharLS 2.4 (libcharls2).
/// The frame header is checked against the dataset before the buffer is allocated; samples of up to 8 bits come
/// back as bytes and wider ones as 16-bit words, widened or interleaved here as the dataset's layout needs.
/// </summary>
public sealed unsafe class JpegLsCodec : IPixelCodec
{
    public const string Lossless = "1.2.840.10008.1.2.4.80";
    public const string NearLossless = "1.2.840.10008.1.2.4.81";
    private const string Who = "JPEG-LS";

    public string Name => "JPEG-LS (CharLS)";

    public IReadOnlyList<string> TransferSyntaxes { get; } = [Lossless, NearLossless];

    public DecodedFrame Decode(ReadOnlySpan<byte> frame, PixelFormat format, string transferSyntax, DecodeOptions? options = null)
    {
        // CharLS is an external library: in a helper process with a deadline when the application asks for that.
        options ??= DecodeOptions.Default;
        if (options.UsesHost(highThroughput: false))
        {
            FrameChecks.Validate(format, Who);
            return options.Host!.Decode(frame, format, transferSyntax, Who, options.Timeout);
        }
        return DecodeInProcess(frame, format);
    }

    /// <summary>Decodes with CharLS in this process (what a <see cref="DecodeHost"/> runs).</summary>
    internal static DecodedFrame DecodeInProcess(ReadOnlySpan<byte> frame, PixelFormat format)
    {
        FrameChecks.Validate(format, Who);
        if (frame.Length < 4 || frame[0] != 0xFF || frame[1] != 0xD8)
            throw new DicomException($"{Who}: not a JPEG-LS stream (no SOI marker at the start)");
        CheckPresetParameters(frame);
        // CharLS 2.4.1 (Debian 12) loops forever when its bit reader runs off the end of a buffer that does not end
        // in a marker (fixed upstream in 2.4.3): a truncated stream gets an EOI appended, so it fails instead.
        byte[]? terminated = EndsWithMarker(frame) ? null : [.. frame, 0xFF, 0xD9];
        if (terminated is not null) frame = terminated;
        var f = CharLs.Functions;
        void* decoder = f.Create();
        if (decoder == null) throw new DicomException($"{Who}: CharLS could not create a decoder");
        try
        {
            fixed (byte* source = frame)
            {
                Check(f.SetSourceBuffer(decoder, source, (nuint)frame.Length), "source");
                Check(f.ReadHeader(decoder), "header");
                CharLs.FrameInfo info;
                Check(f.GetFrameInfo(decoder, &info), "frame info");
                FrameChecks.MatchGeometry(format, Who, info.Height, info.Width, info.ComponentCount);
                if (info.BitsPerSample is < 2 or > 16) throw new DicomException($"{Who}: sample precision {info.BitsPerSample} is outside 2..16");
                FrameChecks.MatchPrecision(format, Who, info.BitsPerSample);
                int interleave;
                Check(f.GetInterleaveMode(decoder, &interleave), "interleave mode");

                int codedBytes = info.BitsPerSample > 8 ? 2 : 1;
                long expected = (long)info.Width * info.Height * info.ComponentCount * codedBytes;
                nuint size;
                Check(f.GetDestinationSize(decoder, 0, &size), "destination size");
                if ((long)size != expected) throw new DicomException($"{Who}: CharLS wants {size} bytes for a {expected}-byte frame");

                bool direct = codedBytes == format.BytesPerSample && (info.ComponentCount == 1 || interleave != CharLs.InterleaveNone);
                var output = new byte[format.FrameBytes];
                byte[] decoded = direct ? output : new byte[expected];
                fixed (byte* destination = decoded) Check(f.DecodeToBuffer(decoder, destination, size, 0), "data");
                if (!direct) Rearrange(decoded, codedBytes, interleave == CharLs.InterleaveNone, output, format);
                return new DecodedFrame(output, format.Photometric);
            }
        }
        finally
        {
            f.Destroy(decoder);
        }
    }

    /// <summary>From CharLS's layout (planar when not interleaved; 1 or 2 bytes a sample) to interleaved native samples.</summary>
    private static void Rearrange(byte[] decoded, int codedBytes, bool planar, byte[] output, PixelFormat format)
    {
        int n = format.SamplesPerPixel, pixels = format.Rows * format.Columns;
        var samples = new int[pixels];
        for (int c = 0; c < n; c++)
        {
            for (int i = 0; i < pixels; i++)
            {
                int at = planar ? c * pixels + i : i * n + c;
                samples[i] = codedBytes == 1 ? decoded[at] : MemoryMarshal.Cast<byte, ushort>(decoded.AsSpan())[at];
            }
            SampleCopy.FromInt32(samples, output, format.BytesPerSample, c, n);
        }
    }

    private static bool EndsWithMarker(ReadOnlySpan<byte> frame)
    {
        int end = frame.Length;
        while (end > 0 && frame[end - 1] == 0) end--; // fragments are padded to even length
        return end >= 2 && frame[end - 2] == 0xFF && frame[end - 1] == 0xD9;
    }

    /// <summary>
    /// Refuses LSE preset coding parameters whose RESET lets CharLS's context counters overflow 32 bits (which
    /// makes CharLS 2.4.1 loop forever); encoders use the default RESET of 64.
    /// </summary>
    private static void CheckPresetParameters(ReadOnlySpan<byte> frame)
    {
        int p = 2;
        while (p + 4 <= frame.Length && frame[p] == 0xFF)
        {
            int marker = frame[p + 1];
            if (marker == 0xFF) { p++; continue; }
            int length = (frame[p + 2] << 8) | frame[p + 3];
            if (marker == 0xDA || length < 2) return;
            if (marker == 0xF8 && length >= 13 && p + 2 + length <= frame.Length && frame[p + 4] == 1)
            {
                int maxVal = (frame[p + 5] << 8) | frame[p + 6];
                int reset = (frame[p + 13] << 8) | frame[p + 14];
                if ((long)reset * (Math.Max(maxVal, 255) + 1) >= 1L << 30)
                    throw new DicomException($"{Who}: preset parameter RESET={reset} with MAXVAL={maxVal} is beyond what the decoder handles safely");
            }
            p += 2 + length;
        }
    }

    private static void Check(int error, string stage)
    {
        if (error != 0) throw new DicomException($"{Who}: {stage}: {CharLs.Message(error)}");
    }
}
