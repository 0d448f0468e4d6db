using SpineXR.Dicom.Codecs;

namespace SpineXR.Dicom.Tests.Codecs;

/// <summary>Every fixture stream decodes to what pydicom + GDCM give (exact for lossless, within a few levels for lossy).</summary>
public class CodecFixtureTests
{
    public static TheoryData<string> AllCases => CodecFixture.Names();

    [Theory]
    [MemberData(nameof(AllCases))]
    public void Decodes_like_pydicom_and_gdcm(string name)
    {
        var c = CodecFixture.All[name];
        var codec = CodecRegistry.Find(c.TransferSyntax);
        Assert.True(codec is not null, $"no codec for {c.TransferSyntax}");
        c.AssertMatches(codec.Decode(c.ReadStream(), c.Format, c.TransferSyntax));
    }
}
