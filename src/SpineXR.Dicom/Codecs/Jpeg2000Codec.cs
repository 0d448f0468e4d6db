using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace SpineXR.Dicom.Codecs;

/// <summary>
/// JPEG 2000 (.90 lossless, .91) and HTJ2K (.201, .202, .203) decoding through OpenJPEG 2.5 (libopenjp2-7).
/// Accepts a raw J2K codestream or a JP2 file; checks the header against the dataset before anything is decoded;
/// returns the samples as coded (a codestream that declares 16-bit precision while Bits Stored is 12 comes back
/// as is, the reader masks). OpenJPEG undoes the reversible/irreversible colour transform when the codestream
/// says so, so YBR_RCT and YBR_ICT decode to RGB.
/// </summary>
public sealed unsafe class Jpeg2000Codec : IPixelCodec
{
    public const string Lossless = "1.2.840.10008.1.2.4.90";
    public const string Lossy = "1.2.840.10008.1.2.4.91";
    public const string HtLossless = "1.2.840.10008.1.2.4.201";
    public const string HtLosslessRpcl = "1.2.840.10008.1.2.4.202";
    public const string HtLossy = "1.2.840.10008.1.2.4.203";

    private const string Who = "JPEG 2000";

    public string Name => "JPEG 2000 / HTJ2K (OpenJPEG)";

    public IReadOnlyList<string> TransferSyntaxes { get; } = [Lossless, Lossy, HtLossless, HtLosslessRpcl, HtLossy];

    public DecodedFrame Decode(ReadOnlySpan<byte> frame, PixelFormat format, string transferSyntax, DecodeOptions? options = null)
    {
        int kind = Check(frame, format);
        options ??= DecodeOptions.Default;
        // OpenJPEG 2.5.0's HT block decoder can abort() on corrupt data: decode HT streams in a helper process when
        // the application has one (see DecodeHost), judged by the code stream's CAP marker as well as the syntax.
        if (options.UsesHost(IsHtSyntax(transferSyntax) || DeclaresHighThroughput(frame)))
            return options.Host!.Decode(frame, format, transferSyntax, Who, options.Timeout);
        return DecodeChecked(frame, format, kind, options.Jpeg2000Threads);
    }

    /// <summary>
    /// Decodes only up to resolution level <paramref name="reduction"/> from the top (OpenJPEG's cp_reduce): the
    /// image the inverse wavelet transform gives before its last <paramref name="reduction"/> levels, i.e. the
    /// low-pass band, ceil(Columns / 2^r) x ceil(Rows / 2^r), without decoding the code blocks of the finer
    /// levels. Returns the frame and its format. Only for classic (Part 1) streams decoded in this process: HT
    /// streams, and a reduction the stream does not have (see <see cref="DecompositionLevels"/>), are refused.
    /// </summary>
    public (DecodedFrame Frame, PixelFormat Format) DecodeReduced(ReadOnlySpan<byte> frame, PixelFormat format, string transferSyntax, int reduction,
        DecodeOptions? options = null)
    {
        options ??= DecodeOptions.Default;
        int kind = Check(frame, format);
        if (IsHtSyntax(transferSyntax) || DeclaresHighThroughput(frame))
            throw new DicomException($"{Who}: reduced-resolution decoding is not offered for HTJ2K streams");
        int levels = DecompositionLevels(frame);
        if (reduction < 0 || reduction > levels)
            throw new DicomException($"{Who}: cannot decode at reduction {reduction}; the stream has {levels} decomposition levels");
        var decoded = options.UsesHost(highThroughput: false)
            ? options.Host!.Decode(frame, format, transferSyntax, Who, options.Timeout, reduction)
            : DecodeChecked(frame, format, kind, options.Jpeg2000Threads, reduction);
        return (decoded, Reduced(format, reduction));
    }

