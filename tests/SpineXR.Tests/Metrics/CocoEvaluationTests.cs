using SpineXR.Metrics;

namespace SpineXR.Tests.Metrics;

/// <summary>
/// Hand-built COCO AP cases; each expected value is what pycocotools' COCOeval (bbox, maxDets 100, area "all") gives,
/// derived in the comment next to it. Precision is tp / (tp + fp + eps), so "1" is 1 - 2e-16.
/// </summary>
public class CocoEvaluationTests
{
    private static CocoBox B(double x, double y, double w, double h) => new(x, y, w, h);

    private static CocoResult Eval(int images, int classes, CocoTruth[] gt, CocoDetection[] dt, double iou = 0.5, int maxDets = 100) =>
        new CocoEvaluation(images, classes, gt, dt, new CocoEvalOptions { IouThresholds = [iou], MaxDetections = maxDets }).Evaluate();

    [Fact]
    public void DuplicateDetectionIsAFalsePositiveAfterTheMatch()
    {
        // tp = [1, 1], fp = [0, 1]; recall is 1 from the first detection on, so every recall point reads precision 1.
        var r = Eval(1, 1, [new(0, 0, B(0, 0, 10, 10))], [new(0, 0, B(0, 0, 10, 10), 0.9), new(0, 0, B(0, 0, 10, 10), 0.8)]);
        Assert.Equal(1.0, r.Ap[0, 0], 12);
    }

    [Fact]
    public void EqualScoresKeepInputOrderWithinAnImage()
    {
        // FP then TP at the same score: rc = [0, 1], pr = [0, .5] -> monotone .5 everywhere -> AP .5.
        CocoTruth[] gt = [new(0, 0, B(0, 0, 10, 10))];
        var fpFirst = Eval(1, 1, gt, [new(0, 0, B(50, 50, 10, 10), 0.5), new(0, 0, B(0, 0, 10, 10), 0.5)]);
        Assert.Equal(0.5, fpFirst.Ap[0, 0], 12);
        // TP then FP: recall 1 at precision 1 -> AP 1.
        var tpFirst = Eval(1, 1, gt, [new(0, 0, B(0, 0, 10, 10), 0.5), new(0, 0, B(50, 50, 10, 10), 0.5)]);
        Assert.Equal(1.0, tpFirst.Ap[0, 0], 12);
    }

    [Fact]
    public void EqualScoresAcrossImagesFollowImageOrder()
    {
        CocoTruth[] gt = [new(1, 0, B(0, 0, 10, 10))];
        // image 0 holds the FP, image 1 the TP: FP comes first -> .5; swapped -> 1.
        Assert.Equal(0.5, Eval(2, 1, gt, [new(1, 0, B(0, 0, 10, 10), 0.7), new(0, 0, B(0, 0, 10, 10), 0.7)]).Ap[0, 0], 12);
        CocoTruth[] gt0 = [new(0, 0, B(0, 0, 10, 10))];
        Assert.Equal(1.0, Eval(2, 1, gt0, [new(1, 0, B(0, 0, 10, 10), 0.7), new(0, 0, B(0, 0, 10, 10), 0.7)]).Ap[0, 0], 12);
    }

    [Fact]
    public void DetectionOnImageWithoutTruthCountsAsFalsePositive()
    {
        // image 1 has no truth; its 0.95 detection ranks first: rc = [0, 1], pr = [0, .5] -> AP .5.
        var r = Eval(2, 1, [new(0, 0, B(0, 0, 10, 10))], [new(0, 0, B(0, 0, 10, 10), 0.9), new(1, 0, B(0, 0, 10, 10), 0.95)]);
        Assert.Equal(0.5, r.Ap[0, 0], 12);
    }

    [Fact]
    public void ClassWithoutTruthIsLeftOutOfTheMean()
    {
        // class 1 has only a detection: AP NaN (COCO's -1), mAP = AP of class 0 = 1.
        var r = Eval(1, 2, [new(0, 0, B(0, 0, 10, 10))], [new(0, 0, B(0, 0, 10, 10), 0.9), new(0, 1, B(0, 0, 10, 10), 0.8)]);
        Assert.True(double.IsNaN(r.Ap[0, 1]));
        Assert.Equal(1.0, r.MeanAp(0), 12);
        Assert.Equal(0, r.TruthPerClass[1]);
    }

