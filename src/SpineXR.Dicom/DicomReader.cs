// DICOM Part 10 / PS3.5 parser over an in-memory buffer. Element values are slices of the buffer (no copies).
// Every length, count and nesting depth is checked against the bytes that exist; any violation is a
// DicomException with the offset and the tag, never an IndexOutOfRange or a hang (each step consumes >= 8 bytes).
using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace SpineXR.Dicom;

/// <summary>Reads DICOM files: Part 10 with or without preamble and meta header, in any uncompressed transfer syntax.</summary>
internal sealed class DicomReader
{
    private const uint Undefined = 0xFFFFFFFF;
    private const int HeaderChunk = 64 * 1024;

    private readonly ReadOnlyMemory<byte> _buf;
    private readonly DicomReadOptions _options;
    private readonly bool _partial;
    private bool _explicit;
    private bool _little;
    private bool _signed;
    private bool _stopped;
    private long _fileSize;   // size of the whole file (for the header-only pixel data check); 0 when unknown

    /// <summary>Raised (internally) when a header-only read needs more of the file than was loaded.</summary>
    private sealed class NeedMoreDataException : Exception;

    private DicomReader(ReadOnlyMemory<byte> buf, DicomReadOptions options, bool partial)
    {
        _buf = buf;
        _options = options;
        _partial = partial;
    }

