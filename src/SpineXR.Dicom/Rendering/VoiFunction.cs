// VOI LUT as pydicom 2.3's apply_voi_lut (pixel_data_handlers/util.py) with its defaults: the VOI LUT Sequence is
// preferred over Window Center/Width, the first view (index 0), functions LINEAR, LINEAR_EXACT and SIGMOID
// (PS3.3 C.11.2.1.2 and C.11.2.1.3). Output range: the stored range of Bits Stored and Pixel Representation, or
// the Modality LUT's, rescaled by Rescale Slope/Intercept when both are present — exactly pydicom's y_min/y_max.
// One deliberate difference: pydicom indexes an 8-bit-entry VOI LUT through a uint8 array, so indices wrap
// modulo 256; here indices are clipped without wrapping (the standard's behaviour).
using System.Buffers.Binary;

namespace SpineXR.Dicom.Rendering;

/// <summary>The kind of VOI transform applied.</summary>
public enum VoiKind { None, Linear, LinearExact, Sigmoid, Lut }

/// <summary>A VOI transform of one value, built from a dataset; pure and thread-safe.</summary>
public sealed class VoiFunction
{
    private readonly double _center, _width, _yMin, _yMax;
    private readonly int[]? _lut;
    private readonly int _firstMap;

    private VoiFunction(VoiKind kind, double center = 0, double width = 0, double yMin = 0, double yMax = 0, int[]? lut = null, int firstMap = 0)
    {
        Kind = kind;
        _center = center;
        _width = width;
        _yMin = yMin;
        _yMax = yMax;
        _lut = lut;
        _firstMap = firstMap;
    }

    public VoiKind Kind { get; }

    /// <summary>The identity (no VOI).</summary>
    public static VoiFunction Identity { get; } = new(VoiKind.None);

    /// <summary>A human-readable description ("LINEAR c=2048 w=4096").</summary>
    public override string ToString() => Kind switch
    {
        VoiKind.None => "none",
        VoiKind.Lut => $"VOI LUT ({_lut!.Length} entries from {_firstMap})",
        _ => $"{Kind.ToString().ToUpperInvariant()} c={_center} w={_width}",
    };

    /// <summary>Window center/width as given in the dataset (before LINEAR's -0.5/-1 adjustment), for windowing kinds.</summary>
    public (double Center, double Width)? Window => Kind is VoiKind.Linear ? (_center + 0.5, _width + 1) : Kind is VoiKind.LinearExact or VoiKind.Sigmoid ? (_center, _width) : null;

    /// <summary>
    /// The transform pydicom's <c>apply_voi_lut(arr, ds, index, prefer_lut)</c> would apply. Throws
    /// <see cref="DicomException"/> where pydicom raises (bad width, unknown function, colour photometric, bad LUT).
    /// </summary>
    public static VoiFunction FromDataset(DicomDataset ds, int index = 0, bool preferLut = true)
    {
        bool validVoi = false;
        var seq = ds.GetSequence(DicomTags.VOILUTSequence);
        if (seq.Count > 0)
            validVoi = seq[0].Contains(DicomTags.LUTDescriptor) && HasValue(seq[0], DicomTags.LUTDescriptor)
                       && seq[0].Contains(DicomTags.LUTData) && HasValue(seq[0], DicomTags.LUTData);
        bool validWindow = HasValue(ds, DicomTags.WindowCenter) && HasValue(ds, DicomTags.WindowWidth);
        if (validVoi && (preferLut || !validWindow)) return FromLut(ds, seq, index);
        if (validWindow) return FromWindow(ds, index);
        return Identity;
    }

    private static bool HasValue(DicomDataset ds, DicomTag tag) =>
        ds.TryGetElement(tag, out var e) && (e.Data.Length > 0 || e.IsSequence) && (!DicomVRInfo.IsString(e.VR) || ds.GetStrings(tag).Length > 0);

    private static VoiFunction FromWindow(DicomDataset ds, int index)
    {
        string photometric = ds.GetStringOrDefault(DicomTags.PhotometricInterpretation, "");
        if (photometric is not ("MONOCHROME1" or "MONOCHROME2"))
            throw new DicomException($"windowing needs MONOCHROME1 or MONOCHROME2, not '{photometric}'");
        string function = ds.GetStringOrDefault(DicomTags.VOILUTFunction, "LINEAR").ToUpperInvariant();
        double center = Pick(ds, DicomTags.WindowCenter, index, "Window Center");
        double width = Pick(ds, DicomTags.WindowWidth, index, "Window Width");

        int bitsStored = ds.GetIntOrDefault(DicomTags.BitsStored, ds.GetIntOrDefault(DicomTags.BitsAllocated, 16));
        double yMin, yMax;
        var modalityLut = ds.GetSequence(DicomTags.ModalityLUTSequence);
        if (modalityLut.Count > 0)
        {
            yMin = 0;
            yMax = Math.Pow(2, modalityLut[0].GetIntOrDefault(DicomTags.LUTDescriptor, 16, index: 2)) - 1;
        }
        else if (ds.GetIntOrDefault(DicomTags.PixelRepresentation, 0) == 0)
        {
            yMin = 0;
            yMax = Math.Pow(2, bitsStored) - 1;
        }
        else
        {
            yMin = -Math.Pow(2, bitsStored - 1);
            yMax = Math.Pow(2, bitsStored - 1) - 1;
        }
        if (ds.Contains(DicomTags.RescaleSlope) && ds.Contains(DicomTags.RescaleIntercept))
        {
            double slope = ds.GetDoubleOrDefault(DicomTags.RescaleSlope, 1), intercept = ds.GetDoubleOrDefault(DicomTags.RescaleIntercept, 0);
            yMin = yMin * slope + intercept;
            yMax = yMax * slope + intercept;
        }

        switch (function)
        {
            case "LINEAR":
                if (width < 1) throw new DicomException($"Window Width {width} must be at least 1 for LINEAR windowing");
                return new VoiFunction(VoiKind.Linear, center - 0.5, width - 1, yMin, yMax);
            case "LINEAR_EXACT":
                if (width <= 0) throw new DicomException($"Window Width {width} must be positive for LINEAR_EXACT windowing");
                return new VoiFunction(VoiKind.LinearExact, center, width, yMin, yMax);
            case "SIGMOID":
                if (width <= 0) throw new DicomException($"Window Width {width} must be positive for SIGMOID windowing");
                return new VoiFunction(VoiKind.Sigmoid, center, width, yMin, yMax);
            default:
                throw new DicomException($"unsupported VOI LUT Function '{function}'");
        }
    }

