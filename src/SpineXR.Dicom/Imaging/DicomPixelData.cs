using System.Buffers.Binary;
using SpineXR.Dicom.Codecs;

namespace SpineXR.Dicom.Imaging;

/// <summary>
/// The Pixel Data of a file with its Image Pixel module: validated format, frame count, and access to each frame
/// as raw bytes (native, or the concatenated fragments of an encapsulated frame) or as decoded native samples.
/// </summary>
public sealed class DicomPixelData
{
    /// <summary>Largest frame accepted, in samples (Rows x Columns x Samples per Pixel): 2^28, against absurd headers.</summary>
    public const long MaxSamplesPerFrame = 1L << 28;

    private readonly DicomElement _element;
    private readonly int[]? _fragmentStarts; // per frame: index of its first data fragment (encapsulated)
    private readonly int[]? _fragmentEnds;

    private DicomPixelData(DicomElement element, PixelFormat format, int frames, TransferSyntax ts, int[]? starts, int[]? ends, bool bitPacked = false)
    {
        Options = DecodeOptions.Default;
        IsBitPacked = bitPacked;
        _element = element;
        Format = format;
        FrameCount = frames;
        TransferSyntax = ts;
        _fragmentStarts = starts;
        _fragmentEnds = ends;
    }

    public PixelFormat Format { get; }

    /// <summary>How encapsulated frames are decoded (where the external libraries run, OpenJPEG's threads).</summary>
    public DecodeOptions Options { get; private set; }
    public int FrameCount { get; }
    public TransferSyntax TransferSyntax { get; }
    public bool IsEncapsulated => _element.IsEncapsulated;

    /// <summary>
    /// True for Bits Allocated 1 (segmentations, overlay-style masks): the stored bits are packed eight pixels to a
    /// byte, least significant bit first, frames following each other with no padding (PS3.5 8.1.1). Frames are
    /// returned unpacked, one byte (0 or 1) per pixel, so <see cref="Format"/> says 8 bits allocated, 1 stored.
    /// </summary>
    public bool IsBitPacked { get; }

    /// <summary>
    /// Reads and validates the Image Pixel module and Pixel Data of <paramref name="file"/>; its frames decode with
    /// <paramref name="options"/> (default <see cref="DecodeOptions.Default"/>).
    /// </summary>
    public static DicomPixelData Create(DicomFile file, DecodeOptions? options = null)
    {
        var pixels = Read(file);
        if (options != null) pixels.Options = options;
        return pixels;
    }

    private static DicomPixelData Read(DicomFile file)
    {
        var ds = file.Dataset;
        if (file.IsHeaderOnly) throw new DicomException("the file was read header-only; pixel data was not loaded");
        if (!ds.TryGetElement(DicomTags.PixelData, out var element))
            throw new DicomException(ds.Contains(DicomTags.FloatPixelData) || ds.Contains(DicomTags.DoubleFloatPixelData)
                ? "float pixel data is not supported" : "no Pixel Data (7FE0,0010)");
        var format = ReadFormat(ds);
        int frames = ds.GetIntOrDefault(DicomTags.NumberOfFrames, 1);
        if (frames < 1) frames = 1;
        var ts = file.TransferSyntax;

        if (ds.GetIntOrDefault(DicomTags.BitsAllocated, 0) == 1)
        {
            if (element.IsEncapsulated) throw new DicomException($"Bits Allocated 1 in {ts.Name} is not supported (only uncompressed)");
            long bits = (long)format.Rows * format.Columns * frames;
            long need = (bits + 7) / 8;
            if (element.Data.Length < need)
                throw new DicomException($"pixel data holds {element.Data.Length} bytes, {frames} frame(s) of {format.Rows}x{format.Columns} 1-bit pixels need {need}");
            return new DicomPixelData(element, format, frames, ts, null, null, bitPacked: true);
        }

        if (!element.IsEncapsulated)
        {
            long frameBytes = NativeFrameBytes(format);
            long have = element.Data.Length;
            if (have < frameBytes)
                throw new DicomException($"pixel data holds {have} bytes, one {format.Rows}x{format.Columns}x{format.SamplesPerPixel} frame of {format.BitsAllocated}-bit samples needs {frameBytes}");
            if (have < frameBytes * frames)
                throw new DicomException($"pixel data holds {have} bytes, {frames} frames need {frameBytes * frames}");
            return new DicomPixelData(element, format, frames, ts, null, null);
        }

        var fragments = element.Fragments!;
        int dataFragments = fragments.Count - 1;
        if (dataFragments < 1) throw new DicomException("encapsulated pixel data has no fragments");
        if (frames > dataFragments) throw new DicomException($"Number of Frames is {frames} but there are only {dataFragments} fragments");
        var (starts, ends) = MapFrames(ds, fragments, frames);
        return new DicomPixelData(element, format, frames, ts, starts, ends);
    }

