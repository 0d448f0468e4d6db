// Modality LUT (PS3.3 C.11.1) as pydicom 2.3's apply_modality_lut: a Modality LUT Sequence wins over Rescale
// Slope/Intercept; values outside the LUT clip to its ends.
using System.Buffers.Binary;

namespace SpineXR.Dicom.Rendering;

/// <summary>Stored value to modality value (e.g. Hounsfield units).</summary>
public sealed class ModalityLut
{
    private readonly double _slope, _intercept;
    private readonly int[]? _lut;
    private readonly int _firstMap;

    private ModalityLut(double slope, double intercept, int[]? lut, int firstMap)
    {
        _slope = slope;
        _intercept = intercept;
        _lut = lut;
        _firstMap = firstMap;
    }

    public static ModalityLut Identity { get; } = new(1, 0, null, 0);

    public bool IsIdentity => _lut == null && _slope == 1 && _intercept == 0;

    public static ModalityLut FromDataset(DicomDataset ds)
    {
        var seq = ds.GetSequence(DicomTags.ModalityLUTSequence);
        if (seq.Count > 0 && seq[0].Contains(DicomTags.LUTDescriptor) && seq[0].Contains(DicomTags.LUTData))
        {
            var item = seq[0];
            var d = item.GetInts(DicomTags.LUTDescriptor);
            if (d.Length < 3) throw new DicomException("Modality LUT Descriptor needs 3 values");
            int entries = VoiFunction.LutEntries(d[0], "Modality");
            var e = item.GetElement(DicomTags.LUTData)!;
            int[] lut;
            if (e.VR is DicomVR.OW or DicomVR.OB or DicomVR.UN)
            {
                var s = e.Data.Span;
                if (s.Length < 2L * entries) throw new DicomException($"Modality LUT Data holds {s.Length / 2} entries, the descriptor says {entries}");
                lut = new int[entries];
                for (int i = 0; i < entries; i++)
                    lut[i] = e.BigEndian ? BinaryPrimitives.ReadUInt16BigEndian(s[(i * 2)..]) : BinaryPrimitives.ReadUInt16LittleEndian(s[(i * 2)..]);
            }
            else
            {
                var v = item.GetInts(DicomTags.LUTData);
                if (v.Length < entries) throw new DicomException($"Modality LUT Data holds {v.Length} entries, the descriptor says {entries}");
                lut = v[..entries];
            }
            return new ModalityLut(1, 0, lut, d[1]);
        }
        if (ds.Contains(DicomTags.RescaleSlope) && ds.Contains(DicomTags.RescaleIntercept))
            return new ModalityLut(ds.GetDoubleOrDefault(DicomTags.RescaleSlope, 1), ds.GetDoubleOrDefault(DicomTags.RescaleIntercept, 0), null, 0);
        return Identity;
    }

    public double Apply(double stored)
    {
        if (_lut == null) return stored * _slope + _intercept;
        double i = stored - _firstMap;
        int idx = i <= 0 ? 0 : i >= _lut.Length - 1 ? _lut.Length - 1 : (int)i;
        return _lut[idx];
    }
}
