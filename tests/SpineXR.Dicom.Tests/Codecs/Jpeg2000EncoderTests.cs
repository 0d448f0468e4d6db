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
}
