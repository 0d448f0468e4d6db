using SpineXR.Dicom.Rendering;

namespace SpineXR.Dicom.Tests.Rendering;

/// <summary>LUT Descriptors are untrusted sizes: one that asks for more than 65536 entries is refused, not allocated.</summary>
public sealed class LutDescriptorTests
{
    private static DicomDataset WithLut(DicomTag sequence, DicomVR descriptorVr, params int[] descriptor)
    {
        var item = new DicomDataset()
            .SetInts(DicomTags.LUTDescriptor, descriptorVr, descriptor)
            .SetBytes(DicomTags.LUTData, DicomVR.OW, new byte[8]);
        return new DicomDataset()
            .SetString(DicomTags.PhotometricInterpretation, DicomVR.CS, "MONOCHROME2")
            .SetInts(DicomTags.BitsStored, DicomVR.US, 12)
            .SetSequence(sequence, item);
    }

    [Fact]
    public void A_voi_lut_descriptor_of_1500000000_entries_as_UL_is_refused_without_allocating()
    {
        var ds = WithLut(DicomTags.VOILUTSequence, DicomVR.UL, 1_500_000_000, 0, 16);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<DicomException>(() => VoiFunction.FromDataset(ds));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20);
        Assert.Contains("1500000000 entries; at most 65536", e.Message);
    }

    [Fact]
    public void The_reference_conversion_ignores_such_a_voi_lut_with_a_warning()
    {
        var ds = WithLut(DicomTags.VOILUTSequence, DicomVR.UL, 1_500_000_000, 0, 16);
        var warnings = new List<string>();
        Assert.Equal(VoiKind.None, GrayscaleRenderer.SelectVoi(ds, RenderOptions.Reference, warnings).Kind);
        Assert.Contains(warnings, w => w.Contains("at most 65536"));
    }

    [Theory]
    [InlineData(256, 256)]
    [InlineData(0, 65536)]      // 0 means 65536 (PS3.3 C.11.1.1)
    [InlineData(-25536, 40000)] // a US count of 40000 read as SS
    public void Valid_counts_are_read_as_the_standard_says(int first, int entries)
    {
        var item = new DicomDataset()
            .SetInts(DicomTags.LUTDescriptor, DicomVR.SS, first, 0, 16)
            .SetBytes(DicomTags.LUTData, DicomVR.OW, new byte[entries * 2]);
        var ds = new DicomDataset().SetSequence(DicomTags.VOILUTSequence, item);
        Assert.Equal($"VOI LUT ({entries} entries from 0)", VoiFunction.FromDataset(ds).ToString());
    }

    [Fact]
    public void A_modality_lut_descriptor_with_two_values_is_a_dicom_error()
    {
        var ds = WithLut(DicomTags.ModalityLUTSequence, DicomVR.US, 256, 0);
        var e = Assert.Throws<DicomException>(() => ModalityLut.FromDataset(ds));
        Assert.Contains("needs 3 values", e.Message);
        ds = WithLut(DicomTags.ModalityLUTSequence, DicomVR.UL, 1_500_000_000, 0, 16);
        Assert.Throws<DicomException>(() => ModalityLut.FromDataset(ds));
    }
}
