using SpineXR.Data;
using SpineXR.Dicom;
using SpineXR.Dicom.Imaging;
using SpineXR.Synthesis;
using SpineXR.Tests.Data;

namespace SpineXR.Tests.Synthesis;

public class SyntheticDatasetTests(SmallDataset data) : IClassFixture<SmallDataset>
{
    [Fact]
    public void SameSeedGivesTheSameBytesWhateverTheWorkerCount()
    {
        using var dir = new TempDir();
        SyntheticDataset.Generate(dir["a"], SmallDataset.Options with { Workers = 1 });
        var files = Directory.EnumerateFiles(data.Root, "*", SearchOption.AllDirectories)
            .Where(f => !f.EndsWith("_meta.csv", StringComparison.Ordinal) && !f.Contains("/.cache/")).Select(f => Path.GetRelativePath(data.Root, f)).Order().ToList();
        var again = Directory.EnumerateFiles(dir["a"], "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(dir["a"], f)).Order().ToList();
        Assert.Equal(files, again);
        Assert.Contains(files, f => f.EndsWith(".dicom", StringComparison.Ordinal));
        foreach (var f in files)
            Assert.True(File.ReadAllBytes(Path.Combine(data.Root, f)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(dir["a"], f))), f);

        var other = SyntheticDataset.PlanStudy(SmallDataset.Options with { Seed = 12 }, 0, false);
        Assert.NotEqual(SyntheticDataset.PlanStudy(SmallDataset.Options, 0, false)[0].ImageId, other[0].ImageId);
    }

    [Fact]
    public void SplitIsByStudyWithTheRequestedFraction()
    {
        var o = new SynthOptions { Studies = 50, Seed = 3 };
        var test = SyntheticDataset.TestStudies(o);
        Assert.Equal(10, test.Count);
        var train = DatasetIndex.Load(data.Root).Get("train").Select(i => i.StudyId).ToHashSet();
        var testIds = DatasetIndex.Load(data.Root).Get("test").Select(i => i.StudyId).ToHashSet();
        Assert.Empty(train.Intersect(testIds));
        Assert.Equal(2, testIds.Count); // round(0.34 x 6)
    }

    [Fact]
    public void FilesAreValidDicomWhosePixelsAndUidsMatchThePlan()
    {
        var index = DatasetIndex.Load(data.Root);
        var o = SmallDataset.Options;
        var test = SyntheticDataset.TestStudies(o);
        var planned = Enumerable.Range(0, o.Studies).SelectMany(s => SyntheticDataset.PlanStudy(o, s, test.Contains(s))).ToDictionary(i => i.ImageId);
        var syntaxes = new HashSet<string>();
        var photometrics = new HashSet<string>();
        foreach (var im in index.Get("train").Concat(index.Get("test")))
        {
            var plan = planned[im.ImageId];
            var file = DicomFile.Open(im.Path);
            var ds = file.Dataset;
            Assert.Equal(SynthIds.Uid(im.ImageId), ds.GetString(DicomTags.SOPInstanceUID));
            Assert.Equal(SynthIds.Uid(im.StudyId), ds.GetString(DicomTags.StudyInstanceUID));
            Assert.Equal(SynthIds.Uid(im.SeriesId), ds.GetString(DicomTags.SeriesInstanceUID));
            Assert.Equal(im.ImageId, Path.GetFileNameWithoutExtension(im.Path));
            Assert.Equal(12, ds.GetIntOrDefault(DicomTags.BitsStored, 0));
            Assert.Equal(16, ds.GetIntOrDefault(DicomTags.BitsAllocated, 0));
            Assert.True(ds.TryGetDouble(DicomTags.WindowWidth, out double ww) && ww > 0);
            Assert.Contains(ds.GetString(DicomTags.Modality), new[] { "CR", "DX" });
            Assert.Contains(ds.GetString(DicomTags.BodyPartExamined), new[] { "LSPINE", "CSPINE" });
            syntaxes.Add(file.TransferSyntax.Uid);
            photometrics.Add(ds.GetString(DicomTags.PhotometricInterpretation)!);
            var frame = PixelDecoder.DecodeGray(file);
            var expected = SyntheticDataset.Render(plan).Stored;
            Assert.Equal(expected.Length, frame.Values.Length);
            for (int i = 0; i < expected.Length; i++)
                if (expected[i] != frame.Values[i]) Assert.Fail($"{im.ImageId}: pixel {i} is {frame.Values[i]}, written {expected[i]}");
        }
        Assert.Contains(TransferSyntax.Jpeg2000LosslessUid, syntaxes);
    }

    [Fact]
    public void IdsAreHexHashesWhoseUidsAreValidAndReversible()
    {
        string hex = SynthIds.Hex(1, "image", 0);
        Assert.Matches("^[0-9a-f]{32}$", hex);
        string uid = SynthIds.Uid(hex);
        Assert.True(uid.Length <= 64);
        Assert.Matches(@"^2\.25\.[1-9][0-9]*$", uid);
        Assert.Equal(hex, SynthIds.HexFromUid(uid));
        Assert.Equal("00000000000000000000000000000001", SynthIds.HexFromUid("2.25.1"));
        Assert.Null(SynthIds.HexFromUid("1.2.3"));
    }
}