    public static DicomFile ReadFile(string path, DicomReadOptions options)
    {
        options.Validate();
        try
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
            long size = fs.Length;
            if (size > int.MaxValue) throw new DicomException($"{path}: file is larger than 2 GiB ({size} bytes)");
            if (options.StopBeforePixelData)
            {
                // Header-only: read a prefix, grow it only when the header is longer.
                for (long chunk = HeaderChunk; ; chunk *= 4)
                {
                    int n = (int)Math.Min(size, chunk);
                    var prefix = new byte[n];
                    fs.Position = 0;
                    fs.ReadExactly(prefix);
                    try { return Read(prefix, options, path, partial: n < size, fileSize: size); }
                    catch (NeedMoreDataException) { }
                }
            }
            var all = new byte[size];
            fs.ReadExactly(all);
            return Read(all, options, path, partial: false, fileSize: size);
        }
        catch (IOException e) { throw new DicomException($"{path}: {e.Message}", e); }
        catch (UnauthorizedAccessException e) { throw new DicomException($"{path}: {e.Message}", e); }
    }

    internal static DicomFile Read(ReadOnlyMemory<byte> bytes, DicomReadOptions options, string? name, bool partial, long fileSize)
    {
        options.Validate();
        try
        {
            return new DicomReader(bytes, options, partial).ReadPart10(name, fileSize);
        }
        catch (NeedMoreDataException) when (partial) { throw; }
        catch (DicomException e) { throw name == null ? e : new DicomException($"{name}: {e.Message}", e); }
        catch (Exception e) when (e is ArgumentException or IndexOutOfRangeException or InvalidDataException or OverflowException or DecoderFallbackException)
        {
            // A bounds check we missed must still surface as a DicomException, never as a crash.
            throw new DicomException((name == null ? "" : name + ": ") + "malformed data: " + e.Message, e);
        }
    }

    private DicomFile ReadPart10(string? name, long fileSize)
    {
        var span = _buf.Span;
        if (span.Length == 0) throw new DicomException("empty file");
        int pos = 0;
        bool preamble = false;
        if (span.Length >= 132 && span.Slice(128, 4).SequenceEqual("DICM"u8))
        {
            preamble = true;
            pos = 132;
        }
        else if (span.Length >= 4 && span[..4].SequenceEqual("DICM"u8)) pos = 4; // prefix without preamble

        var meta = new DicomDataset();
        if (span.Length - pos >= 8 && BinaryPrimitives.ReadUInt16LittleEndian(span[pos..]) == 0x0002)
            pos = ReadMeta(pos, meta);
        else if (preamble && span.Length - pos < 8) throw new DicomException("file ends after the DICM prefix");

        TransferSyntax ts;
        string? tsUid = meta.GetString(DicomTags.TransferSyntaxUID);
        if (!string.IsNullOrEmpty(tsUid)) ts = TransferSyntax.FromUid(tsUid);
        else ts = Guess(pos);

        ReadOnlyMemory<byte> body = _buf;
        DicomReader reader = this;
        if (ts.Deflated)
        {
            if (_partial) throw new NeedMoreDataException();
            body = Inflate(_buf[pos..]);
            reader = new DicomReader(body, _options, false);
            pos = 0;
            fileSize = 0; // offsets in the inflated stream are not file offsets
        }
        reader._fileSize = fileSize;
        reader._explicit = ts.ExplicitVR;
        reader._little = ts.LittleEndian;
        reader.CheckFirstElementVR(pos);

        var ds = new DicomDataset();
        reader.ParseDataset(ds, pos, body.Length, depth: 0, untilItemDelimiter: false, out _);
        if (reader._partial && !reader._stopped) throw new NeedMoreDataException(); // the prefix ended between elements
        return new DicomFile(meta, ds, ts)
        {
            HasPreamble = preamble, IsHeaderOnly = reader._stopped, Path = name, SourceSize = fileSize,
        };
    }

    /// <summary>Reads group 0002 (explicit VR LE, or implicit in some broken writers) and returns the offset after it.</summary>
    private int ReadMeta(int pos, DicomDataset meta)
    {
        var span = _buf.Span;
        _little = true;
        int end = span.Length;
        while (pos + 8 <= span.Length && BinaryPrimitives.ReadUInt16LittleEndian(span[pos..]) == 0x0002)
        {
            _explicit = DicomVRInfo.TryParse(span[pos + 4], span[pos + 5], out _);
            int next = ReadElement(meta, pos, end, depth: 0);
            if (next < 0) break;
            pos = next;
        }
        return pos;
    }

    /// <summary>No transfer syntax known: guess it from the first tag, as pydicom does.</summary>
    private TransferSyntax Guess(int pos)
    {
        var span = _buf.Span;
        if (span.Length - pos < 8) throw new DicomException("not a DICOM file: too short");
        ushort gLe = BinaryPrimitives.ReadUInt16LittleEndian(span[pos..]);
        ushort gBe = BinaryPrimitives.ReadUInt16BigEndian(span[pos..]);
        bool vr = DicomVRInfo.TryParse(span[pos + 4], span[pos + 5], out _);
        if (gLe is >= 0x0002 and <= 0x00FF) return vr ? TransferSyntax.ExplicitVRLittleEndian : TransferSyntax.ImplicitVRLittleEndian;
        if (gBe is >= 0x0002 and <= 0x00FF && vr) return TransferSyntax.ExplicitVRBigEndian;
        if (gLe == 0x0000 && !vr && BinaryPrimitives.ReadUInt16LittleEndian(span[(pos + 2)..]) == 0) return TransferSyntax.ImplicitVRLittleEndian;
        throw new DicomException($"not a DICOM file: no DICM prefix and the first tag ({gLe:X4},{BinaryPrimitives.ReadUInt16LittleEndian(span[(pos + 2)..]):X4}) is not a dataset tag");
    }

    /// <summary>Files whose meta header names the wrong VR encoding: trust the bytes of the first element (pydicom does too).</summary>
    private void CheckFirstElementVR(int pos)
    {
        var span = _buf.Span;
        if (span.Length - pos < 8) return;
        bool vr = DicomVRInfo.TryParse(span[pos + 4], span[pos + 5], out _);
        ushort g = _little ? BinaryPrimitives.ReadUInt16LittleEndian(span[pos..]) : BinaryPrimitives.ReadUInt16BigEndian(span[pos..]);
        if (g == 0xFFFE) return;
        if (_explicit && !vr) _explicit = false;
        else if (!_explicit && vr && _little)
        {
            // Implicit length's low bytes spelling a VR is possible but rare; accept explicit only when the length also fits.
            uint implicitLen = BinaryPrimitives.ReadUInt32LittleEndian(span[(pos + 4)..]);
            if (implicitLen > span.Length - pos) _explicit = true;
        }
    }

    private ReadOnlyMemory<byte> Inflate(ReadOnlyMemory<byte> compressed)
    {
        try
        {
            using var src = new MemoryStream(compressed.ToArray(), writable: false);
            using var z = new DeflateStream(src, CompressionMode.Decompress);
            using var dst = new MemoryStream(Math.Max(1024, compressed.Length * 3));
            var chunk = new byte[1 << 16];
            int n;
            while ((n = z.Read(chunk, 0, chunk.Length)) > 0)
            {
                if (dst.Length + n > _options.MaxInflatedBytes)
                    throw new DicomException($"deflated dataset inflates beyond {_options.MaxInflatedBytes} bytes");
                dst.Write(chunk, 0, n);
            }
            return dst.GetBuffer().AsMemory(0, (int)dst.Length);
        }
        catch (InvalidDataException e) { throw new DicomException("corrupt deflated dataset: " + e.Message, e); }
    }

    // ---------------------------------------------------------------- elements

    private ushort U16(ReadOnlySpan<byte> s, int at) =>
        _little ? BinaryPrimitives.ReadUInt16LittleEndian(s[at..]) : BinaryPrimitives.ReadUInt16BigEndian(s[at..]);

    private uint U32(ReadOnlySpan<byte> s, int at) =>
        _little ? BinaryPrimitives.ReadUInt32LittleEndian(s[at..]) : BinaryPrimitives.ReadUInt32BigEndian(s[at..]);

    /// <summary>Checks that <paramref name="n"/> bytes exist at <paramref name="pos"/> before <paramref name="end"/>.</summary>
    private void Need(int pos, long n, int end, string what)
    {
        if (pos + n <= end) return;
        if (_partial && end == _buf.Length) throw new NeedMoreDataException();
        throw new DicomException(end == _buf.Length
            ? $"truncated: {what} at offset {pos} needs {n} bytes, {Math.Max(0, end - pos)} left in the file"
            : $"{what} at offset {pos} needs {n} bytes, runs past the end of its enclosing item ({end - pos} left)");
    }

    /// <summary>Parses elements into <paramref name="ds"/> until <paramref name="end"/> (or an Item Delimitation).</summary>
    private int ParseDataset(DicomDataset ds, int pos, int end, int depth, bool untilItemDelimiter, out bool delimited)
    {
        delimited = false;
        var span = _buf.Span;
        while (pos < end)
        {
            if (!untilItemDelimiter && depth == 0 && end - pos < 8 && AllZero(span.Slice(pos, end - pos)))
                return end; // trailing zero padding after the last element
            Need(pos, 8, end, "element header");
            ushort group = U16(span, pos), element = U16(span, pos + 2);
            if (group == 0xFFFE)
            {
                if (element == 0xE00D && untilItemDelimiter)
                {
                    delimited = true;
                    return pos + 8;
                }
                throw new DicomException($"unexpected {(element == 0xE0DD ? "sequence delimiter" : element == 0xE00D ? "item delimiter" : "item")} at offset {pos}");
            }
            if (depth == 0 && _options.StopBeforePixelData && group == 0x7FE0 && element is 0x0008 or 0x0009 or 0x0010)
            {
                CheckPixelDataFits(pos);
                _stopped = true;
                return end;
            }
            pos = ReadElement(ds, pos, end, depth);
        }
        if (untilItemDelimiter)
        {
            if (_partial && end == _buf.Length) throw new NeedMoreDataException();
            throw new DicomException($"truncated: item of undefined length has no delimiter before offset {end}");
        }
        return pos;
    }

    /// <summary>Header-only reads still catch a file cut inside its (defined-length) pixel data, from the file size.</summary>
    private void CheckPixelDataFits(int pos)
    {
        var span = _buf.Span;
        if (pos + 12 > span.Length) return;
        uint len;
        int header;
        if (_explicit && DicomVRInfo.TryParse(span[pos + 4], span[pos + 5], out var vr))
        {
            (len, header) = DicomVRInfo.HasLongLength(vr) ? (U32(span, pos + 8), 12) : (U16(span, pos + 6), 8);
        }
        else (len, header) = (U32(span, pos + 4), 8);
        long fileOffset = pos;
        if (len != Undefined && _fileSize > 0 && fileOffset + header + len > _fileSize)
            throw new DicomException($"truncated: Pixel Data at offset {fileOffset} needs {len} bytes, {Math.Max(0, _fileSize - fileOffset - header)} left in the file");
    }

    private static bool AllZero(ReadOnlySpan<byte> s) => s.IndexOfAnyExcept((byte)0) < 0;

    /// <summary>Reads one element at <paramref name="pos"/>, adds it to <paramref name="ds"/>, returns the offset after it.</summary>
    private int ReadElement(DicomDataset ds, int pos, int end, int depth)
    {
        var span = _buf.Span;
        Need(pos, 8, end, "element header");
        var tag = new DicomTag(U16(span, pos), U16(span, pos + 2));
        DicomVR vr;
        uint len;
        int header;
        if (_explicit)
        {
            if (!DicomVRInfo.TryParse(span[pos + 4], span[pos + 5], out vr))
                throw new DicomException($"invalid VR bytes 0x{span[pos + 4]:X2}{span[pos + 5]:X2} for {tag} at offset {pos}");
            if (DicomVRInfo.HasLongLength(vr))
            {
                Need(pos, 12, end, $"element {tag} header");
                len = U32(span, pos + 8);
                header = 12;
            }
            else
            {
                len = U16(span, pos + 6);
                header = 8;
            }
        }
        else
        {
            len = U32(span, pos + 4);
            header = 8;
            vr = DicomDictionary.LookupVR(tag, _signed);
        }
        int valuePos = pos + header;

        if (len == Undefined)
        {
            if (tag == DicomTags.PixelData && vr != DicomVR.SQ && (vr != DicomVR.UN || depth == 0))
                return ReadFragments(ds, tag, vr == DicomVR.UN ? DicomVR.OB : vr, valuePos, end);
            if (vr is DicomVR.SQ or DicomVR.UN || !_explicit)
            {
                // UN of undefined length holds an implicit VR little endian sequence (PS3.5 6.2.2).
                bool saveExplicit = _explicit, saveLittle = _little;
                if (vr == DicomVR.UN) { _explicit = false; _little = true; }
                try
                {
                    int after = ReadItems(ds, tag, valuePos, end, depth, undefinedLength: true);
                    return after;
                }
                finally { _explicit = saveExplicit; _little = saveLittle; }
            }
            throw new DicomException($"element {tag} ({DicomVRInfo.ToText(vr)}) has undefined length at offset {pos}");
        }

        Need(valuePos, len, end, $"value of {tag} ({len} bytes)");
        if (vr == DicomVR.SQ)
            return ReadItems(ds, tag, valuePos, valuePos + (int)len, depth, undefinedLength: false);

        ds.Set(new DicomElement(tag, vr, _buf.Slice(valuePos, (int)len), bigEndian: !_little));
        if (depth == 0 && tag == DicomTags.PixelRepresentation && len >= 2) _signed = U16(span, valuePos) == 1;
        return valuePos + (int)len;
    }

    /// <summary>Reads the items of a sequence; returns the offset after the sequence.</summary>
    private int ReadItems(DicomDataset ds, DicomTag tag, int pos, int end, int depth, bool undefinedLength)
    {
        if (depth + 1 > _options.MaxSequenceDepth)
            throw new DicomException($"sequence {tag} nested deeper than {_options.MaxSequenceDepth} levels");
        var span = _buf.Span;
        var items = new List<DicomDataset>();
        bool closed = false;
        while (pos < end)
        {
            Need(pos, 8, end, $"item header in sequence {tag}");
            ushort g = U16(span, pos), e = U16(span, pos + 2);
            uint len = U32(span, pos + 4);
            pos += 8;
            if (g == 0xFFFE && e == 0xE0DD)
            {
                closed = true;
                break;
            }
            if (g != 0xFFFE || e != 0xE000)
                throw new DicomException($"sequence {tag}: expected an item tag at offset {pos - 8}, found ({g:X4},{e:X4})");
            var item = new DicomDataset(ds.Encoding);
            if (len == Undefined)
            {
                pos = ParseDataset(item, pos, end, depth + 1, untilItemDelimiter: true, out _);
            }
            else
            {
                Need(pos, len, end, $"item of {tag} ({len} bytes)");
                int itemEnd = pos + (int)len;
                ParseDataset(item, pos, itemEnd, depth + 1, untilItemDelimiter: false, out _);
                pos = itemEnd;
            }
            items.Add(item);
        }
        if (undefinedLength && !closed)
        {
            if (_partial && end == _buf.Length) throw new NeedMoreDataException();
            throw new DicomException($"truncated: sequence {tag} of undefined length has no delimiter");
        }
        ds.Set(DicomElement.Sequence(tag, items));
        return pos;
    }

    /// <summary>Encapsulated pixel data: items until the sequence delimiter; item 0 is the Basic Offset Table.</summary>
    private int ReadFragments(DicomDataset ds, DicomTag tag, DicomVR vr, int pos, int end)
    {
        var span = _buf.Span;
        var fragments = new List<ReadOnlyMemory<byte>>();
        while (true)
        {
            Need(pos, 8, end, "pixel data fragment header");
            ushort g = U16(span, pos), e = U16(span, pos + 2);
            uint len = U32(span, pos + 4);
            pos += 8;
            if (g == 0xFFFE && e == 0xE0DD) break;
            if (g != 0xFFFE || e != 0xE000)
                throw new DicomException($"encapsulated pixel data: expected an item tag at offset {pos - 8}, found ({g:X4},{e:X4})");
            if (len == Undefined) throw new DicomException($"encapsulated pixel data: fragment of undefined length at offset {pos - 8}");
            Need(pos, len, end, $"pixel data fragment ({len} bytes)");
            fragments.Add(_buf.Slice(pos, (int)len));
            pos += (int)len;
        }
        if (fragments.Count == 0) throw new DicomException("encapsulated pixel data has no Basic Offset Table item");
        ds.Set(DicomElement.Encapsulated(tag, vr, fragments));
        return pos;
    }
}
