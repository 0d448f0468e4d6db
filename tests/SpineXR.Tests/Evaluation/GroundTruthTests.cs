using SpineXR.Evaluation;

namespace SpineXR.Tests.Evaluation;

public sealed class GroundTruthTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("spinexr-gt-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void ReadsLabelsBoxesAndReportsBadRows()
    {
        string p = Path.Combine(_dir, "test.csv");
        File.WriteAllText(p, """
            study_id,series_id,image_id,rad_id,lesion_type,xmin,ymin,xmax,ymax
            s1,x,b,R1,No finding,,,,
            s2,x,a,R1,Osteophytes,10,20,30,40
            s2,x,a,R2,Spondylolysthesis,1.5,2.5,3.5,4.5
            s3,x,c,R1,Disc space narrowing,10,10,10,30
            s4,x,d,R1,Fracture,1,1,5,5
            s5,x,e,R1,"Other lesions",5,5,,9
            """);
        var gt = GroundTruthSet.Read(p);
        Assert.Equal(["a", "b", "c", "d", "e"], gt.Images.Select(i => i.ImageId)); // ordinal order, as COCOeval sorts ids
        Assert.Equal([true, false, true, true, true], gt.Images.Select(i => i.Abnormal));
        Assert.Equal([new TruthBox(0, 10, 20, 30, 40), new TruthBox(2, 1.5, 2.5, 3.5, 4.5)], gt.Images[0].Boxes);
        Assert.Empty(gt.Images[2].Boxes);
        Assert.Equal(3, gt.Warnings.Count);
        Assert.Contains(gt.Warnings, w => w.Contains("line 5") && w.Contains("zero or negative area"));
        Assert.Contains(gt.Warnings, w => w.Contains("line 7") && w.Contains("without a valid box"));
        Assert.Contains(gt.Warnings, w => w.Contains("'Fracture'"));
        Assert.Equal(2, gt.IndexOf("c"));
        Assert.Equal(-1, gt.IndexOf("zzz"));
    }

    [Fact]
    public void MissingColumnOrSplitIsAClearError()
    {
        string p = Path.Combine(_dir, "bad.csv");
        File.WriteAllText(p, "image_id,lesion_type\na,No finding\n");
        var e = Assert.Throws<InvalidDataException>(() => GroundTruthSet.Read(p));
        Assert.Contains("'xmin'", e.Message);
        Assert.Contains("no annotations for split 'val'", Assert.Throws<FileNotFoundException>(() => GroundTruthSet.ReadSplit(_dir, "val")).Message);
    }
}