    /// <summary>The Image Pixel module as a <see cref="PixelFormat"/>, validated.</summary>
    public static PixelFormat ReadFormat(DicomDataset ds)
    {
        int Req(DicomTag t, string name) => ds.TryGetInt(t, out int v) ? v : throw new DicomException($"missing or invalid {name} {t}");
        int rows = Req(DicomTags.Rows, "Rows"), cols = Req(DicomTags.Columns, "Columns");
        int bitsAllocated = Req(DicomTags.BitsAllocated, "Bits Allocated");
        int bitsStored = ds.GetIntOrDefault(DicomTags.BitsStored, bitsAllocated);
        int samples = ds.GetIntOrDefault(DicomTags.SamplesPerPixel, 1);
        if (bitsAllocated == 1)
        {
            // Bit-packed frames are handed out unpacked, one byte per pixel (see IsBitPacked).
            if (samples != 1 || bitsStored != 1) throw new DicomException($"Bits Allocated 1 needs 1 sample per pixel and Bits Stored 1, not {samples} and {bitsStored}");
            bitsAllocated = 8;
        }
        int rep = ds.GetIntOrDefault(DicomTags.PixelRepresentation, 0);
        int planar = ds.GetIntOrDefault(DicomTags.PlanarConfiguration, 0);
        string photometric = ds.GetStringOrDefault(DicomTags.PhotometricInterpretation, samples == 1 ? "MONOCHROME2" : "RGB").ToUpperInvariant();
        if (rows is < 1 or > 65535 || cols is < 1 or > 65535) throw new DicomException($"invalid image size {rows}x{cols}");
        if (bitsAllocated is not (8 or 16 or 32)) throw new DicomException($"Bits Allocated {bitsAllocated} is not supported (8, 16 or 32)");
        if (bitsStored < 1 || bitsStored > bitsAllocated) throw new DicomException($"Bits Stored {bitsStored} does not fit Bits Allocated {bitsAllocated}");
        if (samples is not (1 or 3)) throw new DicomException($"Samples per Pixel {samples} is not supported (1 or 3)");
        if (rep is not (0 or 1)) throw new DicomException($"invalid Pixel Representation {rep}");
        if ((long)rows * cols * samples > MaxSamplesPerFrame)
            throw new DicomException($"image of {rows}x{cols}x{samples} samples exceeds the limit of {MaxSamplesPerFrame}");
        return new PixelFormat(rows, cols, samples, bitsAllocated, bitsStored, rep, photometric, planar is 1 ? 1 : 0);
    }

    /// <summary>
    /// Raw bytes of frame <paramref name="index"/>: native samples (little endian; big-endian sources are swapped
    /// into a copy), or the concatenated code stream of an encapsulated frame.
    /// </summary>
    public ReadOnlyMemory<byte> GetRawFrame(int index)
    {
        if (index < 0 || index >= FrameCount) throw new ArgumentOutOfRangeException(nameof(index), $"frame {index} of {FrameCount}");
        if (IsBitPacked) return Unpack(index);
        if (!IsEncapsulated)
        {
            long frameBytes = NativeFrameBytes(Format);
            var slice = _element.Data.Slice((int)(frameBytes * index), (int)frameBytes);
            if (!_element.BigEndian || Format.BytesPerSample == 1) return slice;
            var copy = slice.ToArray();
            if (Format.BytesPerSample == 2) BinaryPrimitives.ReverseEndianness(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(copy), System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(copy.AsSpan()));
            else BinaryPrimitives.ReverseEndianness(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, uint>(copy), System.Runtime.InteropServices.MemoryMarshal.Cast<byte, uint>(copy.AsSpan()));
            return copy;
        }
        var fragments = _element.Fragments!;
        int first = _fragmentStarts![index], last = _fragmentEnds![index];
        if (first == last) return fragments[first];
        long total = 0;
        for (int i = first; i <= last; i++) total += fragments[i].Length;
        if (total > int.MaxValue) throw new DicomException($"frame {index} is larger than 2 GiB");
        var joined = new byte[total];
        int at = 0;
        for (int i = first; i <= last; i++)
        {
            fragments[i].Span.CopyTo(joined.AsSpan(at));
            at += fragments[i].Length;
        }
        return joined;
    }

