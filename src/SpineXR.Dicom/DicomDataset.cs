using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace SpineXR.Dicom;

/// <summary>
/// A set of data elements keyed by tag, with typed accessors in the TryGet/OrDefault style. String values are
/// decoded with the dataset's Specific Character Set (items inherit their parent's).
/// </summary>
public sealed class DicomDataset
{
    private readonly Dictionary<uint, DicomElement> _elements = new();

    public DicomDataset(Encoding? encoding = null) => Encoding = encoding ?? CharacterSets.Default;

    /// <summary>Encoding for text VRs that follow Specific Character Set (LO, PN, SH, ST, LT, UC, UT).</summary>
    public Encoding Encoding { get; internal set; }

    public int Count => _elements.Count;

    /// <summary>Elements in ascending tag order.</summary>
    public IEnumerable<DicomElement> Elements => _elements.Values.OrderBy(e => e.Tag.Value);

    public bool Contains(DicomTag tag) => _elements.ContainsKey(tag.Value);

    public bool TryGetElement(DicomTag tag, out DicomElement element) => _elements.TryGetValue(tag.Value, out element!);

    public DicomElement? GetElement(DicomTag tag) => _elements.GetValueOrDefault(tag.Value);

    // ---------------------------------------------------------------- strings

    /// <summary>The whole value as text (multiple values joined by '\'), padding trimmed; binary values are formatted.</summary>
    public bool TryGetString(DicomTag tag, out string value)
    {
        value = "";
        if (!_elements.TryGetValue(tag.Value, out var e) || e.IsSequence || e.IsEncapsulated) return false;
        if (DicomVRInfo.IsString(e.VR))
        {
            var enc = DicomVRInfo.UsesCharacterSet(e.VR) ? Encoding : CharacterSets.Default;
            string s = enc.GetString(e.Data.Span);
            value = DicomVRInfo.IsSingleValuedText(e.VR) ? s.TrimEnd(' ', '\0') : s.Trim(' ', '\0');
            return true;
        }
        if (DicomVRInfo.SwapUnit(e.VR) > 0 && e.VR is not (DicomVR.OW or DicomVR.OF or DicomVR.OD or DicomVR.OL or DicomVR.OV))
        {
            value = string.Join('\\', GetDoubles(tag).Select(d => d.ToString(CultureInfo.InvariantCulture)));
            return true;
        }
        return false;
    }

    public string? GetString(DicomTag tag) => TryGetString(tag, out var s) ? s : null;

    public string GetStringOrDefault(DicomTag tag, string fallback) => TryGetString(tag, out var s) && s.Length > 0 ? s : fallback;

    /// <summary>All values of a text element (split on '\', each trimmed); empty when absent.</summary>
    public string[] GetStrings(DicomTag tag)
    {
        if (!TryGetString(tag, out var s) || s.Length == 0) return [];
        if (_elements[tag.Value].VR is var vr && DicomVRInfo.IsSingleValuedText(vr)) return [s];
        var parts = s.Split('\\');
        for (int i = 0; i < parts.Length; i++) parts[i] = parts[i].Trim(' ', '\0');
        return parts;
    }

    // ---------------------------------------------------------------- numbers

    /// <summary>Number of values in the element (binary: by size; text: backslash-separated parts).</summary>
    public int ValueCount(DicomTag tag)
    {
        if (!_elements.TryGetValue(tag.Value, out var e)) return 0;
        if (e.IsSequence) return e.Items!.Count;
        int unit = BinarySize(e.VR);
        if (unit > 0) return e.Data.Length / unit;
        return GetStrings(tag).Length;
    }

    public bool TryGetDouble(DicomTag tag, out double value, int index = 0)
    {
        value = 0;
        if (index < 0 || !_elements.TryGetValue(tag.Value, out var e) || e.IsSequence || e.IsEncapsulated) return false;
        int unit = BinarySize(e.VR);
        if (unit > 0)
        {
            if ((long)(index + 1) * unit > e.Data.Length) return false;
            value = ReadBinary(e, index * unit);
            return true;
        }
        if (e.VR is not (DicomVR.DS or DicomVR.IS)) return false;
        var parts = GetStrings(tag);
        return index < parts.Length && double.TryParse(parts[index], NumberStyles.Float, CultureInfo.InvariantCulture, out value)
               && double.IsFinite(value);
    }

