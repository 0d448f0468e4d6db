using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using SpineXR.Dicom.Codecs;

namespace SpineXR.Dicom.Tests.Codecs;

/// <summary>
/// One case of Fixtures/Codecs/cases.json (made by tools/make_codec_fixtures.py): a first-frame code stream, its
/// pixel format, and the stored values pydicom + GDCM decode it to (the source image for lossless streams).
/// </summary>
public sealed record CodecFixture(
    string Name, string Origin, string TransferSyntax, int Rows, int Columns, int SamplesPerPixel,
    int BitsAllocated, int BitsStored, int PixelRepresentation, string Photometric, int PlanarConfiguration,
    string Stream, string Expected, string ExpectedPhotometric, int MaxDifference,
    int ExpectedRowStep = 1, string? ExpectedSha256 = null)
{
    public static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "Fixtures", "Codecs");

    private static readonly Lazy<Dictionary<string, CodecFixture>> all = new(() =>
    {
        var options = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };
        var cases = JsonSerializer.Deserialize<List<CodecFixture>>(File.ReadAllText(Path.Combine(Folder, "cases.json")), options)!;
        return cases.ToDictionary(c => c.Name);
    });

    public static IReadOnlyDictionary<string, CodecFixture> All => all.Value;

    public static TheoryData<string> Names(Func<CodecFixture, bool>? where = null)
    {
        var data = new TheoryData<string>();
        foreach (var c in All.Values.Where(where ?? (_ => true))) data.Add(c.Name);
        return data;
    }

    [JsonIgnore]
    public PixelFormat Format => new(Rows, Columns, SamplesPerPixel, BitsAllocated, BitsStored, PixelRepresentation, Photometric, PlanarConfiguration);

    public byte[] ReadStream() => File.ReadAllBytes(Path.Combine(Folder, Stream));

    /// <summary>A grayscale Secondary Capture dataset around the stream (one frame, encapsulated).</summary>
    public DicomDataset GrayDataset(string sopInstanceUid) => new DicomDataset()
        .SetString(DicomTags.SOPClassUID, DicomVR.UI, "1.2.840.10008.5.1.4.1.1.7")
        .SetString(DicomTags.SOPInstanceUID, DicomVR.UI, sopInstanceUid)
        .SetInts(DicomTags.SamplesPerPixel, DicomVR.US, 1)
        .SetString(DicomTags.PhotometricInterpretation, DicomVR.CS, Photometric)
        .SetInts(DicomTags.Rows, DicomVR.US, Rows)
        .SetInts(DicomTags.Columns, DicomVR.US, Columns)
        .SetInts(DicomTags.BitsAllocated, DicomVR.US, BitsAllocated)
        .SetInts(DicomTags.BitsStored, DicomVR.US, BitsStored)
        .SetInts(DicomTags.HighBit, DicomVR.US, BitsStored - 1)
        .SetInts(DicomTags.PixelRepresentation, DicomVR.US, PixelRepresentation)
        .Set(EncapsulatedPixelData.Build([ReadStream()]));

    /// <summary>Checks a decode against the expected stored values: exact (or within <see cref="MaxDifference"/>), hash included.</summary>
    public void AssertMatches(DecodedFrame decoded)
    {
        Assert.Equal(ExpectedPhotometric, decoded.Photometric);
        Assert.Equal(Format.FrameBytes, decoded.Data.Length);
        long[] actual = TestImages.Stored(decoded.Data, Format);
        long[] expected = TestImages.Stored(File.ReadAllBytes(Path.Combine(Folder, Expected)), KeptRowsFormat);
        int rowValues = Columns * SamplesPerPixel;
        long worst = 0;
        int worstAt = -1;
        for (int k = 0; k * ExpectedRowStep < Rows; k++)
        {
            for (int i = 0; i < rowValues; i++)
            {
                long d = Math.Abs(actual[k * ExpectedRowStep * rowValues + i] - expected[k * rowValues + i]);
                if (d > worst) { worst = d; worstAt = k * ExpectedRowStep * rowValues + i; }
            }
        }
        Assert.True(worst <= MaxDifference, $"{Name}: sample {worstAt} differs by {worst} (allowed {MaxDifference})");
        if (MaxDifference == 0 && ExpectedSha256 is not null)
        {
            byte[] bytes = new byte[actual.Length * 8];
            Buffer.BlockCopy(actual, 0, bytes, 0, bytes.Length);
            Assert.Equal(ExpectedSha256, Convert.ToHexStringLower(SHA256.HashData(bytes)));
        }
    }

    private PixelFormat KeptRowsFormat => Format with { Rows = (Rows + ExpectedRowStep - 1) / ExpectedRowStep };
}
