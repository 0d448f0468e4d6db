using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using SpineXR.Dicom.Codecs;
using SpineXR.Dicom.Imaging;
using SpineXR.Dicom.Rendering;

namespace SpineXR.Dicom.Tests;

/// <summary>Stored values and 8-bit conversions against pydicom 2.3 + GDCM (fixtures made by tools/make_dicom_fixtures.py).</summary>
public class GoldenTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public void Stored_values_equal_pydicom_on_every_fixture_frame()
    {
        int checkedFrames = 0, noCodec = 0;
        foreach (var group in Fixtures.Manifest().GroupBy(r => r.File))
        {
            var file = DicomFile.Open(Fixtures.PathOf(group.Key));
            if (file.TransferSyntax.Encapsulated && CodecRegistry.Find(file.TransferSyntax.Uid) == null)
            {
                // Not decodable in this build: the failure must be the clear "no codec" error, nothing else.
                var e = Assert.Throws<DicomException>(() => PixelDecoder.DecodeGray(file));
                Assert.Contains("no codec", e.Message);
                noCodec++;
                continue;
            }
            var frames = PixelDecoder.DecodeAllGray(file);
            foreach (var row in group)
            {
                var f = frames[row.Frame];
                Assert.Equal((row.Rows, row.Columns), (f.Rows, f.Columns));
                var (min, max) = f.Range();
                Assert.True(row.Min == min && row.Max == max, $"{row.File} frame {row.Frame}: range {min}..{max}, expected {row.Min}..{row.Max}");
                Assert.Equal(row.Sum, f.Values.Sum(v => (long)v));
                string sha = Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(f.Values.AsSpan())));
                Assert.True(row.Sha256 == sha, $"{row.File} frame {row.Frame}: stored values differ from pydicom's");
                checkedFrames++;
            }
        }
        output.WriteLine($"{checkedFrames} frames equal to pydicom; {noCodec} compressed files without a codec in this build");
        Assert.True(checkedFrames >= 54, $"only {checkedFrames} frames checked");
    }

    public static TheoryData<string> ReferenceFiles() =>
        new(Directory.GetFiles(Fixtures.PathOf("reference"), "*.gray8.gz").Select(Path.GetFileName).Order(StringComparer.Ordinal)!);

    [Theory]
    [MemberData(nameof(ReferenceFiles))]
    public void Gray8_equals_the_reference_conversion_within_one_level(string reference)
    {
        string rel = reference.Replace(".gray8.gz", ".dcm");
        int cut = rel.IndexOf('_');
        rel = rel[..cut] + "/" + rel[(cut + 1)..];
        var file = DicomFile.Open(Fixtures.PathOf(rel));
        var frame = PixelDecoder.DecodeGray(file);
        var actual = GrayscaleRenderer.ToGray8(frame, file.Dataset, RenderOptions.Reference, out var info);

        byte[] expected;
        using (var z = new GZipStream(File.OpenRead(Fixtures.PathOf("reference/" + reference)), CompressionMode.Decompress))
        using (var ms = new MemoryStream()) { z.CopyTo(ms); expected = ms.ToArray(); }
        Assert.Equal(expected.Length, actual.Length);
        int worst = 0, differing = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            int d = Math.Abs(expected[i] - actual[i]);
            worst = Math.Max(worst, d);
            if (d > 0) differing++;
        }
        output.WriteLine($"{rel}: VOI {info.Voi}, {differing} of {expected.Length} pixels differ, max {worst}");
        Assert.True(worst <= 1, $"{rel}: max difference {worst} grey levels");
        Assert.True(differing <= expected.Length / 100, $"{rel}: {differing} pixels off by one");
    }
}
