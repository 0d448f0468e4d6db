using SpineXR.Dicom.Codecs;
using SpineXR.Dicom.Imaging;

namespace SpineXR.Dicom.Tests.Codecs;

/// <summary>End to end: codec streams inside Part 10 files, through the reader and the pixel decoder.</summary>
public class CodecFileTests
{
    // Grayscale, whole expected image kept; 32-bit unsigned is left out because StoredFrame holds int values.
    public static TheoryData<string> GrayCases =>
        CodecFixture.Names(c => c.SamplesPerPixel == 1 && c.ExpectedRowStep == 1 && c.BitsAllocated < 32);

    [Theory]
    [MemberData(nameof(GrayCases))]
    public void A_file_with_the_stream_encapsulated_reads_to_the_expected_stored_values(string name)
    {
        var c = CodecFixture.All[name];
        var ds = c.GrayDataset("1.2.826.0.1.3680043.10.1.2." + Math.Abs(name.Length * 7919));
        byte[] file = DicomWriter.ToBytes(ds, c.TransferSyntax);

        var frame = PixelDecoder.DecodeGray(DicomFile.Read(file, name: name + ".dcm"));

        long[] expected = TestImages.Stored(File.ReadAllBytes(Path.Combine(CodecFixture.Folder, c.Expected)), c.Format);
        Assert.Equal(expected.Length, frame.Values.Length);
        long worst = 0;
        for (int i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs(frame.Values[i] - expected[i]));
        Assert.True(worst <= c.MaxDifference, $"{name}: differs by {worst}");
    }

    [Fact]
    public void A_VinDr_like_file_written_with_the_JPEG_2000_encoder_reads_back_exactly()
    {
        const int rows = 300, cols = 256;
        var rng = new Random(7);
        var pixels = new ushort[rows * cols];
        for (int y = 0; y < rows; y++)
            for (int x = 0; x < cols; x++)
                pixels[y * cols + x] = (ushort)Math.Clamp(1500 + 8 * x - 5 * y + rng.Next(-40, 40), 0, 4095);
        var header = new GrayscaleImageHeader { Rows = rows, Columns = cols, BitsStored = 12, UidSeed = "codec-file-test" };

        byte[] file = DicomImageWriter.ToBytes(header, pixels, CodecRegistry.FindEncoder(Jpeg2000Codec.Lossless));
        var dicom = DicomFile.Read(file, name: "vindr-like.dicom");
        var frame = PixelDecoder.DecodeGray(dicom);

        Assert.Equal(Jpeg2000Codec.Lossless, dicom.TransferSyntax.Uid);
        Assert.True(file.Length < pixels.Length * 2 / 2, $"{file.Length} bytes: the codestream does not compress");
        Assert.Equal(pixels.Select(p => (int)p), frame.Values);
    }
}