    [Fact]
    public void OnlyTheHundredBestDetectionsPerImageAndClassCount()
    {
        // 100 FPs score above the one TP: with maxDets 100 the TP is cut -> AP 0; with 101 it is the 101st -> AP 1/101.
        var dt = new List<CocoDetection>();
        for (int i = 0; i < 100; i++) dt.Add(new(0, 0, B(200 + i, 200, 10, 10), 0.5 + i * 0.001));
        dt.Add(new(0, 0, B(0, 0, 10, 10), 0.1));
        CocoTruth[] gt = [new(0, 0, B(0, 0, 10, 10))];
        var cut = Eval(1, 1, gt, dt.ToArray());
        Assert.Equal(0.0, cut.Ap[0, 0]);
        Assert.Equal(0.0, cut.Recall[0, 0]);
        var kept = Eval(1, 1, gt, dt.ToArray(), maxDets: 101);
        Assert.Equal(1.0 / 101, kept.Ap[0, 0], 12);
        // the limit is per class: 100 detections of another class do not push the TP out
        var other = dt.Take(100).Select(d => d with { ClassId = 1 }).Append(dt[100]).ToArray();
        Assert.Equal(1.0, Eval(1, 2, gt, other).Ap[0, 0], 12);
    }

    [Fact]
    public void IouExactlyAtTheThresholdMatches()
    {
        CocoTruth[] gt = [new(0, 0, B(0, 0, 10, 10))];
        // IoU = 100 / 200 = 0.5 exactly (no +1 in widths) -> TP.
        Assert.Equal(1.0, Eval(1, 1, gt, [new(0, 0, B(0, 0, 20, 10), 0.9)]).Ap[0, 0], 12);
        // a hair wider: IoU < 0.5 -> FP.
        Assert.Equal(0.0, Eval(1, 1, gt, [new(0, 0, B(0, 0, 20.001, 10), 0.9)]).Ap[0, 0]);
        // threshold 1.0 is capped at 1 - 1e-10, so an identical box still matches.
        Assert.Equal(1.0, Eval(1, 1, gt, [new(0, 0, B(0, 0, 10, 10), 0.9)], iou: 1.0).Ap[0, 0], 12);
        // boxes that only touch along an edge do not overlap.
        Assert.Equal(0.0, CocoBox.Iou(B(10, 0, 10, 10), B(0, 0, 10, 10)));
    }

    [Fact]
    public void GreedyMatchingTakesTheHighestIouUnmatchedTruth()
    {
        // det1 overlaps g1 (IoU .43) and g2 (IoU .82): takes g2. det2 equals g2 (taken); IoU with g1 is .33 -> FP.
        // tp = [1, 0]: recall .5 at precision 1, then no more recall -> 51 of 101 points read 1 -> AP 51/101.
        CocoTruth[] gt = [new(0, 0, B(0, 0, 10, 10)), new(0, 0, B(5, 0, 10, 10))];
        var r = Eval(1, 1, gt, [new(0, 0, B(4, 0, 10, 10), 0.9), new(0, 0, B(5, 0, 10, 10), 0.8)]);
        Assert.Equal(51.0 / 101, r.Ap[0, 0], 12);
    }

    [Fact]
    public void RandomProblemsEqualTheReferenceCocoEval()
    {
        foreach (var c in EvalFixtures.Load("coco_random.json").EnumerateArray())
        {
            int n = c.GetProperty("n_images").GetInt32(), k = c.GetProperty("n_classes").GetInt32();
            var gt = c.GetProperty("truth").EnumerateArray().Select(g =>
            {
                var b = g[2].Doubles();
                return new CocoTruth(g[0].GetInt32(), g[1].GetInt32(), B(b[0], b[1], b[2], b[3]));
            }).ToArray();
            var dt = c.GetProperty("detections").EnumerateArray().Select(d =>
            {
                var b = d[2].Doubles();
                return new CocoDetection(d[0].GetInt32(), d[1].GetInt32(), B(b[0], b[1], b[2], b[3]), d[3].GetDouble());
            }).ToArray();
            double[] thr = c.GetProperty("iou_thresholds").Doubles();
            var r = new CocoEvaluation(n, k, gt, dt, new CocoEvalOptions { IouThresholds = thr }).Evaluate();
            var ap = c.GetProperty("ap");
            for (int t = 0; t < thr.Length; t++)
                for (int j = 0; j < k; j++)
                {
                    var e = ap[t][j];
                    if (e.ValueKind == System.Text.Json.JsonValueKind.Null) Assert.True(double.IsNaN(r.Ap[t, j]));
                    else Assert.True(Math.Abs(e.GetDouble() - r.Ap[t, j]) < 1e-12, $"t={thr[t]} class {j}: {e.GetDouble()} vs {r.Ap[t, j]}");
                }
        }
    }