    /// <summary>pydicom: the index-th value when the element has several, else the only value.</summary>
    private static double Pick(DicomDataset ds, DicomTag tag, int index, string name)
    {
        int count = ds.ValueCount(tag);
        int at = count > 1 ? index : 0;
        if (at >= count) throw new DicomException($"{name} has {count} value(s), view {index} requested");
        return ds.TryGetDouble(tag, out double v, at) ? v : throw new DicomException($"{name} value '{ds.GetString(tag)}' is not a number");
    }

    private static VoiFunction FromLut(DicomDataset ds, IReadOnlyList<DicomDataset> seq, int index)
    {
        if (index < 0 || index >= seq.Count) throw new DicomException($"VOI LUT Sequence has {seq.Count} item(s), view {index} requested");
        var item = seq[index];
        var descriptor = item.GetInts(DicomTags.LUTDescriptor);
        if (descriptor.Length < 3) throw new DicomException("VOI LUT Descriptor needs 3 values");
        int entries = LutEntries(descriptor[0], "VOI");
        int firstMap = descriptor[1];
        int depth = descriptor[2];
        if (depth != 8 && depth is < 10 or > 16) throw new DicomException($"{depth} bits per VOI LUT entry is not supported");
        var element = item.GetElement(DicomTags.LUTData)!;
        int[] lut;
        if (element.VR == DicomVR.OW || element.VR == DicomVR.OB || element.VR == DicomVR.UN)
        {
            var span = element.Data.Span;
            if (span.Length < 2L * entries) throw new DicomException($"VOI LUT Data holds {span.Length / 2} entries, the descriptor says {entries}");
            lut = new int[entries];
            for (int i = 0; i < entries; i++)
                lut[i] = element.BigEndian ? BinaryPrimitives.ReadUInt16BigEndian(span[(i * 2)..]) : BinaryPrimitives.ReadUInt16LittleEndian(span[(i * 2)..]);
        }
        else
        {
            var values = item.GetInts(DicomTags.LUTData);
            if (values.Length < entries) throw new DicomException($"VOI LUT Data holds {values.Length} entries, the descriptor says {entries}");
            lut = values[..entries];
        }
        int mask = depth == 8 ? 0xFF : 0xFFFF; // pydicom stores entries as uint8 or uint16
        for (int i = 0; i < lut.Length; i++) lut[i] &= mask;
        return new VoiFunction(VoiKind.Lut, lut: lut, firstMap: firstMap);
    }

    /// <summary>
    /// The entry count of a LUT Descriptor's first value (PS3.3 C.11.1.1): US or SS, 0 meaning 65536. A value
    /// outside 0..65535 (a UL or a signed read, e.g. 1500000000) is refused rather than trusted as an allocation size;
    /// a negative one is a signed read of a US count.
    /// </summary>
    internal static int LutEntries(int first, string which)
    {
        if (first is < short.MinValue or > ushort.MaxValue)
            throw new DicomException($"{which} LUT Descriptor declares {first} entries; at most 65536 are allowed");
        int entries = first & 0xFFFF;
        return entries == 0 ? 65536 : entries;
    }

    /// <summary>Applies the transform to one (stored or modality) value.</summary>
    public double Apply(double x)
    {
        switch (Kind)
        {
            case VoiKind.None:
                return x;
            case VoiKind.Linear:
            case VoiKind.LinearExact:
                if (x <= _center - _width / 2) return _yMin;
                if (x > _center + _width / 2) return _yMax;
                return ((x - _center) / _width + 0.5) * (_yMax - _yMin) + _yMin;
            case VoiKind.Sigmoid:
                return (_yMax - _yMin) / (1 + Math.Exp(-4 * (x - _center) / _width)) + _yMin;
            default:
                double i = x < _firstMap ? 0 : x - _firstMap;
                int idx = i >= _lut!.Length - 1 ? _lut.Length - 1 : (int)i;
                return _lut[idx];
        }
    }
}
