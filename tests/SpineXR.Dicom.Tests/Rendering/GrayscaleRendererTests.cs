using SpineXR.Dicom.Imaging;
using SpineXR.Dicom.Rendering;

namespace SpineXR.Dicom.Tests.Rendering;

public class GrayscaleRendererTests
{
    private static DicomDataset Mono(string photometric = "MONOCHROME2", int bitsStored = 12, int pixelRep = 0) => new DicomDataset()
        .SetString(DicomTags.PhotometricInterpretation, DicomVR.CS, photometric)
        .SetInts(DicomTags.BitsStored, DicomVR.US, bitsStored)
        .SetInts(DicomTags.PixelRepresentation, DicomVR.US, pixelRep);

    private static StoredFrame Frame(int[] values, string photometric = "MONOCHROME2") =>
        new(1, values.Length, values, 12, false, photometric, []);

    [Fact]
    public void Linear_window_follows_ps33_c11_2_1_2_with_pydicom_output_range()
    {
        // c=2048, w=4096 -> c'=2047.5, w'=4095: x <= 0 -> 0; x > 4095 -> 4095; else ((x - 2047.5)/4095 + 0.5) * 4095.
        var ds = Mono().SetDoubles(DicomTags.WindowCenter, DicomVR.DS, 2048).SetDoubles(DicomTags.WindowWidth, DicomVR.DS, 4096);
        var voi = VoiFunction.FromDataset(ds);
        Assert.Equal(VoiKind.Linear, voi.Kind);
        Assert.Equal(0, voi.Apply(0));
        Assert.Equal(4095, voi.Apply(5000));
        Assert.Equal(((1000 - 2047.5) / 4095 + 0.5) * 4095, voi.Apply(1000), 9);
    }

    [Fact]
    public void Rescale_changes_the_output_range_not_the_input()
    {
        var ds = Mono().SetDoubles(DicomTags.WindowCenter, DicomVR.DS, 100).SetDoubles(DicomTags.WindowWidth, DicomVR.DS, 51)
            .SetDoubles(DicomTags.RescaleSlope, DicomVR.DS, 2).SetDoubles(DicomTags.RescaleIntercept, DicomVR.DS, -1000);
        var voi = VoiFunction.FromDataset(ds);
        Assert.Equal(-1000, voi.Apply(0));           // y_min = 0 * 2 - 1000
        Assert.Equal(4095 * 2 - 1000, voi.Apply(500)); // y_max
    }

    [Fact]
    public void Voi_lut_sequence_wins_over_window_and_clips_at_both_ends()
    {
        var item = new DicomDataset().SetInts(DicomTags.LUTDescriptor, DicomVR.US, 4, 10, 16).SetInts(DicomTags.LUTData, DicomVR.US, 100, 200, 300, 400);
        var ds = Mono().SetSequence(DicomTags.VOILUTSequence, item)
            .SetDoubles(DicomTags.WindowCenter, DicomVR.DS, 1).SetDoubles(DicomTags.WindowWidth, DicomVR.DS, 1);
        var voi = VoiFunction.FromDataset(ds);
        Assert.Equal(VoiKind.Lut, voi.Kind);
        Assert.Equal([100, 100, 200, 400, 400], new[] { 0, 10, 11, 13, 9999 }.Select(x => voi.Apply(x)));
        Assert.Equal(VoiKind.Linear, VoiFunction.FromDataset(ds, preferLut: false).Kind);
    }

    [Fact]
    public void Eight_bit_voi_lut_entries_clip_instead_of_wrapping()
    {
        // pydicom 2.3 indexes through uint8 and would wrap index 300 to 44; the standard clips to the last entry.
        var lut = Enumerable.Range(0, 256).ToArray();
        var item = new DicomDataset().SetInts(DicomTags.LUTDescriptor, DicomVR.US, 256, 0, 8).SetInts(DicomTags.LUTData, DicomVR.US, lut);
        var voi = VoiFunction.FromDataset(Mono().SetSequence(DicomTags.VOILUTSequence, item));
        Assert.Equal(255, voi.Apply(300));
    }

