using SpineXR.Metrics;

namespace SpineXR.Tests.Metrics;

public class BootstrapTests
{
    [Fact]
    public void NumpyRandomReproducesRandomStateRandint()
    {
        var f = EvalFixtures.Load("bootstrap.json");
        var r = new NumpyRandom(1999);
        var got = new int[3000];
        r.FillInts(2078, got);
        Assert.Equal(f.GetProperty("randint_1999_2078").Ints(), got);
        var r7 = new NumpyRandom(7);
        var small = new int[50];
        r7.FillInts(5, small);
        Assert.Equal(f.GetProperty("randint_7_5").Ints(), small);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void BootstrapEqualsTheOfficialEvaluator(int index)
    {
        var c = EvalFixtures.Load("bootstrap.json").GetProperty("cases")[index];
        double[] s = c.GetProperty("scores").Doubles();
        bool[] y = c.GetProperty("labels").Bools();
        int samples = c.GetProperty("samples").GetInt32();
        var r = ClassifierEvaluation.Evaluate(s, y, new ClassifierEvalOptions { Resamples = samples });
        Assert.Equal(c.GetProperty("threshold").GetDouble(), r.Point.Threshold, 12);
        var b = r.Bootstrap!;
        Assert.Equal(c.GetProperty("skipped").GetInt32(), b.SkippedDraws);
        Check(c.GetProperty("auc").Doubles(), b.Auroc);
        Check(c.GetProperty("sensitivity").Doubles(), b.Sensitivity);
        Check(c.GetProperty("specificity").Doubles(), b.Specificity);
        Check(c.GetProperty("precision").Doubles(), b.Precision);
        Check(c.GetProperty("f1").Doubles(), b.F1);
    }

    private static void Check(double[] expected, Interval got)
    {
        Assert.Equal(expected[0], got.Mean, 1e-9);
        Assert.Equal(expected[1], got.Lower, 1e-9);
        Assert.Equal(expected[2], got.Upper, 1e-9);
    }

    [Fact]
    public void PercentileBoundsUseFloorOfTail()
    {
        var v = Enumerable.Range(0, 2000).Select(i => (double)(1999 - i)).ToArray();
        var iv = Percentile.MeanCi(v);
        Assert.Equal(999.5, iv.Mean);
        Assert.Equal(50, iv.Lower);   // floor(0.025 * 2000) = 50
        Assert.Equal(1950, iv.Upper); // values[-50]
    }
}
