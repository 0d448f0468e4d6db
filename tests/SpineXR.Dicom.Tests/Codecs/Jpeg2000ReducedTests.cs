using SpineXR.Dicom.Codecs;
using SpineXR.Dicom.Imaging;

namespace SpineXR.Dicom.Tests.Codecs;

/// <summary>
/// Reduced-resolution JPEG 2000 decoding against `opj_decompress -r N` (tools/make_reduced_j2k_fixtures.py), its
/// limits, and the file-level path that falls back to a full decode.
/// </summary>
public class Jpeg2000ReducedTests
{
    private static readonly Jpeg2000Codec Codec = new();

    [Theory]
    [InlineData("j2k_m12", 1, 19, 23)]
    [InlineData("j2k_m12", 2, 10, 12)]
    [InlineData("j2k_rgb8", 1, 19, 23)]
    [InlineData("j2k_rgb8", 2, 10, 12)]
    public void A_reduced_decode_equals_OpenJPEGs_own_decoder_at_that_level(string name, int reduction, int rows, int columns)
    {
        var c = CodecFixture.All[name];
        var (frame, format) = Codec.DecodeReduced(c.ReadStream(), c.Format, c.TransferSyntax, reduction);
        Assert.Equal((rows, columns), (format.Rows, format.Columns)); // ceil(37 / 2^r) x ceil(45 / 2^r)
        Assert.Equal(c.ExpectedPhotometric, frame.Photometric);
        Assert.Equal(File.ReadAllBytes(Path.Combine(CodecFixture.Folder, $"{name}.r{reduction}.raw")), frame.Data);
    }

    [Fact]
    public void Reduction_zero_is_the_full_decode()
    {
        var c = CodecFixture.All["j2k_m12"];
        var (frame, format) = Codec.DecodeReduced(c.ReadStream(), c.Format, c.TransferSyntax, 0);
        Assert.Equal(c.Format, format);
        c.AssertMatches(frame);
    }

    [Fact]
    public void The_levels_come_from_the_COD_segment_and_a_deeper_reduction_is_refused()
    {
        var c = CodecFixture.All["j2k_m12"];
        byte[] stream = c.ReadStream();
        int levels = Jpeg2000Codec.DecompositionLevels(stream);
        Assert.InRange(levels, 2, 32);
        var e = Assert.Throws<DicomException>(() => Codec.DecodeReduced(stream, c.Format, c.TransferSyntax, levels + 1));
        Assert.Contains("decomposition levels", e.Message);
        Assert.Equal(0, Jpeg2000Codec.DecompositionLevels([0xFF, 0x4F, 0xFF, 0x51, 0x00])); // SIZ cut short, no COD
    }

    [Fact]
    public void An_HTJ2K_stream_is_not_reduced()
    {
        var c = CodecFixture.All["htj2k_m12"];
        Assert.Throws<DicomException>(() => Codec.DecodeReduced(c.ReadStream(), c.Format, c.TransferSyntax, 1));
    }

    [Theory]
    [InlineData("j2k_m12", 1, 1)]
    [InlineData("j2k_m12", 99, -1)] // as many as the stream has
    [InlineData("htj2k_m12", 1, 0)] // HT: full size
    [InlineData("rle_m12", 1, 0)] // not JPEG 2000: full size
    public void A_file_decodes_at_the_reduction_its_stream_allows(string name, int maxReduction, int expected)
    {
        var c = CodecFixture.All[name];
        var ds = c.GrayDataset("1.2.826.0.1.3680043.10.1.3.1");
        var pixels = DicomPixelData.Create(DicomFile.Read(DicomWriter.ToBytes(ds, c.TransferSyntax), name: name + ".dcm"));
        if (expected < 0) expected = Jpeg2000Codec.DecompositionLevels(c.ReadStream());

        var frame = PixelDecoder.DecodeGray(pixels, 0, maxReduction);

        Assert.Equal(expected, frame.Reduction);
        var format = Jpeg2000Codec.Reduced(c.Format, expected);
        Assert.Equal((format.Rows, format.Columns), (frame.Rows, frame.Columns));
        Assert.Equal(frame.Rows * frame.Columns, frame.Values.Length);
        if (expected == 0) Assert.Equal(PixelDecoder.DecodeGray(pixels).Values, frame.Values);
    }
}