    [Fact]
    public void MultisetAccumulationEqualsEvaluatingRenamedCopies()
    {
        // Counting image 0 twice must equal a problem where it is duplicated as a separate image placed right after it.
        CocoTruth[] gt = [new(0, 0, B(0, 0, 10, 10)), new(1, 0, B(0, 0, 10, 10))];
        CocoDetection[] dt = [new(0, 0, B(0, 0, 10, 10), 0.6), new(0, 0, B(30, 0, 10, 10), 0.6), new(1, 0, B(1, 0, 10, 10), 0.6), new(1, 0, B(50, 0, 10, 10), 0.9)];
        var ev = new CocoEvaluation(2, 1, gt, dt);
        var twice = ev.Accumulate([2, 1]);
        CocoTruth[] gt3 = [new(0, 0, B(0, 0, 10, 10)), new(1, 0, B(0, 0, 10, 10)), new(2, 0, B(0, 0, 10, 10))];
        CocoDetection[] dt3 = [.. dt.Take(2), .. dt.Take(2).Select(d => d with { Image = 1 }), .. dt.Skip(2).Select(d => d with { Image = 2 })];
        var copies = new CocoEvaluation(3, 1, gt3, dt3).Evaluate();
        Assert.Equal(copies.Ap[0, 0], twice.Ap[0, 0], 14);
    }

    [Fact]
    public void RandomMultisetsEqualExplicitlyDuplicatedImages()
    {
        // For each fixture problem, draw counts 0..3 per image and compare with a problem holding the copies as images.
        var rng = new Random(11);
        foreach (var c in EvalFixtures.Load("coco_random.json").EnumerateArray())
        {
            int n = c.GetProperty("n_images").GetInt32(), k = c.GetProperty("n_classes").GetInt32();
            var gt = c.GetProperty("truth").EnumerateArray().Select(g => { var b = g[2].Doubles(); return new CocoTruth(g[0].GetInt32(), g[1].GetInt32(), B(b[0], b[1], b[2], b[3])); }).ToArray();
            var dt = c.GetProperty("detections").EnumerateArray().Select(d => { var b = d[2].Doubles(); return new CocoDetection(d[0].GetInt32(), d[1].GetInt32(), B(b[0], b[1], b[2], b[3]), d[3].GetDouble()); }).ToArray();
            var counts = Enumerable.Range(0, n).Select(_ => rng.Next(4)).ToArray();
            var opts = new CocoEvalOptions { IouThresholds = c.GetProperty("iou_thresholds").Doubles() };
            var viaCounts = new CocoEvaluation(n, k, gt, dt, opts).Accumulate(counts);
            var newIndex = new List<int>[n];
            int next = 0;
            for (int i = 0; i < n; i++) { newIndex[i] = []; for (int r = 0; r < counts[i]; r++) newIndex[i].Add(next++); }
            var gt2 = gt.SelectMany(g => newIndex[g.Image].Select(j => g with { Image = j })).ToArray();
            var dt2 = dt.SelectMany(d => newIndex[d.Image].Select(j => d with { Image = j })).ToArray();
            var explicitCopies = new CocoEvaluation(Math.Max(next, 1), k, gt2, dt2, opts).Evaluate();
            for (int t = 0; t < opts.IouThresholds.Count; t++)
                for (int j = 0; j < k; j++)
                {
                    double a = viaCounts.Ap[t, j], b = explicitCopies.Ap[t, j];
                    Assert.True(double.IsNaN(a) ? double.IsNaN(b) : Math.Abs(a - b) < 1e-12, $"class {j}: {a} vs {b}");
                }
        }
    }

    [Fact]
    public void FrocCountsFalsePositivesPerImage()
    {
        // 2 images, 2 truths; scores: .9 TP, .8 FP, .7 TP. FP/image: 0 at sens .5, .5 at sens 1.
        CocoTruth[] gt = [new(0, 0, B(0, 0, 10, 10)), new(1, 0, B(0, 0, 10, 10))];
        CocoDetection[] dt = [new(0, 0, B(0, 0, 10, 10), 0.9), new(0, 0, B(40, 0, 10, 10), 0.8), new(1, 0, B(0, 0, 10, 10), 0.7)];
        double[] f = new CocoEvaluation(2, 1, gt, dt).Froc([0.125, 0.25, 0.5, 1]);
        Assert.Equal([0.5, 0.5, 1.0, 1.0], f);
    }

    [Fact]
    public void BootstrapIsSeededAndBracketsTheEstimate()
    {
        var rng = new Random(3);
        var gt = new List<CocoTruth>(); var dt = new List<CocoDetection>();
        for (int im = 0; im < 60; im++)
        {
            gt.Add(new(im, im % 3, B(10, 10, 20, 20)));
            dt.Add(new(im, im % 3, B(10 + rng.Next(8), 10, 20, 20), rng.NextDouble()));
            dt.Add(new(im, rng.Next(3), B(60, 60, 20, 20), rng.NextDouble()));
        }
        var ev = new CocoEvaluation(60, 3, gt.ToArray(), dt.ToArray());
        double map = ev.Evaluate().MeanAp(0);
        var (a, _, _) = ev.BootstrapMap(200);
        var (b, _, _) = ev.BootstrapMap(200);
        Assert.Equal(a[0], b[0]);
        Assert.True(a[0].Lower < map && map < a[0].Upper, $"{a[0]} vs {map}");
    }
}
