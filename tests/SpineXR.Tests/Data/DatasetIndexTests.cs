using SpineXR.Data;

namespace SpineXR.Tests.Data;

public class DatasetIndexTests(SmallDataset data) : IClassFixture<SmallDataset>
{
    [Fact]
    public void ReadsTheGeneratedDatasetWithoutIssues()
    {
        using var dir = new TempDir();
        string root = data.CopyTo(dir);
        var index = DatasetIndex.Load(root);
        Assert.Equal(0, index.Issues.Count);
        Assert.Equal(data.Result.TrainImages, index.Get("train").Count);
        Assert.Equal(data.Result.TestImages, index.Get("test").Count);
        var all = index.Get("train").Concat(index.Get("test")).ToList();
        Assert.Equal(data.Result.AbnormalImages, all.Count(i => i.IsAbnormal));
        Assert.Equal(data.Result.BoxesPerClass.Sum(), all.Sum(i => i.Boxes.Count));
        Assert.All(all, i => Assert.True(File.Exists(i.Path)));
        Assert.All(all, i => Assert.All(i.Boxes, b => Assert.True(b.Box.X1 >= 0 && b.Box.Y1 >= 0 && b.Box.X2 <= i.Width && b.Box.Y2 <= i.Height)));
        Assert.True(File.Exists(Path.Combine(root, "train_meta.csv")));
    }

    [Fact]
    public void BrokenDicomMissingImageUnknownTypeAndZeroAreaBoxAreReportedAndTheRestLoads()
    {
        using var dir = new TempDir();
        string root = data.CopyTo(dir);
        var clean = DatasetIndex.Load(root, new DatasetOptions { WriteMetaCache = false }).Get("train");
        var victim = clean[0];
        var host = clean[1];
        File.WriteAllBytes(victim.Path, [1, 2, 3, 4, 5, 6, 7, 8]);
        string csv = DatasetIndex.AnnotationPath(root, "train");
        File.AppendAllText(csv,
            $"{host.StudyId},{host.SeriesId},0123456789abcdef0123456789abcdef,rad1,Osteophytes,1,2,30,40\n" +
            $"{host.StudyId},{host.SeriesId},{host.ImageId},rad1,Mystery lesion,5,5,50,50\n" +
            $"{host.StudyId},{host.SeriesId},{host.ImageId},rad1,Disc space narrowing,60,70,60,90\n" +
            $"{host.StudyId},{host.SeriesId},{host.ImageId},rad1,Other lesions,-10,-5,20,{host.Height + 100}\n");

        var index = DatasetIndex.Load(root);
        var issues = index.Issues;
        Assert.Equal(1, issues.CountOf(DatasetIssueKind.UnreadableImage));
        Assert.Contains(issues.Items, i => i.Kind == DatasetIssueKind.UnreadableImage && i.ImageId == victim.ImageId && i.File == victim.Path);
        Assert.Equal(1, issues.CountOf(DatasetIssueKind.MissingImage));
        Assert.Equal(1, issues.CountOf(DatasetIssueKind.UnknownLesionType));
        Assert.Equal(1, issues.CountOf(DatasetIssueKind.ZeroAreaBox));
        Assert.Equal(1, issues.CountOf(DatasetIssueKind.BoxClipped));
        Assert.True(issues.HasErrors);

        var train = index.Get("train");
        Assert.Equal(clean.Count - 1, train.Count);
        Assert.DoesNotContain(train, i => i.ImageId == victim.ImageId);
        var h = train.Single(i => i.ImageId == host.ImageId);
        Assert.True(h.IsAbnormal);
        Assert.Contains("Mystery lesion", h.Findings);
        Assert.Equal(1, index.FindingCounts["Mystery lesion"]);
        Assert.Equal(host.Boxes.Count + 1, h.Boxes.Count); // only the clipped box was added
        var clipped = h.Boxes[^1];
        Assert.Equal(6, clipped.ClassId);
        Assert.Equal(new SpineXR.Boxes.BoxF(0, 0, 20, h.Height), clipped.Box);
        Assert.Equal(index.Get("test").Count, DatasetIndex.Load(data.Root).Get("test").Count);
    }

    [Fact]
    public void MissingColumnSkipsThatFileAndNamesTheColumn()
    {
        using var dir = new TempDir();
        string root = data.CopyTo(dir);
        string csv = DatasetIndex.AnnotationPath(root, "test");
        var lines = File.ReadAllLines(csv).Select(l => string.Join(',', l.Split(',')[..8]));
        File.WriteAllLines(csv, lines);
        var index = DatasetIndex.Load(root);
        var issue = Assert.Single(index.Issues.Items);
        Assert.Equal(DatasetIssueKind.MissingColumn, issue.Kind);
        Assert.Contains("'ymax'", issue.Reason);
        Assert.Contains("test.csv", issue.Reason);
        Assert.Empty(index.Get("test"));
        Assert.Equal(data.Result.TrainImages, index.Get("train").Count);
    }

    [Fact]
    public void HeaderCacheIsReusedAndRefreshedWhenAFileChanges()
    {
        using var dir = new TempDir();
        string root = data.CopyTo(dir);
        DatasetIndex.Load(root);
        int calls = 0;
        var counting = new DatasetOptions { HeaderReader = p => { Interlocked.Increment(ref calls); return DicomImageMeta.Read(p); } };
        var again = DatasetIndex.Load(root, counting);
        Assert.Equal(0, calls);
        Assert.Equal(0, again.Issues.Count);
        var first = again.Get("train")[0];
        File.AppendAllText(first.Path, "\0\0"); // still a valid file, new size
        var third = DatasetIndex.Load(root, counting);
        Assert.Equal(1, calls);
        Assert.Equal(first.Width, third.Get("train")[0].Width);
    }

    [Fact]
    public void ValidationSplitIsByStudyDeterministicAndSized()
    {
        var images = Enumerable.Range(0, 200).Select(i => new DatasetImage($"img{i}", $"study{i / 3}", "se", "train", "p", 10, 10, [], [])).ToList();
        var (train, val) = DatasetIndex.SplitByStudy(images, 0.2, seed: 7);
        var trainStudies = train.Select(i => i.StudyId).ToHashSet();
        var valStudies = val.Select(i => i.StudyId).ToHashSet();
        Assert.Empty(trainStudies.Intersect(valStudies));
        Assert.Equal(200, train.Count + val.Count);
        Assert.Equal(14, valStudies.Count); // ceil(0.2 x 67)
        var (_, val2) = DatasetIndex.SplitByStudy(images, 0.2, seed: 7);
        Assert.Equal(val.Select(i => i.ImageId), val2.Select(i => i.ImageId));
        var (_, val3) = DatasetIndex.SplitByStudy(images, 0.2, seed: 8);
        Assert.NotEqual(valStudies, val3.Select(i => i.StudyId).ToHashSet());
        Assert.Throws<ArgumentException>(() => DatasetIndex.SplitByStudy(images, 1.5, 1));
    }
}