    public double GetDoubleOrDefault(DicomTag tag, double fallback, int index = 0) =>
        TryGetDouble(tag, out var v, index) ? v : fallback;

    /// <summary>Integer value; DS/IS text with a fractional part is rounded; false when out of int range.</summary>
    public bool TryGetInt(DicomTag tag, out int value, int index = 0)
    {
        value = 0;
        if (!TryGetDouble(tag, out double d, index)) return false;
        d = Math.Round(d);
        if (d is < int.MinValue or > int.MaxValue) return false;
        value = (int)d;
        return true;
    }

    public int GetIntOrDefault(DicomTag tag, int fallback, int index = 0) => TryGetInt(tag, out var v, index) ? v : fallback;

    /// <summary>All numeric values (unparseable text values are skipped).</summary>
    public double[] GetDoubles(DicomTag tag)
    {
        if (!_elements.TryGetValue(tag.Value, out var e) || e.IsSequence || e.IsEncapsulated) return [];
        int unit = BinarySize(e.VR);
        if (unit > 0)
        {
            var r = new double[e.Data.Length / unit];
            for (int i = 0; i < r.Length; i++) r[i] = ReadBinary(e, i * unit);
            return r;
        }
        if (e.VR is not (DicomVR.DS or DicomVR.IS)) return [];
        var list = new List<double>();
        foreach (var p in GetStrings(tag))
            if (double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d)) list.Add(d);
        return list.ToArray();
    }

    public int[] GetInts(DicomTag tag) =>
        GetDoubles(tag).Where(d => d is >= int.MinValue and <= int.MaxValue).Select(d => (int)Math.Round(d)).ToArray();

    private static int BinarySize(DicomVR vr) => vr switch
    {
        DicomVR.US or DicomVR.SS or DicomVR.OW => 2,
        DicomVR.UL or DicomVR.SL or DicomVR.FL or DicomVR.OF or DicomVR.OL => 4,
        DicomVR.FD or DicomVR.OD or DicomVR.SV or DicomVR.UV or DicomVR.OV => 8,
        _ => 0,
    };

    private static double ReadBinary(DicomElement e, int offset)
    {
        var s = e.Data.Span.Slice(offset);
        bool be = e.BigEndian;
        return e.VR switch
        {
            DicomVR.US or DicomVR.OW => be ? BinaryPrimitives.ReadUInt16BigEndian(s) : BinaryPrimitives.ReadUInt16LittleEndian(s),
            DicomVR.SS => be ? BinaryPrimitives.ReadInt16BigEndian(s) : BinaryPrimitives.ReadInt16LittleEndian(s),
            DicomVR.UL or DicomVR.OL => be ? BinaryPrimitives.ReadUInt32BigEndian(s) : BinaryPrimitives.ReadUInt32LittleEndian(s),
            DicomVR.SL => be ? BinaryPrimitives.ReadInt32BigEndian(s) : BinaryPrimitives.ReadInt32LittleEndian(s),
            DicomVR.FL or DicomVR.OF => be ? BinaryPrimitives.ReadSingleBigEndian(s) : BinaryPrimitives.ReadSingleLittleEndian(s),
            DicomVR.FD or DicomVR.OD => be ? BinaryPrimitives.ReadDoubleBigEndian(s) : BinaryPrimitives.ReadDoubleLittleEndian(s),
            DicomVR.SV => be ? BinaryPrimitives.ReadInt64BigEndian(s) : BinaryPrimitives.ReadInt64LittleEndian(s),
            _ => be ? BinaryPrimitives.ReadUInt64BigEndian(s) : BinaryPrimitives.ReadUInt64LittleEndian(s),
        };
    }

    // ---------------------------------------------------------------- sequences

    /// <summary>Items of a sequence; empty when absent or not a sequence.</summary>
    public IReadOnlyList<DicomDataset> GetSequence(DicomTag tag) =>
        _elements.TryGetValue(tag.Value, out var e) && e.Items != null ? e.Items : [];

    // ---------------------------------------------------------------- building

    /// <summary>Adds or replaces an element.</summary>
    public DicomDataset Set(DicomElement element)
    {
        _elements[element.Tag.Value] = element;
        if (element.Tag == DicomTags.SpecificCharacterSet && TryGetString(DicomTags.SpecificCharacterSet, out var cs))
            Encoding = CharacterSets.FromTerm(cs.Split('\\')[0]);
        return this;
    }

    public bool Remove(DicomTag tag) => _elements.Remove(tag.Value);

    /// <summary>Sets a text element (multiple values joined with '\').</summary>
    public DicomDataset SetString(DicomTag tag, DicomVR vr, params string[] values)
    {
        if (!DicomVRInfo.IsString(vr)) throw new ArgumentException($"{DicomVRInfo.ToText(vr)} is not a text VR", nameof(vr));
        var enc = DicomVRInfo.UsesCharacterSet(vr) ? Encoding : CharacterSets.Default;
        return Set(new DicomElement(tag, vr, enc.GetBytes(string.Join('\\', values))));
    }

    /// <summary>Sets integers: binary for US/SS/UL/SL, text for IS.</summary>
    public DicomDataset SetInts(DicomTag tag, DicomVR vr, params int[] values)
    {
        if (vr == DicomVR.IS) return SetString(tag, vr, values.Select(v => v.ToString(CultureInfo.InvariantCulture)).ToArray());
        int unit = vr switch { DicomVR.US or DicomVR.SS => 2, DicomVR.UL or DicomVR.SL => 4, _ => throw new ArgumentException($"{DicomVRInfo.ToText(vr)} is not an integer VR", nameof(vr)) };
        var b = new byte[values.Length * unit];
        for (int i = 0; i < values.Length; i++)
        {
            if (unit == 2) BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(i * 2), (ushort)values[i]);
            else BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(i * 4), values[i]);
        }
        return Set(new DicomElement(tag, vr, b));
    }

    /// <summary>Sets decimals: text for DS (at most 16 characters each, as the standard requires), binary for FL/FD.</summary>
    public DicomDataset SetDoubles(DicomTag tag, DicomVR vr, params double[] values)
    {
        if (vr == DicomVR.DS) return SetString(tag, vr, values.Select(FormatDecimalString).ToArray());
        int unit = vr switch { DicomVR.FL => 4, DicomVR.FD => 8, _ => throw new ArgumentException($"{DicomVRInfo.ToText(vr)} is not a decimal VR", nameof(vr)) };
        var b = new byte[values.Length * unit];
        for (int i = 0; i < values.Length; i++)
        {
            if (unit == 4) BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(i * 4), (float)values[i]);
            else BinaryPrimitives.WriteDoubleLittleEndian(b.AsSpan(i * 8), values[i]);
        }
        return Set(new DicomElement(tag, vr, b));
    }

    public DicomDataset SetBytes(DicomTag tag, DicomVR vr, ReadOnlyMemory<byte> bytes) => Set(new DicomElement(tag, vr, bytes));

    public DicomDataset SetSequence(DicomTag tag, params DicomDataset[] items) => Set(DicomElement.Sequence(tag, items));

    /// <summary>A DS value in at most 16 characters, as precise as fits.</summary>
    public static string FormatDecimalString(double value)
    {
        if (!double.IsFinite(value)) throw new ArgumentException("DS values must be finite", nameof(value));
        for (int digits = 15; digits > 0; digits--)
        {
            string s = value.ToString("G" + digits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
            if (s.Length <= 16) return s;
        }
        return value.ToString("E5", CultureInfo.InvariantCulture);
    }
}
