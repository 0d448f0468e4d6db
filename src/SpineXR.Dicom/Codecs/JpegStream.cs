using System.Buffers.Binary;

namespace SpineXR.Dicom.Codecs;

/// <summary>
/// The marker layer of a JPEG interchange stream (ITU-T T.81 Annex B): reads the frame header, Huffman and
/// quantisation tables, restart interval and APP markers up to each scan, with every length bounded by the bytes
/// present. Shared by the lossless and the DCT decoders.
/// </summary>
internal sealed class JpegStream
{
    /// <summary>A frame component: identifier, sampling factors and quantisation table.</summary>
    public sealed record Component(int Id, int H, int V, int QuantTable);

    /// <summary>One scan header: the frame components it covers (indices into <see cref="Components"/>) and its parameters.</summary>
    public sealed record Scan(int[] ComponentIndices, int[] DcTables, int[] AcTables, int Ss, int Se, int Ah, int Al, int DataStart);

    private readonly byte[] data;
    private int position;

    public JpegStream(ReadOnlySpan<byte> frame, string who)
    {
        Who = who;
        // Fragments are often padded with a trailing zero; one copy also frees us from span lifetimes in the decoders.
        data = frame.ToArray();
        if (data.Length < 4 || data[0] != 0xFF || data[1] != 0xD8)
            throw new DicomException($"{who}: not a JPEG stream (no SOI marker at the start)");
        position = 2;
    }

    public string Who { get; }
    public byte[] Data => data;

    /// <summary>SOF marker code (0xC0 baseline, 0xC1 extended, 0xC3 lossless, ...), 0 before the frame header.</summary>
    public int FrameMarker { get; private set; }
    public int Precision { get; private set; }
    public int Rows { get; private set; }
    public int Columns { get; private set; }
    public Component[] Components { get; private set; } = [];
    public int MaxH { get; private set; } = 1;
    public int MaxV { get; private set; } = 1;
    public int RestartInterval { get; private set; }
    public JpegHuffmanTable?[] DcTables { get; } = new JpegHuffmanTable?[4];
    public JpegHuffmanTable?[] AcTables { get; } = new JpegHuffmanTable?[4];
    public int[]?[] QuantTables { get; } = new int[]?[4];

    /// <summary>Adobe APP14 colour transform flag (0 none, 1 YCbCr, 2 YCCK), or -1 when absent.</summary>
    public int AdobeTransform { get; private set; } = -1;
    public bool HasJfif { get; private set; }

