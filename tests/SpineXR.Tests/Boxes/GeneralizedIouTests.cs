using SpineXR.Boxes;

namespace SpineXR.Tests.Boxes;

public class GeneralizedIouTests
{
    [Fact]
    public void IdenticalBoxesScoreOne() =>
        Assert.Equal(1.0, GeneralizedIou.Compute(new BoxF(1, 2, 5, 7), new BoxF(1, 2, 5, 7)), 12);

    [Fact]
    public void OverlappingBoxes()
    {
        // intersection 1, union 7, enclosing 3x3 = 9: 1/7 - 2/9
        Assert.Equal(1.0 / 7 - 2.0 / 9, GeneralizedIou.Compute(new BoxF(0, 0, 2, 2), new BoxF(1, 1, 3, 3)), 12);
    }

    [Fact]
    public void DisjointBoxesAreNegativeAndTendToMinusOne()
    {
        // no intersection, union 2, enclosing 3: 0 - 1/3
        Assert.Equal(-1.0 / 3, GeneralizedIou.Compute(new BoxF(0, 0, 1, 1), new BoxF(2, 0, 3, 1)), 12);
        double far = GeneralizedIou.Compute(new BoxF(0, 0, 1, 1), new BoxF(999, 999, 1000, 1000));
        Assert.InRange(far, -1.0, -0.999);
    }

    [Fact]
    public void ContainedBoxEqualsIou()
    {
        // enclosing box = the outer box = union, so GIoU = IoU = 4/16
        Assert.Equal(0.25, GeneralizedIou.Compute(new BoxF(0, 0, 4, 4), new BoxF(1, 1, 3, 3)), 12);
    }

    [Fact]
    public void PairwiseFillsRowMajor()
    {
        BoxF[] a = { new(0, 0, 2, 2), new(0, 0, 1, 1) };
        BoxF[] b = { new(1, 1, 3, 3), new(0, 0, 2, 2), new(2, 0, 3, 1) };
        var r = new double[6];
        GeneralizedIou.Pairwise(a, b, r);
        Assert.Equal(1.0 / 7 - 2.0 / 9, r[0], 12);
        Assert.Equal(1.0, r[1], 12);
        Assert.Equal(-1.0 / 3, r[5], 12);
        Assert.Equal(GeneralizedIou.Compute(a[1], b[1]), r[4]);
    }

    [Fact]
    public void CenterFormRoundTrips()
    {
        var b = new BoxF(10, 20, 50, 100);
        var c = CenterBoxF.FromXyxy(b);
        Assert.Equal(new CenterBoxF(30, 60, 40, 80), c);
        Assert.Equal(b, c.ToXyxy());
    }
}
