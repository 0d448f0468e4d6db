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