    /// <summary>
    /// Frame <paramref name="index"/> as native little-endian samples (colour interleaved), decoding it with the
    /// registered codec when encapsulated. The photometric interpretation is that of the returned samples.
    /// </summary>
    public DecodedFrame DecodeFrame(int index)
    {
        var raw = GetRawFrame(index);
        if (!IsEncapsulated)
        {
            byte[] data = MemoryMarshalIsWholeArray(raw) ?? raw.ToArray();
            return new DecodedFrame(data, Format.Photometric);
        }
        return DecodeEncapsulated(raw, index);
    }

    /// <summary>
    /// Frame <paramref name="index"/> at up to <paramref name="maxReduction"/> resolution levels below full size where
    /// its encoding allows it: classic JPEG 2000 halves both sides per level without decoding the finer levels'
    /// code blocks (<see cref="Jpeg2000Codec.DecodeReduced"/>). Other encodings, HTJ2K, and levels the stream does not
    /// have give as much reduction as they can (0 = full size, what <see cref="DecodeFrame"/> returns). Returns the
    /// samples, their format (the reduced Rows and Columns) and the reduction applied.
    /// </summary>
    public (DecodedFrame Frame, PixelFormat Format, int Reduction) DecodeFrame(int index, int maxReduction)
    {
        int r = PlannedReduction(index, maxReduction);
        if (r > 0 && CodecRegistry.Find(TransferSyntax.Uid) is Jpeg2000Codec j2k)
        {
            try
            {
                var (frame, format) = j2k.DecodeReduced(GetRawFrame(index).Span, Format, TransferSyntax.Uid, r, Options);
                return (frame, format, r);
            }
            catch (DicomException)
            {
                // A stream OpenJPEG will not reduce: the full decode below decides (and names a corrupt stream)
            }
        }
        return (DecodeFrame(index), Format, 0);
    }

    /// <summary>
    /// The reduction <see cref="DecodeFrame(int, int)"/> will try for frame <paramref name="index"/>, from the headers
    /// alone: up to <paramref name="maxReduction"/> levels of a classic JPEG 2000 stream, 0 for anything else. Lets a
    /// caller size its memory before decoding (a corrupt stream may still fall back to a full decode).
    /// </summary>
    public int PlannedReduction(int index, int maxReduction)
    {
        if (maxReduction <= 0 || !IsEncapsulated || CodecRegistry.Find(TransferSyntax.Uid) is not Jpeg2000Codec) return 0;
        var raw = GetRawFrame(index).Span;
        if (Jpeg2000Codec.IsHighThroughput(raw, TransferSyntax.Uid)) return 0;
        return Math.Min(maxReduction, Jpeg2000Codec.DecompositionLevels(raw));
    }

