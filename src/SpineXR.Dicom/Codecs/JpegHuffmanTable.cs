namespace SpineXR.Dicom.Codecs;

/// <summary>
/// One JPEG Huffman table (ITU-T T.81 Annex C) built for decoding: a 9-bit lookup for short codes and the
/// MAXCODE/VALPTR procedure of F.2.2.3 for the rest.
/// </summary>
internal sealed class JpegHuffmanTable
{
    public const int LookupBits = 9;

    // Fast path: (length << 8) | value for every LookupBits-bit prefix that starts with a short code; 0 when longer.
    private readonly ushort[] lookup = new ushort[1 << LookupBits];
    private readonly int[] maxCode = new int[18];
    private readonly int[] valueOffset = new int[17];
    private readonly byte[] values;

    /// <param name="counts">BITS: how many codes of each length 1..16.</param>
    /// <param name="symbols">HUFFVAL, in code order.</param>
    public JpegHuffmanTable(ReadOnlySpan<byte> counts, ReadOnlySpan<byte> symbols)
    {
        values = symbols.ToArray();
        int code = 0, k = 0;
        for (int length = 1; length <= 16; length++)
        {
            int n = counts[length - 1];
            valueOffset[length] = k - code;
            if (n == 0)
            {
                maxCode[length] = -1;
            }
            else
            {
                if (LookupBits >= length)
                {
                    for (int i = 0; i < n; i++)
                    {
                        int shift = LookupBits - length;
                        int first = (code + i) << shift;
                        for (int j = 0; j < 1 << shift; j++) lookup[first + j] = (ushort)((length << 8) | symbols[k + i]);
                    }
                }
                code += n;
                k += n;
                maxCode[length] = code - 1;
            }
            // A code space that overflows its length makes the table ambiguous.
            if (code > 1 << length) throw new DicomException("JPEG: a Huffman table has more codes than its lengths allow");
            code <<= 1;
        }
        maxCode[17] = int.MaxValue;
    }

    /// <summary>Decodes one symbol from the reader.</summary>
    public int Decode(ref JpegBitReader reader)
    {
        int peek = reader.Peek16();
        int entry = lookup[peek >> (16 - LookupBits)];
        if (entry != 0)
        {
            reader.Skip(entry >> 8);
            return entry & 0xFF;
        }
        for (int length = LookupBits + 1; length <= 16; length++)
        {
            int code = peek >> (16 - length);
            if (code <= maxCode[length])
            {
                reader.Skip(length);
                int index = code + valueOffset[length];
                if ((uint)index >= (uint)values.Length) break;
                return values[index];
            }
        }
        throw new DicomException("JPEG: invalid Huffman code in the entropy-coded data");
    }
}