    /// <summary>The format of a frame decoded at <paramref name="reduction"/> levels below full resolution.</summary>
    public static PixelFormat Reduced(PixelFormat format, int reduction) => reduction == 0 ? format : format with
    {
        Rows = (int)(((long)format.Rows + (1L << reduction) - 1) >> reduction),
        Columns = (int)(((long)format.Columns + (1L << reduction) - 1) >> reduction),
    };

    /// <summary>
    /// Wavelet decomposition levels of the stream's main COD segment (ISO/IEC 15444-1 A.6.1, SPcod's first byte),
    /// i.e. how many times it can be halved by <see cref="DecodeReduced"/>; 0 when there is no readable COD.
    /// A COC that gives a component fewer levels makes OpenJPEG refuse a deeper reduction (a DicomException).
    /// </summary>
    public static int DecompositionLevels(ReadOnlySpan<byte> frame)
    {
        int pos = MainHeaderSegment(frame, 0x52, minLength: 12);
        return pos >= 0 ? Math.Min(frame[pos + 9], (byte)32) : 0;
    }

    /// <summary>
    /// Offset of the first <paramref name="marker"/> segment (0xFF, marker, Lseg, ...) of the main header, from SIZ up
    /// to the first SOT, whose length field is at least <paramref name="minLength"/> and whose first
    /// <paramref name="minLength"/> bytes are in the frame; -1 when there is none or the header is malformed before it.
    /// </summary>
    private static int MainHeaderSegment(ReadOnlySpan<byte> frame, byte marker, int minLength)
    {
        ReadOnlySpan<byte> socSiz = [0xFF, 0x4F, 0xFF, 0x51];
        int at = frame.IndexOf(socSiz);
        if (at < 0) return -1;
        int pos = at + 2;
        while (pos + 4 <= frame.Length && frame[pos] == 0xFF)
        {
            byte m = frame[pos + 1];
            if (m == 0x90) return -1; // SOT: the end of the main header
            int length = BinaryPrimitives.ReadUInt16BigEndian(frame[(pos + 2)..]);
            if (m == marker && length >= minLength && pos + 2 + minLength <= frame.Length) return pos;
            if (length < 2) return -1;
            pos += 2 + length;
        }
        return -1;
    }

    /// <summary>Decodes with OpenJPEG in this process (what a <see cref="DecodeHost"/> runs).</summary>
    internal static DecodedFrame DecodeInProcess(ReadOnlySpan<byte> frame, PixelFormat format, int threads, int reduction = 0) =>
        DecodeChecked(frame, format, Check(frame, format), threads, reduction);

    /// <summary>Everything checked before OpenJPEG sees the stream; returns OpenJPEG's codec kind for it.</summary>
    private static int Check(ReadOnlySpan<byte> frame, PixelFormat format)
    {
        FrameChecks.Validate(format, Who);
        int kind = DetectFormat(frame);
        CheckSiz(frame, format);
        return kind;
    }

    private static bool IsHtSyntax(string transferSyntax) => transferSyntax is HtLossless or HtLosslessRpcl or HtLossy;

    /// <summary>True for an HTJ2K syntax or a stream whose CAP marker declares HT code blocks (never decoded reduced).</summary>
    public static bool IsHighThroughput(ReadOnlySpan<byte> frame, string transferSyntax) =>
        IsHtSyntax(transferSyntax) || DeclaresHighThroughput(frame);

    /// <summary>
    /// True when the main header (SIZ up to the first SOT) has a CAP marker whose Pcap sets the Part 15 bit
    /// (ISO/IEC 15444-1 A.5.2: bit 2^(32-15)), i.e. the code blocks are HT coded.
    /// </summary>
    internal static bool DeclaresHighThroughput(ReadOnlySpan<byte> frame)
    {
        int pos = MainHeaderSegment(frame, 0x50, minLength: 6);
        return pos >= 0 && (BinaryPrimitives.ReadUInt32BigEndian(frame[(pos + 4)..]) & (1u << 17)) != 0;
    }

