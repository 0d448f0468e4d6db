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

    /// <summary>The registry's codec instances are shared by parallel workers: concurrent decodes must not interfere.</summary>
    [Fact]
    public void Concurrent_decodes_give_the_same_results()
    {
        var cases = CodecFixture.All.Values.Where(c => c.MaxDifference == 0).ToList();
        var expected = cases.ToDictionary(c => c.Name, c => Decode(c).Data);
        Parallel.For(0, cases.Count * 4, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            var c = cases[i % cases.Count];
            Assert.Equal(expected[c.Name], Decode(c).Data);
        });

        static DecodedFrame Decode(CodecFixture c) => CodecRegistry.Find(c.TransferSyntax)!.Decode(c.ReadStream(), c.Format, c.TransferSyntax);
    }
}
