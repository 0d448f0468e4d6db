using SpineXR.Vision.Detection;
using SpineXR.Vision.Detection.Ops;
using static TorchSharp.torch;

namespace SpineXR.Vision.Tests.Detection.SparseRcnn;

// Expected values: tools/sparse_rcnn_matching_oracle.py (the official HungarianMatcher / SetCriterion formulas in torch + scipy).
public class SparseRcnnCriterionTests
{
    private static readonly float[] Logits = { 2.0f, -1.0f, 0.5f, -3.0f, 1.5f, 0.0f, 0.2f, 0.1f, -0.4f, -2.0f, -2.0f, 3.0f };
    private static readonly float[] Boxes = { 10, 10, 50, 60, 40, 30, 90, 100, 0, 0, 100, 120, 60, 70, 95, 115 };

    private static SetTarget Target() => new(
        tensor(new float[] { 45, 35, 85, 95, 55, 75, 100, 110 }).reshape(2, 4),
        tensor(new long[] { 1, 2 }),
        tensor(new float[] { 100, 120, 100, 120 }));

    public SparseRcnnCriterionTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void CostMatrixMatchesTheOfficialFormula()
    {
        using var scope = NewDisposeScope();
        var t = Target();
        var cost = new SparseRcnnMatcher().CostMatrix(tensor(Logits).reshape(4, 3), tensor(Boxes).reshape(4, 4), t.Labels, t.Boxes, t.ImageSizeXyxy);
        double[] expected = { 6.917291054238968, 10.214891580440838, -2.157318899969187, 3.201713209860013, 4.864965281861211, 6.068858399751397, 4.315866051466993, -4.406660906854885 };
        Assert.Equal(new long[] { 4, 2 }, cost.shape);
        var got = cost.data<float>().ToArray();
        for (int i = 0; i < expected.Length; i++)
            Assert.Equal(expected[i], got[i], 4);
    }

    [Fact]
    public void OneToManyMatchingLetsEachTargetTakeSeveralPredictions()
    {
        using var scope = NewDisposeScope();
        // Costs (rows = predictions): (6.92, 10.21), (-2.16, 3.20), (4.86, 6.07), (4.32, -4.41). Each target twice: the
        // two predictions that lose least by taking target 1 instead of 0 are 3 (-8.72) and 2 (+1.20).
        foreach (int repeats in new[] { 2, 5 }) // 5 is capped at Q / K = 2
        {
            var m = new SparseRcnnMatcher().Match(tensor(Logits).reshape(1, 4, 3), tensor(Boxes).reshape(1, 4, 4), [Target()], repeats);
            Assert.Equal(new long[] { 0, 1, 2, 3 }, m[0].Predictions);
            Assert.Equal(new long[] { 0, 0, 1, 1 }, m[0].Targets);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => new SparseRcnnMatcher().Match(tensor(Logits).reshape(1, 4, 3), tensor(Boxes).reshape(1, 4, 4), [Target()], 0));
    }

    [Fact]
    public void OneToManyLossesAreNormalisedByTheRepeatedTargetCount()
    {
        using var scope = NewDisposeScope();
        var config = SparseRcnnConfig.Tiny(3) with { NumProposals = 4, NumStages = 1 };
        var criterion = new SparseRcnnCriterion(config);
        var logits = tensor(Logits).reshape(1, 1, 4, 3);
        var boxes = tensor(Boxes).reshape(1, 1, 4, 4);
        criterion.TargetRepeats = 2;
        var many = criterion.Forward(logits, boxes, [Target()]);
        // By hand: every prediction matched; L1 over the four matched pairs of image-normalised boxes, divided by 2 x 2.
        var t = Target();
        var byHand = 0.0;
        long[] target = { 0, 0, 1, 1 };
        float[] size = { 100, 120, 100, 120 };
        var tb = t.Boxes.data<float>().ToArray();
        for (int i = 0; i < 4; i++)
            for (int k = 0; k < 4; k++) byHand += Math.Abs(Boxes[4 * i + k] / size[k] - tb[4 * target[i] + k] / size[k]);
        Assert.Equal(config.L1Weight * byHand / 4, many["loss_bbox"].item<float>(), 4);
        criterion.TargetRepeats = 1;
        var one = criterion.Forward(logits, boxes, [Target()]);
        Assert.NotEqual(one["loss_bbox"].item<float>(), many["loss_bbox"].item<float>());
    }