    /// <summary>
    /// Reads markers up to the next SOS and returns that scan, or null at EOI. <paramref name="resumeAt"/> is where the
    /// previous scan's entropy-coded data ended (the bit reader's position), 0 for the first call.
    /// </summary>
    public Scan? NextScan(int resumeAt = 0)
    {
        if (resumeAt > 0) position = resumeAt;
        while (true)
        {
            int marker = NextMarker();
            if (marker < 0 || marker == 0xD9)
            {
                if (FrameMarker == 0) throw new DicomException($"{Who}: the stream ends before a frame header");
                return null;
            }
            if (marker is >= 0xD0 and <= 0xD7) continue; // a stray restart marker between scans
            if (marker == 0x01) continue;                 // TEM, no length
            if (position + 2 > data.Length) throw Truncated();
            int length = BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(position));
            if (length < 2 || position + length > data.Length) throw Truncated();
            var segment = new ReadOnlySpan<byte>(data, position + 2, length - 2);
            int segmentEnd = position + length;
            switch (marker)
            {
                case 0xC0 or 0xC1 or 0xC2 or 0xC3 or 0xC5 or 0xC6 or 0xC7 or 0xC9 or 0xCA or 0xCB or 0xCD or 0xCE or 0xCF:
                    ReadFrame(marker, segment);
                    break;
                case 0xC4: ReadHuffman(segment); break;
                case 0xDB: ReadQuant(segment); break;
                case 0xDD:
                    if (segment.Length < 2) throw Bad("DRI segment");
                    RestartInterval = BinaryPrimitives.ReadUInt16BigEndian(segment);
                    break;
                case 0xEE:
                    if (segment.Length >= 12 && segment.StartsWith("Adobe"u8)) AdobeTransform = segment[11];
                    break;
                case 0xE0:
                    if (segment.StartsWith("JFIF\0"u8)) HasJfif = true;
                    break;
                case 0xDA:
                    position = segmentEnd;
                    return ReadScan(segment, segmentEnd);
                case 0xDC: break; // DNL: only meaningful with a zero height, which ReadFrame refuses
                default: break;   // APPn, COM, DHP, EXP and others: skipped
            }
            position = segmentEnd;
        }
    }

    private int NextMarker()
    {
        // Markers may be preceded by fill bytes (0xFF); anything else between segments is garbage we step over,
        // as libjpeg does (with a warning).
        while (position < data.Length)
        {
            if (data[position] == 0xFF && position + 1 < data.Length && data[position + 1] is not (0x00 or 0xFF))
            {
                int m = data[position + 1];
                position += 2;
                return m;
            }
            position++;
        }
        return -1;
    }

    private void ReadFrame(int marker, ReadOnlySpan<byte> s)
    {
        if (FrameMarker != 0) throw new DicomException($"{Who}: more than one frame header (hierarchical JPEG is not supported)");
        if (s.Length < 6) throw Bad("SOF segment");
        FrameMarker = marker;
        Precision = s[0];
        Rows = BinaryPrimitives.ReadUInt16BigEndian(s[1..]);
        Columns = BinaryPrimitives.ReadUInt16BigEndian(s[3..]);
        int n = s[5];
        if (n == 0 || s.Length < 6 + 3 * n) throw Bad("SOF segment");
        if (Rows == 0) throw new DicomException($"{Who}: the frame header gives no height (DNL marker streams are not supported)");
        if (Columns == 0) throw new DicomException($"{Who}: the frame header gives zero width");
        var components = new Component[n];
        for (int i = 0; i < n; i++)
        {
            int id = s[6 + 3 * i], hv = s[7 + 3 * i], tq = s[8 + 3 * i];
            int h = hv >> 4, v = hv & 15;
            if (h is < 1 or > 4 || v is < 1 or > 4) throw new DicomException($"{Who}: component {id} has sampling factors {h}x{v}");
            if (tq > 3) throw Bad("quantisation table selector");
            for (int j = 0; j < i; j++)
                if (components[j].Id == id) throw new DicomException($"{Who}: two components share identifier {id}");
            components[i] = new Component(id, h, v, tq);
        }
        Components = components;
        MaxH = components.Max(c => c.H);
        MaxV = components.Max(c => c.V);
    }

    private void ReadHuffman(ReadOnlySpan<byte> s)
    {
        while (s.Length > 0)
        {
            if (s.Length < 17) throw Bad("DHT segment");
            int tc = s[0] >> 4, th = s[0] & 15;
            if (tc > 1 || th > 3) throw Bad("DHT table class or identifier");
            int total = 0;
            for (int i = 1; i <= 16; i++) total += s[i];
            if (total > 256 || s.Length < 17 + total) throw Bad("DHT segment");
            var table = new JpegHuffmanTable(s.Slice(1, 16), s.Slice(17, total));
            if (tc == 0) DcTables[th] = table; else AcTables[th] = table;
            s = s[(17 + total)..];
        }
    }

    private void ReadQuant(ReadOnlySpan<byte> s)
    {
        while (s.Length > 0)
        {
            int pq = s[0] >> 4, tq = s[0] & 15;
            if (pq > 1 || tq > 3) throw Bad("DQT precision or identifier");
            int size = 1 + 64 * (pq + 1);
            if (s.Length < size) throw Bad("DQT segment");
            var table = new int[64]; // zig-zag order, as the coefficients arrive
            for (int k = 0; k < 64; k++)
                table[k] = pq == 0 ? s[1 + k] : BinaryPrimitives.ReadUInt16BigEndian(s[(1 + 2 * k)..]);
            QuantTables[tq] = table;
            s = s[size..];
        }
    }

    private Scan ReadScan(ReadOnlySpan<byte> s, int dataStart)
    {
        if (FrameMarker == 0) throw new DicomException($"{Who}: a scan comes before the frame header");
        if (s.Length < 1) throw Bad("SOS segment");
        int n = s[0];
        if (n is < 1 or > 4 || s.Length < 1 + 2 * n + 3) throw Bad("SOS segment");
        var indices = new int[n];
        var dc = new int[n];
        var ac = new int[n];
        for (int i = 0; i < n; i++)
        {
            int id = s[1 + 2 * i];
            int index = Array.FindIndex(Components, c => c.Id == id);
            if (index < 0) throw new DicomException($"{Who}: the scan names component {id}, which the frame does not have");
            indices[i] = index;
            dc[i] = s[2 + 2 * i] >> 4;
            ac[i] = s[2 + 2 * i] & 15;
            if (dc[i] > 3 || ac[i] > 3) throw Bad("SOS table selector");
        }
        int p = 1 + 2 * n;
        return new Scan(indices, dc, ac, s[p], s[p + 1], s[p + 2] >> 4, s[p + 2] & 15, dataStart);
    }

    public DicomException Bad(string what) => new($"{Who}: malformed {what}");

    public DicomException Truncated() => new($"{Who}: the stream is truncated (a marker segment runs past its end)");
}
