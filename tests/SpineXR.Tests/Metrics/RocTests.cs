using SpineXR.Metrics;

namespace SpineXR.Tests.Metrics;

public class RocTests
{
    public static TheoryData<string> Cases() => new(EvalFixtures.Load("roc_sklearn.json").EnumerateArray().Select(c => c.GetProperty("name").GetString()!));

    [Theory]
    [MemberData(nameof(Cases))]
    public void CurveAurocAndYoudenPointEqualScikitLearn(string name)
    {
        var c = EvalFixtures.Load("roc_sklearn.json").EnumerateArray().Single(x => x.GetProperty("name").GetString() == name);
        double[] s = c.GetProperty("scores").Doubles();
        bool[] y = c.GetProperty("labels").Bools();

        RocCurve dropped = Roc.Curve(s, y);
        AssertClose(c.GetProperty("fpr").Doubles(), dropped.Fpr);
        AssertClose(c.GetProperty("tpr").Doubles(), dropped.Tpr);
        AssertClose(c.GetProperty("thresholds").Doubles(), dropped.Thresholds);
        RocCurve all = Roc.Curve(s, y, dropIntermediate: false);
        AssertClose(c.GetProperty("fpr_all").Doubles(), all.Fpr);
        AssertClose(c.GetProperty("thresholds_all").Doubles(), all.Thresholds);

        Assert.Equal(c.GetProperty("auroc").GetDouble(), Roc.Auroc(s, y), 1e-9);

        var r = ClassifierEvaluation.Evaluate(s, y, new ClassifierEvalOptions { Resamples = 0 });
        Assert.Equal(c.GetProperty("youden_index").GetInt32(), r.PointIndex);
        Assert.Equal(c.GetProperty("youden_threshold").GetDouble(), r.Point.Threshold, 1e-12);
        Assert.Equal(c.GetProperty("sensitivity").GetDouble(), r.Point.Sensitivity, 1e-9);
        Assert.Equal(c.GetProperty("specificity").GetDouble(), r.Point.Specificity, 1e-9);
        Assert.Equal(c.GetProperty("precision").GetDouble(), r.Point.Precision, 1e-9);
        Assert.Equal(c.GetProperty("f1").GetDouble(), r.Point.F1, 1e-9);
        // The plain counts at the Youden threshold agree with the curve reading.
        var plain = BinaryMetrics.AtThreshold(s, y, r.Point.Threshold);
        Assert.Equal(r.Point.F1, plain.F1, 1e-12);
        Assert.Equal(r.Point.Sensitivity, plain.Sensitivity, 1e-12);
    }

    private static void AssertClose(double[] expected, double[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-9, $"index {i}: {expected[i]} vs {actual[i]}");
    }

    [Fact]
    public void FirstThresholdIsMaxPlusOneAsScikitLearn12()
    {
        var c = Roc.Curve([0.1, 0.4, 0.4, 0.8], [false, true, true, false]);
        Assert.Equal([1.8, 0.8, 0.4, 0.1], c.Thresholds);
        Assert.Equal([0, 0.5, 0.5, 1], c.Fpr);
        Assert.Equal([0, 0, 1, 1], c.Tpr);
    }

    [Fact]
    public void AllTiedScoresGiveAreaOneHalf()
    {
        Assert.Equal(0.5, Roc.Auroc([0.3, 0.3, 0.3, 0.3], [true, false, true, false]), 12);
    }

    [Fact]
    public void OneClassOrNaNIsRejectedWithAMessage()
    {
        var e = Assert.Throws<ArgumentException>(() => Roc.Auroc([0.1, 0.2], [true, true]));
        Assert.Contains("one class", e.Message);
        Assert.Throws<ArgumentException>(() => Roc.Curve([0.1, double.NaN], [true, false]));
    }

    [Fact]
    public void OfficialIndexForThresholdIsLastPointStrictlyAbove()
    {
        var c = new RocCurve([0, .2, .5, 1], [0, .5, .8, 1], [1.9, 0.9, 0.5, 0.1]);
        Assert.Equal(1, c.OfficialIndexForThreshold(0.5)); // 0.5 itself is skipped, as bisect_right does
        Assert.Equal(2, c.OfficialIndexForThreshold(0.4));
        Assert.Equal(3, c.OfficialIndexForThreshold(0.0));
        Assert.Equal(3, c.OfficialIndexForThreshold(5.0)); // numpy index -1
    }
}
