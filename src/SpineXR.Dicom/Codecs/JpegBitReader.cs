namespace SpineXR.Dicom.Codecs;

/// <summary>
/// Reads the entropy-coded segment of a JPEG scan bit by bit: removes stuffed zero bytes, stops at the next marker
/// and from there supplies zero bits (the decoder's look-ahead needs them), remembering whether any were actually
/// consumed, which means the data was cut short.
/// </summary>
internal ref struct JpegBitReader
{
    private readonly ReadOnlySpan<byte> data;
    private int position;
    private ulong buffer;     // next bits, left-aligned
    private int count;        // valid bits in buffer
    private int padding;      // zero bits appended after the data ended (they sit at the end of buffer)

    public JpegBitReader(ReadOnlySpan<byte> data, int position)
    {
        this.data = data;
        this.position = position;
    }

    /// <summary>Offset of the first byte not yet taken into the bit buffer (a marker, once the segment has ended).</summary>
    public readonly int Position => position;

    /// <summary>True when more bits were consumed than the segment holds: the data is truncated or corrupt.</summary>
    public readonly bool Overrun => padding > count;

    public int Peek16()
    {
        if (count < 16) Fill();
        return (int)(buffer >> 48);
    }

    public void Skip(int bits)
    {
        buffer <<= bits;
        count -= bits;
    }

    public int Bits(int n)
    {
        if (n == 0) return 0;
        if (count < n) Fill();
        int v = (int)(buffer >> (64 - n));
        buffer <<= n;
        count -= n;
        return v;
    }

    /// <summary>T.81 F.2.2.1 RECEIVE and EXTEND: <paramref name="s"/> magnitude bits to a signed value.</summary>
    public int ReceiveExtend(int s)
    {
        if (s == 0) return 0;
        int v = Bits(s);
        return v < 1 << (s - 1) ? v - (1 << s) + 1 : v;
    }

    /// <summary>
    /// At a restart boundary: drops the partial byte, expects RSTn at the next marker and resumes after it.
    /// Returns false when the next marker is not a restart marker (the caller decides whether that is fatal).
    /// </summary>
    public bool Restart()
    {
        if (Overrun) return false;
        buffer = 0;
        count = 0;
        padding = 0;
        int p = position;
        while (p < data.Length && data[p] != 0xFF) p++; // stray bytes before the marker (corrupt data) are skipped
        while (p + 1 < data.Length && data[p + 1] == 0xFF) p++;
        if (p + 1 >= data.Length || data[p + 1] < 0xD0 || data[p + 1] > 0xD7) return false;
        position = p + 2;
        return true;
    }

    private void Fill()
    {
        while (count <= 56)
        {
            ulong b = 0;
            if (padding > 0 || position >= data.Length)
            {
                padding += 8;
            }
            else if (data[position] == 0xFF)
            {
                byte next = position + 1 < data.Length ? data[position + 1] : (byte)0xD9;
                if (next == 0x00)
                {
                    b = 0xFF;
                    position += 2;
                }
                else
                {
                    padding += 8; // a marker: the segment is over; stay on it
                }
            }
            else
            {
                b = data[position++];
            }
            buffer |= b << (56 - count);
            count += 8;
        }
    }
}
