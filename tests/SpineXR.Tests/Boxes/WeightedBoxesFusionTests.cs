using SpineXR.Boxes;

namespace SpineXR.Tests.Boxes;

/// <summary>Hand-computed cases of ensemble_boxes.weighted_boxes_fusion semantics (pixel boxes, clipped to the image).</summary>
public class WeightedBoxesFusionTests
{
    private static ScoredBox D(float x1, float y1, float x2, float y2, float s, int c = 0) => new(new BoxF(x1, y1, x2, y2), c, s);

    private static void Near(BoxF e, BoxF a)
    {
        Assert.Equal(e.X1, a.X1, 4); Assert.Equal(e.Y1, a.Y1, 4); Assert.Equal(e.X2, a.X2, 4); Assert.Equal(e.Y2, a.Y2, 4);
    }

    [Fact]
    public void TwoModelsAgreeingFuseIntoTheScoreWeightedMean()
    {
        // IoU = 90 / 110 = .82 > .55. Box = (.9 A + .6 B) / 1.5; score avg = (.9 + .6) / 2 * min(2, 2) / 2 = .75.
        var r = WeightedBoxesFusion.Fuse([[D(0, 0, 10, 10, 0.9f)], [D(1, 0, 11, 10, 0.6f)]], 100, 100);
        Assert.Single(r);
        Near(new BoxF(0.4f, 0, 10.4f, 10), r[0].Box);
        Assert.Equal(0.75f, r[0].Score, 5);
        var max = WeightedBoxesFusion.Fuse([[D(0, 0, 10, 10, 0.9f)], [D(1, 0, 11, 10, 0.6f)]], 100, 100, new WbfOptions { Confidence = WbfConfidence.Max });
        Assert.Equal(0.9f, max[0].Score, 5);
    }

    [Fact]
    public void ModelWeightsScaleScoresAndCoordinates()
    {
        // weights [2, 1]: weighted scores 1.8, .6; x1 = (1.8*0 + .6*1) / 2.4 = .25; score = 2.4/2 * 2 / 3 = .8.
        var r = WeightedBoxesFusion.Fuse([[D(0, 0, 10, 10, 0.9f)], [D(1, 0, 11, 10, 0.6f)]], 100, 100, new WbfOptions { Weights = [2, 1] });
        Near(new BoxF(0.25f, 0, 10.25f, 10), r[0].Box);
        Assert.Equal(0.8f, r[0].Score, 5);
    }

    [Fact]
    public void BoxFoundByOneModelOfTwoHasItsScoreHalved()
    {
        // .9 * min(2, 1) / 2 = .45
        var r = WeightedBoxesFusion.Fuse([[D(0, 0, 10, 10, 0.9f)], []], 100, 100);
        Assert.Equal(0.45f, r[0].Score, 5);
    }

    [Fact]
    public void IouExactlyAtTheThresholdDoesNotMerge()
    {
        // IoU = 100 / 200 = .5, and WBF merges only above the threshold.
        var r = WeightedBoxesFusion.Fuse([[D(0, 0, 10, 10, 0.8f)], [D(0, 0, 20, 10, 0.6f)]], 100, 100, new WbfOptions { IouThreshold = 0.5f });
        Assert.Equal(2, r.Length);
        Assert.Equal(0.4f, r[0].Score, 5);
        Assert.Equal(0.3f, r[1].Score, 5);
    }

    [Fact]
    public void LabelsNeverMergeAndLowScoresAreSkipped()
    {
        var r = WeightedBoxesFusion.Fuse([[D(0, 0, 10, 10, 0.8f, 0), D(0, 0, 10, 10, 0.05f, 2)], [D(0, 0, 10, 10, 0.8f, 1)]], 100, 100,
            new WbfOptions { SkipBoxThreshold = 0.1f });
        Assert.Equal(2, r.Length);
        Assert.Equal([0, 1], r.Select(d => d.ClassId).OrderBy(c => c));
    }

    [Fact]
    public void BoxesAreOrderedAndClippedAndZeroAreaDropped()
    {
        var r = WeightedBoxesFusion.Fuse([[D(30, 20, -5, 5, 0.8f), D(5, 5, 5, 9, 0.9f)]], 25, 100);
        Assert.Single(r);
        Near(new BoxF(0, 5, 25, 20), r[0].Box);
    }

    [Fact]
    public void ClusterIsMatchedAgainstTheFusedBoxNotItsFirstMember()
    {
        // Model 1: A = [0,0,10,10] .9; model 2: B = [2,0,12,10] .9; model 3: C = [4,0,14,10] .9.
        // Against A, C has IoU 60/140 = .43 < .55, but the fused box after A+B is [1,0,11,10]: IoU(C) = 70/130 = .54 < .55.
        // With threshold .5 C joins the fused box: result [2,0,12,10], score .9.
        var r = WeightedBoxesFusion.Fuse([[D(0, 0, 10, 10, 0.9f)], [D(2, 0, 12, 10, 0.9f)], [D(4, 0, 14, 10, 0.9f)]], 100, 100,
            new WbfOptions { IouThreshold = 0.5f });
        Assert.Single(r);
        Near(new BoxF(2, 0, 12, 10), r[0].Box);
        Assert.Equal(0.9f, r[0].Score, 5);
    }

    [Fact]
    public void HorizontalFlipPredictionsAreMirroredBackBeforeFusion()
    {
        // width 100: [70,10,90,30] on the mirrored image is [10,10,30,30]; fused score (.8 + .6) / 2 = .7.
        var r = WeightedBoxesFusion.MergeHorizontalFlip([D(10, 10, 30, 30, 0.8f)], [D(70, 10, 90, 30, 0.6f)], 100, 100);
        Assert.Single(r);
        Near(new BoxF(10, 10, 30, 30), r[0].Box);
        Assert.Equal(0.7f, r[0].Score, 5);
    }

    [Fact]
    public void WrongNumberOfWeightsIsRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => WeightedBoxesFusion.Fuse([[], []], 10, 10, new WbfOptions { Weights = [1] }));
        Assert.Contains("Weights", e.Message);
    }
}