    private static DecodedFrame DecodeChecked(ReadOnlySpan<byte> frame, PixelFormat format, int kind, int threads, int reduction = 0)
    {
        var f = OpenJpeg.Functions;
        var log = new OpenJpeg.MessageLog();
        GCHandle logHandle = GCHandle.Alloc(log);
        void* codec = null, stream = null;
        OpenJpeg.Image* image = null;
        byte* parameters = stackalloc byte[OpenJpeg.DecoderParametersSize + 64];
        new Span<byte>(parameters, OpenJpeg.DecoderParametersSize + 64).Clear();
        try
        {
            fixed (byte* data = frame)
            {
                var source = new OpenJpeg.MemorySource { Data = data, Length = frame.Length };
                codec = f.CreateDecompress(kind);
                if (codec == null) throw new DicomException($"{Who}: OpenJPEG could not create a decoder");
                OpenJpeg.AttachLog(f, codec, logHandle);
                f.SetDefaultDecoderParameters(parameters);
                *(uint*)parameters = (uint)reduction; // opj_dparameters_t.cp_reduce, its first field
                if (f.SetupDecoder(codec, parameters) == 0) throw Fail("decoder setup failed", log);
                if (threads > 1) f.CodecSetThreads(codec, threads);

                stream = f.StreamCreate((nuint)Math.Clamp(frame.Length, 4096, 1 << 20), 1);
                if (stream == null) throw new DicomException($"{Who}: OpenJPEG could not create a stream");
                f.StreamSetRead(stream, &OpenJpeg.ReadFromMemory);
                f.StreamSetSkip(stream, &OpenJpeg.SkipInMemory);
                f.StreamSetSeek(stream, &OpenJpeg.SeekInMemory);
                f.StreamSetUserData(stream, &source, null);
                f.StreamSetUserDataLength(stream, (ulong)frame.Length);

                if (f.ReadHeader(stream, codec, &image) == 0 || image == null) throw Fail("unreadable header", log);
                CheckHeader(image, Reduced(format, reduction)); // OpenJPEG reports the reduced size (SIZ was checked at full size)
                if (f.Decode(codec, stream, image) == 0) throw Fail("corrupt code stream", log);
                if (f.EndDecompress(codec, stream) == 0) throw Fail("corrupt code stream end", log);
            }
            byte[] output = CopyOut(image, Reduced(format, reduction));
            return new DecodedFrame(output, DecodedPhotometric(format));
        }
        finally
        {
            if (image != null) f.ImageDestroy(image);
            if (stream != null) f.StreamDestroy(stream);
            if (codec != null) f.DestroyCodec(codec);
            logHandle.Free();
        }
    }

    /// <summary>YBR_RCT / YBR_ICT decode to RGB (OpenJPEG applies the inverse component transform).</summary>
    internal static string DecodedPhotometric(PixelFormat format) =>
        format.SamplesPerPixel == 3 && format.Photometric is "YBR_RCT" or "YBR_ICT" ? "RGB" : format.Photometric;

    /// <summary>OpenJPEG codec kind for the stream: a JP2 file (signature box) or a bare codestream (SOC marker).</summary>
    internal static int DetectFormat(ReadOnlySpan<byte> frame)
    {
        ReadOnlySpan<byte> jp2Signature = [0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20, 0x0D, 0x0A, 0x87, 0x0A];
        if (frame.StartsWith(jp2Signature)) return OpenJpeg.CodecJP2;
        if (frame.Length >= 4 && frame[0] == 0xFF && frame[1] == 0x4F && frame[2] == 0xFF && frame[3] == 0x51) return OpenJpeg.CodecJ2K;
        if (frame.Length == 0) throw new DicomException($"{Who}: the frame is empty");
        throw new DicomException($"{Who}: not a JPEG 2000 stream (no SOC marker or JP2 signature at the start)");
    }

