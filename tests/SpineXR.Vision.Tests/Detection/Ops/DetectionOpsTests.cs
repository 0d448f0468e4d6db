// Expected values printed by tools/detector_ops_values.py (torchvision 0.14) on the same hand-built inputs.
using SpineXR.Vision.Detection.Ops;
using static TorchSharp.torch;

namespace SpineXR.Vision.Tests.Detection.Ops;

public class DetectionOpsTests
{
    static DetectionOpsTests() => TorchRuntime.EnsureLoaded();

    private static Tensor Boxes() => tensor(new float[]
    {
        10, 10, 50, 50, 12, 12, 52, 48, 100, 100, 140, 150, 11, 9, 49, 51, 105, 98, 141, 149, 0, 0, 5, 5,
    }).view(6, 4);

    private static Tensor Scores() => tensor(new float[] { 0.9f, 0.8f, 0.7f, 0.85f, 0.95f, 0.1f });

    private static void Near(float[] expected, Tensor actual, float tol = 1e-4f)
    {
        var a = actual.contiguous().to(ScalarType.Float32).data<float>().ToArray();
        Assert.Equal(expected.Length, a.Length);
        for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(expected[i] - a[i]) <= tol * Math.Max(1, Math.Abs(expected[i])), $"[{i}] expected {expected[i]}, got {a[i]}");
    }

    [Fact]
    public void NmsKeepsTorchvisionIndicesInScoreOrder()
    {
        Assert.Equal(new long[] { 4, 0, 5 }, TensorNms.Run(Boxes(), Scores(), 0.5).data<long>().ToArray());
        Assert.Equal(new long[] { 4, 0, 1, 2, 5 }, TensorNms.Run(Boxes(), Scores(), 0.9).data<long>().ToArray());
    }

    [Fact]
    public void NmsBreaksScoreTiesByLowerIndexAsTorchvision()
    {
        // torchvision.ops.nms sorts stably: three overlapping boxes of score 1.0 keep [0] in either order
        var b = tensor(new float[] { 0, 0, 10, 10, 1, 1, 11, 11, 0.5f, 0.5f, 10.5f, 10.5f }).view(3, 4);
        Assert.Equal(new long[] { 0 }, TensorNms.Run(b, ones(3), 0.5).data<long>().ToArray());
        Assert.Equal(new long[] { 0 }, TensorNms.Run(b.flip(0), ones(3), 0.5).data<long>().ToArray());
        // Many ties (saturated sigmoids, as RPN objectness of 1.0): an unstable sort keeps other boxes. Greedy over
        // (score descending, index ascending) is the reference.
        manual_seed(5);
        int n = 3000;
        var xy = rand(n, 2) * 400;
        var boxes = cat([xy, xy + rand(n, 2) * 80 + 10], 1);
        var scores = (rand(n) * 3).floor() / 3;
        var bArr = boxes.data<float>().ToArray();
        var sArr = scores.data<float>().ToArray();
        var order = Enumerable.Range(0, n).OrderByDescending(i => sArr[i]).ThenBy(i => i).Select(i => (long)i).ToArray();
        var expected = TensorNms.RunCore(bArr, order, 0.5f);
        Assert.Equal(expected, TensorNms.Run(boxes, scores, 0.5).data<long>().ToArray());
        var classes = (rand(n) * 3).floor().to(ScalarType.Int64);
        var perClass = TensorNms.Batched(boxes, scores, classes, 0.5).data<long>().ToArray();
        var cArr = classes.data<long>().ToArray();
        var expectedPerClass = Enumerable.Range(0, 3)
            .SelectMany(c => TensorNms.RunCore(bArr, order.Where(i => cArr[i] == c).ToArray(), 0.5f))
            .OrderByDescending(i => sArr[i]).ThenBy(i => i).ToArray();
        Assert.Equal(expectedPerClass, perClass);
    }

    [Fact]
    public void BatchedNmsSuppressesOnlyWithinCategory()
    {
        var idxs = tensor(new long[] { 0, 0, 1, 1, 1, 0 });
        Assert.Equal(new long[] { 4, 0, 3, 5 }, TensorNms.Batched(Boxes(), Scores(), idxs, 0.5).data<long>().ToArray());
    }

    [Fact]
    public void BatchedNmsPerClassPathAgreesWithOffsetPath()
    {
        // > 1000 boxes take the per-class path (torchvision's threshold), which must keep what the offset trick keeps
        var g = manual_seed(3);
        var xy = rand(1200, 2) * 300;
        var wh = rand(1200, 2) * 60 + 5;
        var b = cat([xy, xy + wh], 1);
        var s = rand(1200);
        var c = randint(0, 4, [1200], dtype: ScalarType.Int64);
        var big = TensorNms.Batched(b, s, c, 0.5).data<long>().ToArray();
        var parts = new List<long>();
        for (int k = 0; k < 4; k++)
        {
            var idx = (c == k).nonzero().squeeze(1);
            parts.AddRange(idx.index_select(0, TensorNms.Run(b.index_select(0, idx), s.index_select(0, idx), 0.5)).data<long>().ToArray());
        }
        var sArr = s.data<float>().ToArray();
        Assert.Equal(parts.OrderByDescending(i => sArr[i]).ToArray(), big);
    }

    [Fact]
    public void IouMatchesTorchvision()
    {
        var b = Boxes();
        Near([0.9069213f, 0, 0, 0.7816901f, 0, 0, 0, 0.8085809f, 0], TensorBoxOps.Iou(b.narrow(0, 0, 3), b.narrow(0, 3, 3)));
    }

    [Fact]
    public void BoxCoderEncodesAndDecodesLikeTorchvision()
    {
        var coder = new BoxCoder(10, 10, 5, 5);
        var props = tensor(new float[] { 10, 10, 50, 50, 0, 0, 20, 40 }).view(2, 4);
        var gt = tensor(new float[] { 12, 8, 55, 47, 2, 3, 18, 45 }).view(2, 4);
        Near([0.875f, -0.625f, 0.36160353f, -0.12658893f, 0, 1, -1.1157176f, 0.2439506f], coder.Encode(gt, props));
        var rel = tensor(new float[] { 0.1f, -0.2f, 0.3f, -0.1f, 1, 2, 10, -3, 0, 0, 0, 0, -0.5f, 0.5f, 0.2f, 0.1f }).view(2, 8);
        // the 10 in dw is clamped at log(1000/16) after dividing by the weight 5
        Near([9.163267f, 9.596027f, 51.636734f, 48.803974f, -113.78113f, 27.023767f, 181.78113f, 48.976234f,
              0, 0, 20, 40, -1.4081078f, 1.595974f, 19.408108f, 42.404026f], coder.DecodeSingle(rel, props));
    }

    [Fact]
    public void MatcherThresholdsAndLowQualityMatches()
    {
        var q = tensor(new float[] { 0.9f, 0.5f, 0.1f, 0.2f, 0.65f, 0.2f, 0.6f, 0.25f, 0.75f, 0.1f }).view(2, 5);
        Assert.Equal(new long[] { 0, -2, -1, 1, -2 }, new Matcher(0.7, 0.3, true).Match(q).data<long>().ToArray());
        Assert.Equal(new long[] { 0, 1, -1, 1, 0 }, new Matcher(0.5, 0.4, false).Match(q).data<long>().ToArray());
    }

    [Fact]
    public void AnchorsMatchTorchvisionLayout()
    {
        var gen = new AnchorGenerator([[32], [64]], [[0.5, 1, 2], [0.5, 1, 2]]);
        var a = gen.Generate(64, 96, [(16, 24), (8, 12)]);
        Assert.Equal(1440, a.shape[0]);
        Near([-23, -11, 23, 11, -16, -16, 16, 16, -11, -23, 11, 23, -19, -11, 27, 11], a.narrow(0, 0, 4));
        Near([-45, -23, 45, 23, -32, -32, 32, 32, -23, -45, 23, 45], a.narrow(0, 16 * 24 * 3, 3));
        Near([65, 11, 111, 101], a[-1]);
    }

    [Fact]
    public void SamplerRespectsBudgetAndLabels()
    {
        var labels = cat([full(30, 1L, ScalarType.Int64), full(10, 3L, ScalarType.Int64), zeros(500, ScalarType.Int64), full(50, -1L, ScalarType.Int64)]);
        var sampler = new BalancedPositiveNegativeSampler(64, 0.25);
        var (pos, neg) = sampler.Sample([labels], manual_seed(1));
        Assert.Equal(16, pos[0].sum().item<long>());
        Assert.Equal(48, neg[0].sum().item<long>());
        Assert.True((labels.masked_select(pos[0]) >= 1).all().item<bool>());
        Assert.True((labels.masked_select(neg[0]) == 0).all().item<bool>());
        // few positives: all taken, the rest of the budget filled with negatives
        var few = cat([full(3, 2L, ScalarType.Int64), zeros(100, ScalarType.Int64)]);
        var (p2, n2) = sampler.Sample([few]);
        Assert.Equal(3, p2[0].sum().item<long>());
        Assert.Equal(61, n2[0].sum().item<long>());
    }

    private static (Tensor Feat, Tensor Rois) RoiInputs()
    {
        var feat = arange(2 * 2 * 6 * 7, ScalarType.Float32).reshape(2, 2, 6, 7) / 10;
        feat[1] = feat[1].flip(-1) * 0.5;
        var rois = tensor(new float[] { 0, 1, 1.5f, 9, 7, 1, -3, -2, 4, 20, 0, 5.2f, 3.3f, 5.4f, 3.6f, 1, 10, 10, 30, 30 }).view(4, 5);
        return (feat, rois);
    }

    [Fact]
    public void RoIAlignMatchesTorchvision()
    {
        var (feat, rois) = RoiInputs();
        Near([1.1229167f, 1.25625f, 1.3895833f, 2.0854168f, 2.21875f, 2.3520832f, 5.322917f, 5.45625f, 5.5895834f, 6.2854166f, 6.41875f, 6.552083f,
              2.5562501f, 5.098958f, 5.041667f, 1.5625f, 3.1182292f, 3.0895834f, 3.6062498f, 7.1989584f, 7.1416664f, 2.0875001f, 4.168229f, 4.1395836f,
              1.6066666f, 1.6400001f, 1.6733334f, 1.9566668f, 1.9900002f, 2.0233335f, 5.806667f, 5.84f, 5.8733335f, 6.1566668f, 6.19f, 6.223333f,
              0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], RoIAlign.Forward(feat, rois, 2, 3, 0.5, 2, aligned: false));
        Near([0.59583336f, 0.79583335f, 1.2375001f, 1.4375001f, 1.8791667f, 2.0791669f, 4.7958336f, 4.995833f, 5.4374995f, 5.6374998f, 6.079167f, 6.279167f,
              1.5734568f, 4.6891203f, 1.9580247f, 5.8428245f, 0, 0, 2.2734566f, 6.7891207f, 2.6580248f, 7.942823f, 0, 0,
              1.035f, 1.0399998f, 1.07f, 1.0749999f, 1.1049999f, 1.11f, 5.2349997f, 5.24f, 5.2699995f, 5.2749996f, 5.3049994f, 5.31f,
              1.3259258f, 0, 0, 0, 0, 0, 1.7925928f, 0, 0, 0, 0, 0], RoIAlign.Forward(feat, rois, 3, 2, 0.5, 3, aligned: true));
    }

    /// <summary>
    /// The inference path (managed loop, features without gradient) against the training path (tensor gathers) on
    /// random features: two images, 37 channels (SIMD width and remainder), RoIs inside, across the border, outside,
    /// smaller than a pixel; both alignments.
    /// </summary>
    [Fact]
    public void RoIAlignInferenceEqualsTheGradientPath()
    {
        manual_seed(11);
        var feat = randn(2, 37, 13, 17);
        var rng = new Random(3);
        var rows = new List<float>();
        for (int i = 0; i < 40; i++)
        {
            float x1 = (float)(rng.NextDouble() * 50 - 10), y1 = (float)(rng.NextDouble() * 40 - 10);
            float bw = i % 7 == 0 ? 0.3f : (float)(rng.NextDouble() * 30), bh = i % 5 == 0 ? 0.2f : (float)(rng.NextDouble() * 25);
            rows.AddRange([i % 2, x1, y1, x1 + bw, y1 + bh]);
        }
        var rois = tensor(rows.ToArray()).view(40, 5);
        foreach (bool aligned in new[] { false, true })
        {
            var fast = RoIAlign.Forward(feat, rois, 7, 7, 0.5, 2, aligned);
            var withGrad = feat.detach().clone().requires_grad_(true);
            var slow = RoIAlign.Forward(withGrad, rois, 7, 7, 0.5, 2, aligned).detach();
            Assert.Equal(slow.shape, fast.shape);
            float diff = (fast - slow).abs().max().item<float>();
            Assert.True(diff < 1e-5f, $"aligned={aligned}: inference path differs by {diff}");
        }
    }

    [Fact]
    public void RoIAlignPassesGradientsToFeatures()
    {
        var (feat, rois) = RoiInputs();
        feat.requires_grad = true;
        var w = arange(48, ScalarType.Float32).reshape(4, 2, 2, 3) / 10;
        (RoIAlign.Forward(feat, rois, 2, 3, 0.5, 2, aligned: false) * w).sum().backward();
        var grad = feat.grad!;
        // torchvision's roi_align backward on the same weighted sum
        Assert.Equal(54.9f, grad.sum().item<float>(), 3);
        Near([0.71419275f, 0.5253907f, 0.2604166f, 0, 0, 0, 0, 0.4285156f, 0.3152344f, 0.15624997f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
              0.9998698f, 0.73554695f, 0.36458325f, 0, 0, 0, 0, 0.14283854f, 0.10507813f, 0.05208332f, 0, 0, 0, 0, 1.3270833f, 0.9687501f, 0.47916657f, 0, 0, 0, 0],
             grad[1, 1].flatten());
    }

    [Fact]
    public void LevelMapperFollowsFpnEquation()
    {
        var boxes = tensor(new float[] { 0, 0, 10, 10, 0, 0, 224, 224, 0, 0, 112, 111.9f, 0, 0, 500, 600, 0, 0, 447, 449 }).view(5, 4);
        Assert.Equal(new long[] { 0, 2, 0, 3, 2 }, MultiScaleRoIAlign.MapLevels(boxes, 2, 5).data<long>().ToArray());
    }

    [Fact]
    public void TransformScaleAndSizeFollowTorchvision()
    {
        // short side to 800 unless the long side passes 1333
        Assert.Equal((800L, 1066L), GeneralizedRCNNTransform.ResizedSize(480, 640, 800, 1333));
        Assert.Equal((666L, 1333L), GeneralizedRCNNTransform.ResizedSize(1000, 2000, 800, 1333));
        var t = new GeneralizedRCNNTransform([800], 1333);
        var list = t.Batch([zeros(3, 800, 1066), zeros(3, 790, 1100)]);
        Assert.Equal(new long[] { 2, 3, 800, 1120 }, list.Tensors.shape);
    }
}