    private DecodedFrame DecodeEncapsulated(ReadOnlyMemory<byte> raw, int index)
    {
        var codec = CodecRegistry.Find(TransferSyntax.Uid)
            ?? throw new DicomException($"no codec for transfer syntax {TransferSyntax.Uid} ({TransferSyntax.Name})");
        DecodedFrame decoded;
        try { decoded = codec.Decode(raw.Span, Format, TransferSyntax.Uid, Options); }
        catch (DicomException) { throw; }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new DicomException($"{codec.Name} failed on frame {index}: {e.Message}", e);
        }
        if (decoded.Data.Length < Format.FrameBytes)
            throw new DicomException($"{codec.Name} returned {decoded.Data.Length} bytes for frame {index}, expected {Format.FrameBytes}");
        return decoded;
    }

    /// <summary>
    /// Frame <paramref name="index"/> of bit-packed data as one byte (0 or 1) per pixel. Pixel k of the data is bit
    /// k % 8 of byte k / 8; a frame starts at bit index x Rows x Columns, so it need not start on a byte. OW data read
    /// big endian was stored as 16-bit words: its bytes are taken back in little-endian order first.
    /// </summary>
    private byte[] Unpack(int index)
    {
        var data = _element.Data.Span;
        long n = (long)Format.Rows * Format.Columns;
        long first = n * index;
        bool swapWords = _element.BigEndian && _element.VR == DicomVR.OW;
        var result = new byte[n];
        for (long k = 0; k < n; k++)
        {
            long bit = first + k;
            long at = bit >> 3;
            if (swapWords) at ^= 1;
            if (at < data.Length) result[k] = (byte)((data[(int)at] >> (int)(bit & 7)) & 1);
        }
        return result;
    }

    /// <summary>Bytes of one native frame: YBR_FULL_422 shares chroma between two pixels (PS3.3 C.7.6.3.1.2).</summary>
    public static long NativeFrameBytes(PixelFormat f) =>
        f.Photometric == "YBR_FULL_422" && f.SamplesPerPixel == 3 ? (long)f.Rows * f.Columns * 2 * f.BytesPerSample : f.FrameBytes;

    private static byte[]? MemoryMarshalIsWholeArray(ReadOnlyMemory<byte> m) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(m, out var seg) && seg.Offset == 0 && seg.Count == seg.Array!.Length ? seg.Array : null;

    /// <summary>Assigns data fragments to frames: Extended Offset Table, Basic Offset Table, or markers when both are empty.</summary>
    private static (int[] Starts, int[] Ends) MapFrames(DicomDataset ds, IReadOnlyList<ReadOnlyMemory<byte>> fragments, int frames)
    {
        int n = fragments.Count - 1;
        var starts = new int[frames];
        var ends = new int[frames];
        // Offset of each data fragment's item tag, relative to the first data fragment (PS3.5 A.4).
        var itemOffsets = new long[n + 1];
        for (int i = 0; i < n; i++) itemOffsets[i + 1] = itemOffsets[i] + 8 + fragments[i + 1].Length;

        ulong[]? offsets = null;
        if (ds.TryGetElement(DicomTags.ExtendedOffsetTable, out var eot) && eot.Data.Length >= 8 * frames && eot.Data.Length % 8 == 0)
        {
            var s = eot.Data.Span;
            offsets = new ulong[eot.Data.Length / 8];
            for (int i = 0; i < offsets.Length; i++) offsets[i] = BinaryPrimitives.ReadUInt64LittleEndian(s[(i * 8)..]);
        }
        else if (fragments[0].Length >= 4)
        {
            var s = fragments[0].Span;
            if (s.Length % 4 != 0) throw new DicomException($"Basic Offset Table length {s.Length} is not a multiple of 4");
            offsets = new ulong[s.Length / 4];
            for (int i = 0; i < offsets.Length; i++) offsets[i] = BinaryPrimitives.ReadUInt32LittleEndian(s[(i * 4)..]);
        }

        if (offsets != null)
        {
            if (offsets.Length < frames) throw new DicomException($"offset table has {offsets.Length} entries for {frames} frames");
            for (int f = 0; f < frames; f++)
            {
                int at = Array.BinarySearch(itemOffsets, 0, n, (long)Math.Min(offsets[f], long.MaxValue));
                if (at < 0) throw new DicomException($"offset table entry {f} ({offsets[f]}) does not point at a fragment");
                if (f > 0 && at + 1 <= starts[f - 1]) throw new DicomException("offset table entries are not increasing");
                starts[f] = at + 1;
            }
            for (int f = 0; f < frames; f++) ends[f] = f + 1 < frames ? starts[f + 1] - 1 : n;
            return (starts, ends);
        }

        if (frames == 1) return ([1], [n]);
        if (n == frames)
        {
            for (int f = 0; f < frames; f++) starts[f] = ends[f] = f + 1;
            return (starts, ends);
        }
        // No offset table and more fragments than frames: a frame starts where a code stream starts.
        var firsts = new List<int>();
        for (int i = 1; i <= n; i++)
            if (StartsCodeStream(fragments[i].Span)) firsts.Add(i);
        if (firsts.Count != frames || firsts[0] != 1)
            throw new DicomException($"cannot split {n} fragments into {frames} frames: no offset table and {firsts.Count} code stream starts");
        for (int f = 0; f < frames; f++)
        {
            starts[f] = firsts[f];
            ends[f] = f + 1 < frames ? firsts[f + 1] - 1 : n;
        }
        return (starts, ends);
    }

    private static bool StartsCodeStream(ReadOnlySpan<byte> s) =>
        s.Length >= 2 && s[0] == 0xFF && s[1] is 0xD8 or 0x4F // JPEG SOI, JPEG 2000 SOC
        || s.Length >= 8 && s[4] == 0x6A && s[5] == 0x50 && s[6] == 0x20 && s[7] == 0x20; // JP2 signature box
}
