// NumPy .npy format, version 1.0-3.0 (numpy/lib/format.py): magic "\x93NUMPY", version, header
// length, a Python-literal dict {'descr', 'fortran_order', 'shape'}, then the raw data. Reads
// float32/float64 (and integer) little-endian C-order arrays as float32; writes float32.
using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using SpineXR.IO;

namespace SpineXR.Vision.IO;

/// <summary>A float32 array with its shape (C order).</summary>
public sealed record NpyArray(float[] Data, long[] Shape);

/// <summary>Reads and writes <c>.npy</c> files.</summary>
public static partial class Npy
{
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <exception cref="InvalidDataException">Not an .npy file, unsupported dtype, Fortran order, or truncated; the message names the file.</exception>
    public static NpyArray Read(string path)
    {
        byte[] b = File.ReadAllBytes(path);
        try { return Parse(b); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path}: {e.Message}", e); }
    }

    public static NpyArray Parse(ReadOnlySpan<byte> b)
    {
        if (b.Length < 10 || !b[..6].SequenceEqual(Magic)) throw new InvalidDataException("not a .npy file (bad magic)");
        int major = b[6];
        int headerLen, start;
        if (major == 1) { headerLen = BinaryPrimitives.ReadUInt16LittleEndian(b[8..]); start = 10; }
        else if (major is 2 or 3)
        {
            if (b.Length < 12) throw new InvalidDataException("truncated header");
            uint h = BinaryPrimitives.ReadUInt32LittleEndian(b[8..]);
            if (h > b.Length) throw new InvalidDataException("header longer than the file");
            headerLen = (int)h; start = 12;
        }
        else throw new InvalidDataException($"unsupported .npy version {major}");
        if (start + headerLen > b.Length) throw new InvalidDataException("header longer than the file");
        string header = Encoding.Latin1.GetString(b.Slice(start, headerLen));
        var descr = DescrRegex().Match(header);
        var fortran = FortranRegex().Match(header);
        var shapeM = ShapeRegex().Match(header);
        if (!descr.Success || !shapeM.Success) throw new InvalidDataException("malformed header: " + header.Trim());
        if (fortran.Success && fortran.Groups[1].Value == "True") throw new InvalidDataException("Fortran-order arrays are not supported");
        long[] shape = shapeM.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => long.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        long count = 1;
        foreach (long d in shape) count = checked(count * d);
        string dt = descr.Groups[1].Value;
        int size = dt[^1] - '0';
        if (dt.Length != 3 || size is not (1 or 2 or 4 or 8)) throw new InvalidDataException($"unsupported dtype '{dt}'");
        if (size > 1 && dt[0] == '>') throw new InvalidDataException($"big-endian dtype '{dt}' is not supported");
        var data = b[(start + headerLen)..];
        if (data.Length < count * size) throw new InvalidDataException($"truncated: {data.Length} data bytes for {count} elements of {size} bytes");
        var result = new float[count];
        switch (dt[1], size)
        {
            case ('f', 4): MemoryMarshal.Cast<byte, float>(data[..(int)(count * 4)]).CopyTo(result); break;
            case ('f', 8): { var s = MemoryMarshal.Cast<byte, double>(data[..(int)(count * 8)]); for (int i = 0; i < s.Length; i++) result[i] = (float)s[i]; break; }
            case ('u', 1): for (int i = 0; i < count; i++) result[i] = data[i]; break;
            case ('u', 2): { var s = MemoryMarshal.Cast<byte, ushort>(data[..(int)(count * 2)]); for (int i = 0; i < s.Length; i++) result[i] = s[i]; break; }
            case ('i', 2): { var s = MemoryMarshal.Cast<byte, short>(data[..(int)(count * 2)]); for (int i = 0; i < s.Length; i++) result[i] = s[i]; break; }
            case ('i', 4): { var s = MemoryMarshal.Cast<byte, int>(data[..(int)(count * 4)]); for (int i = 0; i < s.Length; i++) result[i] = s[i]; break; }
            case ('i', 8): { var s = MemoryMarshal.Cast<byte, long>(data[..(int)(count * 8)]); for (int i = 0; i < s.Length; i++) result[i] = s[i]; break; }
            default: throw new InvalidDataException($"unsupported dtype '{dt}'");
        }
        return new NpyArray(result, shape);
    }

    /// <summary>Writes a little-endian float32 C-order array (format version 1.0), atomically.</summary>
    public static void Write(string path, ReadOnlySpan<float> data, ReadOnlySpan<long> shape)
    {
        long count = 1;
        foreach (long d in shape) count *= d;
        if (count != data.Length) throw new ArgumentException($"shape holds {count} elements, data {data.Length}", nameof(shape));
        string dims = shape.Length == 1 ? shape[0].ToString(CultureInfo.InvariantCulture) + "," : string.Join(", ", shape.ToArray().Select(d => d.ToString(CultureInfo.InvariantCulture)));
        string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
        int total = 10 + dict.Length + 1;
        int pad = (64 - total % 64) % 64; // numpy aligns the data to 64 bytes
        string header = dict + new string(' ', pad) + "\n";
        byte[] bytes = new byte[10 + header.Length + data.Length * 4];
        Magic.CopyTo(bytes);
        bytes[6] = 1; bytes[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)header.Length);
        Encoding.Latin1.GetBytes(header, bytes.AsSpan(10));
        MemoryMarshal.AsBytes(data).CopyTo(bytes.AsSpan(10 + header.Length));
        AtomicFile.WriteAllBytes(path, bytes);
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")]
    private static partial Regex DescrRegex();
    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranRegex();
    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapeRegex();
}
