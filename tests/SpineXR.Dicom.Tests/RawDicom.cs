using System.Buffers.Binary;
using System.Text;

namespace SpineXR.Dicom.Tests;

/// <summary>Hand-builds DICOM bytes element by element in any uncompressed encoding, independently of the writer.</summary>
internal sealed class RawDicom
{
    private readonly MemoryStream _ms = new();
    public bool Explicit { get; }
    public bool Little { get; }

    public RawDicom(bool @explicit = true, bool little = true)
    {
        Explicit = @explicit;
        Little = little;
    }

    public byte[] ToArray() => _ms.ToArray();
    public int Length => (int)_ms.Length;

    public RawDicom Bytes(ReadOnlySpan<byte> b) { _ms.Write(b); return this; }

    public RawDicom U16(int v)
    {
        Span<byte> b = stackalloc byte[2];
        if (Little) BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)v); else BinaryPrimitives.WriteUInt16BigEndian(b, (ushort)v);
        return Bytes(b);
    }

    public RawDicom U32(uint v)
    {
        Span<byte> b = stackalloc byte[4];
        if (Little) BinaryPrimitives.WriteUInt32LittleEndian(b, v); else BinaryPrimitives.WriteUInt32BigEndian(b, v);
        return Bytes(b);
    }

    /// <summary>Preamble, DICM and an explicit VR LE meta group naming <paramref name="ts"/>.</summary>
    public static RawDicom WithMeta(string ts, bool @explicit = true, bool little = true)
    {
        var meta = new RawDicom();
        meta.Element(0x0002, 0x0001, "OB", [0, 1]);
        meta.Text(0x0002, 0x0010, "UI", ts);
        var body = meta.ToArray();
        var r = new RawDicom(@explicit, little);
        r.Bytes(new byte[128]).Bytes("DICM"u8);
        var gl = new RawDicom();
        gl.Element(0x0002, 0x0000, "UL", BitConverter.GetBytes((uint)body.Length));
        r.Bytes(gl.ToArray()).Bytes(body);
        return r;
    }

    public RawDicom Header(int group, int element, string vr, uint length)
    {
        U16(group).U16(element);
        if (Explicit && group != 0xFFFE)
        {
            Bytes(Encoding.ASCII.GetBytes(vr));
            if (vr is "OB" or "OW" or "OF" or "OD" or "OL" or "OV" or "SQ" or "UN" or "UT" or "UC" or "UR" or "SV" or "UV") U16(0).U32(length);
            else U16((int)length);
        }
        else U32(length);
        return this;
    }

    public RawDicom Element(int group, int element, string vr, byte[] value) => Header(group, element, vr, (uint)value.Length).Bytes(value);

    public RawDicom Text(int group, int element, string vr, string value, Encoding? enc = null)
    {
        var b = (enc ?? Encoding.ASCII).GetBytes(value);
        if (b.Length % 2 == 1) b = [.. b, vr == "UI" ? (byte)0 : (byte)' '];
        return Element(group, element, vr, b);
    }

    public RawDicom US(int group, int element, params int[] values)
    {
        var b = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++)
            if (Little) BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(i * 2), (ushort)values[i]);
            else BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(i * 2), (ushort)values[i]);
        return Element(group, element, "US", b);
    }

    public RawDicom ItemStart(uint length = 0xFFFFFFFF) => U16(0xFFFE).U16(0xE000).U32(length);
    public RawDicom ItemEnd() => U16(0xFFFE).U16(0xE00D).U32(0);
    public RawDicom SequenceEnd() => U16(0xFFFE).U16(0xE0DD).U32(0);

    /// <summary>The image pixel module for a grayscale image.</summary>
    public RawDicom ImagePixel(int rows, int cols, int bitsAllocated, int bitsStored, int pixelRep, string photometric = "MONOCHROME2", int samples = 1)
    {
        US(0x0028, 0x0002, samples);
        Text(0x0028, 0x0004, "CS", photometric);
        US(0x0028, 0x0010, rows);
        US(0x0028, 0x0011, cols);
        US(0x0028, 0x0100, bitsAllocated);
        US(0x0028, 0x0101, bitsStored);
        US(0x0028, 0x0102, bitsStored - 1);
        return US(0x0028, 0x0103, pixelRep);
    }
}