    [Fact]
    public void MatchPicksTheCheapestOneToOneAssignment()
    {
        using var scope = NewDisposeScope();
        var matches = new SparseRcnnMatcher().Match(tensor(Logits).reshape(1, 4, 3), tensor(Boxes).reshape(1, 4, 4), [Target()]);
        Assert.Equal(new long[] { 1, 3 }, matches[0].Predictions);
        Assert.Equal(new long[] { 0, 1 }, matches[0].Targets);
    }

    [Fact]
    public void LossesMatchTheOfficialSetCriterionOnEveryStage()
    {
        using var scope = NewDisposeScope();
        // Two identical stages: deep supervision gives the same terms with the stage suffix.
        var logits = tensor(Logits).reshape(1, 1, 4, 3).expand(2, 1, 4, 3);
        var boxes = tensor(Boxes).reshape(1, 1, 4, 4).expand(2, 1, 4, 4);
        var losses = new SparseRcnnCriterion(new SparseRcnnConfig { NumClasses = 3 }).Forward(logits, boxes, [Target()]);
        Assert.Equal(new[] { "loss_bbox", "loss_bbox_0", "loss_ce", "loss_ce_0", "loss_giou", "loss_giou_0" }, losses.Keys.Order());
        foreach (var suffix in new[] { "", "_0" })
        {
            Assert.Equal(2.068869769529074, losses["loss_ce" + suffix].item<float>(), 4);
            Assert.Equal(0.916666666666667, losses["loss_bbox" + suffix].item<float>(), 4);
            Assert.Equal(0.7273047939714606, losses["loss_giou" + suffix].item<float>(), 4);
        }
    }

    [Fact]
    public void ImageWithoutBoxesIsAllNegativesAndKeepsTheGraph()
    {
        using var scope = NewDisposeScope();
        var logits = tensor(Logits).reshape(1, 1, 4, 3).requires_grad_(true);
        var boxes = tensor(Boxes).reshape(1, 1, 4, 4).requires_grad_(true);
        var empty = new SetTarget(zeros(0, 4), zeros(0, dtype: ScalarType.Int64), tensor(new float[] { 100, 120, 100, 120 }));
        var losses = new SparseRcnnCriterion(new SparseRcnnConfig { NumClasses = 3, DeepSupervision = false }).Forward(logits, boxes, [empty]);
        Assert.Equal(0f, losses["loss_bbox"].item<float>());
        var total = losses.Values.Aggregate((a, b) => a + b);
        total.backward();
        Assert.True(logits.grad!.abs().sum().item<float>() > 0);
        Assert.NotNull(boxes.grad);
    }

    [Fact]
    public void GeneralizedIouTensorMatchesHandValues()
    {
        using var scope = NewDisposeScope();
        var a = tensor(new float[] { 0, 0, 2, 2, 0, 0, 1, 1 }).reshape(2, 4);
        var b = tensor(new float[] { 1, 1, 3, 3, 2, 0, 3, 1, 0, 0, 2, 2 }).reshape(3, 4);
        var g = GeneralizedBoxIou.Pairwise(a, b).data<float>().ToArray();
        Assert.Equal(1.0 / 7 - 2.0 / 9, g[0], 5);
        Assert.Equal(1.0, g[2], 5);
        Assert.Equal(-1.0 / 3, g[4], 5); // (0,0,1,1) vs (2,0,3,1)
        var e = GeneralizedBoxIou.Elementwise(a, b.narrow(0, 0, 2)).data<float>().ToArray();
        Assert.Equal(g[0], e[0], 6);
        Assert.Equal(g[4], e[1], 6);
    }

    [Fact]
    public void BoxFormatRoundTrips()
    {
        using var scope = NewDisposeScope();
        var c = tensor(new float[] { 0.5f, 0.5f, 1, 1, 30, 60, 40, 80 }).reshape(2, 4);
        var x = BoxFormat.CxcywhToXyxy(c);
        Assert.Equal(new float[] { 0, 0, 1, 1, 10, 20, 50, 100 }, x.data<float>().ToArray());
        Assert.Equal(c.data<float>().ToArray(), BoxFormat.XyxyToCxcywh(x).data<float>().ToArray());
    }
}
