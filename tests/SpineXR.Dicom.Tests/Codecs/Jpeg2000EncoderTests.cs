using SpineXR.Dicom.Codecs;

namespace SpineXR.Dicom.Tests.Codecs;

public class Jpeg2000EncoderTests
{
    [Theory]
    [InlineData(64, 48, 16, 12, 0)]
    [InlineData(64, 48, 16, 16, 0)]
    [InlineData(33, 17, 16, 12, 1)]
    [InlineData(64, 48, 8, 8, 0)]
    [InlineData(3, 2, 16, 12, 0)]
    [InlineData(1, 1, 16, 12, 0)]
    public void Encode_then_decode_gives_back_the_stored_values(int cols, int rows, int bitsAllocated, int bitsStored, int pixelRepresentation)
    {
        var format = new PixelFormat(rows, cols, 1, bitsAllocated, bitsStored, pixelRepresentation, "MONOCHROME2");
        byte[] native = TestImages.Random(format, seed: cols * 31 + rows);

        byte[] j2k = Jpeg2000Encoder.EncodeLossless(native, format);
        var decoded = new Jpeg2000Codec().Decode(j2k, format, Jpeg2000Codec.Lossless);

        Assert.Equal(0xFF, j2k[0]);
        Assert.Equal(0x4F, j2k[1]);
        Assert.Equal("MONOCHROME2", decoded.Photometric);
        Assert.Equal(TestImages.Stored(native, format), TestImages.Stored(decoded.Data, format));
    }

    [Fact]
    public void Codestream_precision_is_bits_stored()
    {
        var format = new PixelFormat(48, 64, 1, 16, 12, 0, "MONOCHROME2");
        byte[] j2k = Jpeg2000Encoder.EncodeLossless(TestImages.Random(format, 1), format);
        // SIZ: FF51, Lsiz(2), Rsiz(2), 8 x 4 bytes of geometry, Csiz(2), then Ssiz of component 0 (precision - 1).
        int siz = j2k.AsSpan().IndexOf(new byte[] { 0xFF, 0x51 });
        Assert.Equal(11, j2k[siz + 2 + 2 + 2 + 32 + 2]);
    }

    /// <summary>VinDr-SpineXR files often declare 16-bit precision in the codestream while Bits Stored is 12: the samples come back as coded.</summary>
    [Fact]
    public void A_16_bit_codestream_in_a_12_bit_dataset_decodes_to_its_samples()
    {
        var coded = new PixelFormat(40, 50, 1, 16, 16, 0, "MONOCHROME2");
        var dataset = coded with { BitsStored = 12 };
        byte[] native = TestImages.Random(dataset, seed: 12);
        var twelveBit = TestImages.Stored(native, dataset);
        byte[] masked = new byte[native.Length];
        for (int i = 0; i < twelveBit.Length; i++) BitConverter.TryWriteBytes(masked.AsSpan(2 * i), (ushort)twelveBit[i]);

        byte[] j2k = Jpeg2000Encoder.EncodeLossless(masked, coded);
        var decoded = new Jpeg2000Codec().Decode(j2k, dataset, Jpeg2000Codec.Lossless);

        Assert.Equal(masked, decoded.Data);
    }

    [Fact]
    public void A_stream_wider_than_bits_allocated_is_refused()
    {
        var format = new PixelFormat(16, 16, 1, 16, 12, 0, "MONOCHROME2");
        byte[] j2k = Jpeg2000Encoder.EncodeLossless(TestImages.Random(format, 3), format);
        var e = Assert.Throws<DicomException>(() => new Jpeg2000Codec().Decode(j2k, format with { BitsAllocated = 8, BitsStored = 8 }, Jpeg2000Codec.Lossless));
        Assert.Contains("12-bit", e.Message);
    }
}