    [Theory]
    [InlineData("LINEAR", 0.5)]
    [InlineData("LINEAR_EXACT", 0)]
    [InlineData("SIGMOID", -1)]
    [InlineData("CUBIC", 100)]
    public void Invalid_windows_raise_where_pydicom_raises(string function, double width)
    {
        var ds = Mono().SetString(DicomTags.VOILUTFunction, DicomVR.CS, function)
            .SetDoubles(DicomTags.WindowCenter, DicomVR.DS, 100).SetDoubles(DicomTags.WindowWidth, DicomVR.DS, width);
        Assert.Throws<DicomException>(() => VoiFunction.FromDataset(ds));
        // Rendering falls back to no VOI, with a warning (numpy: 100/200*255 = 127.5 -> 127).
        var px = GrayscaleRenderer.ToGray8(Frame([0, 100, 200]), ds, null, out var info);
        Assert.Equal([0, 127, 255], px);
        Assert.Contains(info.Warnings, w => w.StartsWith("VOI not applied", StringComparison.Ordinal));
        Assert.Throws<DicomException>(() => GrayscaleRenderer.ToGray8(Frame([0, 1]), ds, new RenderOptions { FallbackOnVoiError = false }));
    }

    [Fact]
    public void Monochrome1_is_inverted_and_min_max_truncates_like_numpy_astype()
    {
        var ds = Mono("MONOCHROME1");
        Assert.Equal([255, 170, 0], GrayscaleRenderer.ToGray8(Frame([10, 40, 100], "MONOCHROME1"), ds));
        Assert.Equal([0, 85, 255], GrayscaleRenderer.ToGray8(Frame([10, 40, 100], "MONOCHROME1"), ds, new RenderOptions { InvertMonochrome1 = false }));
        Assert.Equal([65535, 43690, 0], GrayscaleRenderer.ToGray16(Frame([10, 40, 100], "MONOCHROME1"), ds));
    }

    [Fact]
    public void Constant_image_renders_black()
    {
        Assert.Equal([0, 0, 0], GrayscaleRenderer.ToGray8(Frame([7, 7, 7]), Mono()));
    }

    [Fact]
    public void Pixel_padding_is_left_out_only_on_request()
    {
        var ds = Mono().SetInts(DicomTags.PixelPaddingValue, DicomVR.US, 0);
        int[] values = [0, 1000, 2000, 3000];
        Assert.Equal([0, 85, 170, 255], GrayscaleRenderer.ToGray8(Frame(values), ds));
        Assert.Equal([0, 0, 127, 255], GrayscaleRenderer.ToGray8(Frame(values), ds, new RenderOptions { ExcludePixelPadding = true }));
    }

    [Fact]
    public void Wide_value_ranges_take_the_per_pixel_path_with_the_same_result()
    {
        int[] values = [-2_000_000_000, 0, 2_000_000_000];
        var frame = new StoredFrame(1, 3, values, 32, true, "MONOCHROME2", []);
        Assert.Equal([0, 127, 255], GrayscaleRenderer.ToGray8(frame, Mono(bitsStored: 32, pixelRep: 1)));
    }

    [Fact]
    public void Modality_lut_sequence_and_rescale()
    {
        var item = new DicomDataset().SetInts(DicomTags.LUTDescriptor, DicomVR.US, 3, 5, 16).SetInts(DicomTags.LUTData, DicomVR.US, 7, 8, 9);
        var lut = ModalityLut.FromDataset(Mono().SetSequence(DicomTags.ModalityLUTSequence, item));
        Assert.Equal([7, 7, 8, 9, 9], new[] { 0, 5, 6, 7, 100 }.Select(x => lut.Apply(x)));
        var rescale = ModalityLut.FromDataset(Mono().SetDoubles(DicomTags.RescaleSlope, DicomVR.DS, 2).SetDoubles(DicomTags.RescaleIntercept, DicomVR.DS, -1024));
        Assert.Equal(-1014, rescale.Apply(5));
        Assert.True(ModalityLut.FromDataset(Mono().SetDoubles(DicomTags.RescaleSlope, DicomVR.DS, 2)).IsIdentity); // pydicom needs both
    }
}
