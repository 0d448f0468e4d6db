using SpineXR.Dicom;
using SpineXR.Imaging;
using SpineXR.Inference;

namespace SpineXR.Tests.Inference;

public sealed class SpineImageLoaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("spinexr-loader").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void DicomIsReferenceConvertedAndKeepsItsUids()
    {
        // A 12-bit MONOCHROME1 ramp: after inversion and min-max the brightest stored value is 0.
        var px = new ushort[16 * 8];
        for (int i = 0; i < px.Length; i++) px[i] = (ushort)(i * 32);
        string path = Path.Combine(_dir, "abc123.dicom");
        DicomImageWriter.Save(path, new GrayscaleImageHeader
        {
            Rows = 8, Columns = 16, Photometric = "MONOCHROME1",
            SopInstanceUid = "1.2.3.4", StudyInstanceUid = "1.2.3", SeriesInstanceUid = "1.2.3.1",
        }, px);
        var img = SpineImageLoader.Load(path);
        Assert.Equal(("abc123", 16, 8), (img.ImageId, img.Width, img.Height));
        Assert.Equal(("1.2.3", "1.2.3.1", "1.2.3.4"), (img.StudyInstanceUid, img.SeriesInstanceUid, img.SopInstanceUid));
        Assert.Equal(255, img.Gray8[0]);
        Assert.Equal(0, img.Gray8[^1]);
    }

    [Theory]
    [InlineData(1.0, 0, 160, 120)]
    [InlineData(1.99, 0, 160, 120)]
    [InlineData(2.0, 1, 80, 60)]
    [InlineData(5.0, 2, 40, 30)]
    public void AJpeg2000DicomIsDecodedAtTheCoarsestLevelTheAllowanceCovers(double allowance, int reduction, int width, int height)
    {
        // A smooth 12-bit ramp, lossless JPEG 2000 (our encoder: 5 decomposition levels).
        var px = new ushort[160 * 120];
        for (int y = 0; y < 120; y++)
            for (int x = 0; x < 160; x++) px[y * 160 + x] = (ushort)(x * 16 + y * 8);
        string path = Path.Combine(_dir, "ramp.dicom");
        DicomImageWriter.Save(path, new GrayscaleImageHeader { Rows = 120, Columns = 160, SopInstanceUid = "1.2.3.9" }, px,
            new SpineXR.Dicom.Codecs.Jpeg2000Encoder());
        (int W, int H) asked = (0, 0);
        var img = SpineImageLoader.Load(path, (w, h) => { asked = (w, h); return allowance; });
        Assert.Equal((160, 120), asked); // the allowance is judged on the original size
        Assert.Equal((reduction, width, height), (img.Reduction, img.Width, img.Height));
        Assert.Equal((160, 120), (img.OriginalWidth, img.OriginalHeight));
        Assert.Equal(width * height, img.Gray8.Length);
        // The reduced image is the same picture: min-max spans 0..255 and the ramp still rises along both axes.
        Assert.Equal((0, 255), (img.Gray8.Min(), img.Gray8.Max()));
        Assert.True(img.Gray8[width - 1] > img.Gray8[0] && img.Gray8[(height - 1) * width] > img.Gray8[0]);
        var full = SpineImageLoader.Load(path);
        Assert.Equal((0, 160, 120), (full.Reduction, full.Width, full.Height));
        // Pixel (x, y) of the reduction averages original pixels [x 2^r, (x+1) 2^r): compare with the full image there.
        int s = img.Subsampling;
        for (int y = 0; y < height; y += 7)
            for (int x = 0; x < width; x += 7)
            {
                double mean = 0;
                for (int dy = 0; dy < s; dy++)
                    for (int dx = 0; dx < s; dx++) mean += full.Gray8[(y * s + dy) * 160 + x * s + dx];
                Assert.InRange(img.Gray8[y * width + x] - mean / (s * s), -8, 8);
            }
    }

    [Fact]
    public void AnUncompressedDicomIgnoresTheAllowance()
    {
        string path = Path.Combine(_dir, "plain.dicom");
        DicomImageWriter.Save(path, new GrayscaleImageHeader { Rows = 64, Columns = 64 }, new ushort[64 * 64]);
        var img = SpineImageLoader.Load(path, (_, _) => 8);
        Assert.Equal((0, 64, 64), (img.Reduction, img.Width, img.Height));
    }

    [Fact]
    public void PngKeepsItsGreyLevels()
    {
        var px = new byte[10 * 4];
        for (int i = 0; i < px.Length; i++) px[i] = (byte)(i * 6);
        string path = Path.Combine(_dir, "x.png");
        PngWriter.SaveGray8(path, 10, 4, px);
        var img = SpineImageLoader.Load(path);
        Assert.Equal(px, img.Gray8);
    }

    [Fact]
    public void TruncatedDicomFailsWithTheFileNamed()
    {
        string path = Path.Combine(_dir, "bad.dicom");
        var px = new ushort[64 * 64];
        byte[] bytes = DicomImageWriter.ToBytes(new GrayscaleImageHeader { Rows = 64, Columns = 64 }, px);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var e = Assert.ThrowsAny<DicomException>(() => SpineImageLoader.Load(path));
        Assert.Contains("bad.dicom", e.Message);
    }
}
