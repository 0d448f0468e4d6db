using SpineXR.Boxes;
using SpineXR.Data;

namespace SpineXR.Tests.Data;

public class AnnotationFileTests
{
    [Fact]
    public void RoundTripKeepsNoFindingRowsWithoutBoxes()
    {
        using var dir = new TempDir();
        AnnotationRow[] rows =
        [
            new("s1", "se1", "i1", "rad1", "No finding", null),
            new("s1", "se1", "i2", "rad1", "Osteophytes", new BoxF(10.5f, 20, 30.25f, 40)),
            new("s2", "se2", "i3", "rad2", "Surgical implant", new BoxF(1, 2, 3, 4)),
        ];
        AnnotationFile.Write(dir["a.csv"], rows);
        Assert.StartsWith("study_id,series_id,image_id,rad_id,lesion_type,xmin,ymin,xmax,ymax\ns1,se1,i1,rad1,No finding,,,,\n", File.ReadAllText(dir["a.csv"]));
        Assert.Equal(rows, AnnotationFile.Read(dir["a.csv"]));
    }

    [Fact]
    public void BadRowsAreReportedAndSkippedExtraColumnsIgnored()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["a.csv"],
            "image_id,note,study_id,series_id,rad_id,lesion_type,xmin,ymin,xmax,ymax\n" +
            "i1,\"free, text\",s,se,r,Osteophytes,1,2,3,4\n" +
            "i2,,s,se,r,Osteophytes,1,2,,\n" +
            "i3,,s,se,r,Osteophytes,a,2,3,4\n" +
            ",,s,se,r,Osteophytes,1,2,3,4\n");
        var issues = new DatasetIssues();
        var rows = AnnotationFile.Read(dir["a.csv"], issues);
        Assert.Equal(new AnnotationRow("s", "se", "i1", "r", "Osteophytes", new BoxF(1, 2, 3, 4)), Assert.Single(rows));
        Assert.Equal(3, issues.CountOf(DatasetIssueKind.BadRow));
        Assert.Contains(issues.Items, i => i.File.EndsWith("a.csv:3", StringComparison.Ordinal) && i.ImageId == "i2");
    }
}