    /// <summary>
    /// Checks the codestream's SIZ segment against the dataset before OpenJPEG sees it: OpenJPEG allocates per-tile
    /// state while reading the header, so a corrupt size or tile grid must be refused first.
    /// </summary>
    internal static void CheckSiz(ReadOnlySpan<byte> frame, PixelFormat format)
    {
        ReadOnlySpan<byte> socSiz = [0xFF, 0x4F, 0xFF, 0x51];
        int at = frame.IndexOf(socSiz);
        if (at < 0) throw new DicomException($"{Who}: no SIZ segment after the SOC marker");
        var siz = frame[(at + 4)..];
        if (siz.Length < 38) throw new DicomException($"{Who}: the SIZ segment is truncated");
        int length = BinaryPrimitives.ReadUInt16BigEndian(siz);
        long xsiz = Read32(siz, 4), ysiz = Read32(siz, 8), xo = Read32(siz, 12), yo = Read32(siz, 16);
        long xt = Read32(siz, 20), yt = Read32(siz, 24), xto = Read32(siz, 28), yto = Read32(siz, 32);
        int components = BinaryPrimitives.ReadUInt16BigEndian(siz[36..]);
        if (xsiz <= xo || ysiz <= yo || xt == 0 || yt == 0 || xto > xo || yto > yo)
            throw new DicomException($"{Who}: the SIZ segment describes an empty or inconsistent image");
        FrameChecks.MatchGeometry(format, Who, ysiz - yo, xsiz - xo, components);
        if (length != 38 + 3 * components || siz.Length < length)
            throw new DicomException($"{Who}: the SIZ segment is truncated or has a wrong length");
        long tiles = ((xsiz - xto + xt - 1) / xt) * ((ysiz - yto + yt - 1) / yt);
        long pixels = (long)format.Rows * format.Columns;
        if (tiles > Math.Max(1024, pixels / 1024))
            throw new DicomException($"{Who}: {tiles} tiles for a {format.Columns}x{format.Rows} image is implausible");
        for (int i = 0; i < components; i++)
        {
            int ssiz = siz[38 + 3 * i], dx = siz[39 + 3 * i], dy = siz[40 + 3 * i];
            FrameChecks.MatchPrecision(format, Who, (ssiz & 0x7F) + 1);
            if (dx != 1 || dy != 1)
                throw new DicomException($"{Who}: component {i} is subsampled {dx}x{dy}, which DICOM does not allow here");
        }
    }

    private static long Read32(ReadOnlySpan<byte> s, int offset) => BinaryPrimitives.ReadUInt32BigEndian(s[offset..]);

    private static void CheckHeader(OpenJpeg.Image* image, PixelFormat format)
    {
        uint n = image->NumComps;
        if (n == 0 || image->Comps == null) throw new DicomException($"{Who}: the stream has no components");
        var c0 = image->Comps[0];
        FrameChecks.MatchGeometry(format, Who, c0.H, c0.W, n);
        for (int i = 0; i < n; i++)
        {
            var c = image->Comps[i];
            if (c.Dx != 1 || c.Dy != 1)
                throw new DicomException($"{Who}: component {i} is subsampled {c.Dx}x{c.Dy}, which DICOM does not allow here");
            if (c.W != c0.W || c.H != c0.H)
                throw new DicomException($"{Who}: components differ in size");
            FrameChecks.MatchPrecision(format, Who, (int)c.Prec);
        }
    }

    private static byte[] CopyOut(OpenJpeg.Image* image, PixelFormat format)
    {
        // A JP2 palette or channel definition can change the components during decoding: check them again.
        CheckHeader(image, format);
        int n = (int)image->NumComps;
        int pixels = format.Rows * format.Columns;
        for (int i = 0; i < n; i++)
        {
            if (image->Comps[i].Data == null) throw new DicomException($"{Who}: component {i} was not decoded");
        }
        var output = GC.AllocateUninitializedArray<byte>(checked((int)format.FrameBytes));
        for (int i = 0; i < n; i++)
        {
            var src = new ReadOnlySpan<int>(image->Comps[i].Data, pixels);
            SampleCopy.FromInt32(src, output, format.BytesPerSample, i, n);
        }
        return output;
    }

    private static DicomException Fail(string what, OpenJpeg.MessageLog log) => new($"{Who}: {what} ({log.Text})");
}
