using SpineXR.Boxes;
using SpineXR.Evaluation;
using SpineXR.Metrics;

namespace SpineXR.Tests.Evaluation;

public class DecisionAndEnsembleTests
{
    private static DetectorPrediction Box(string id, double score) => new(id, 0, 0, 0, 10, 10, score);

    [Fact]
    public void NormalImagesKeepOnlyConfidentBoxesAbnormalImagesKeepAll()
    {
        DetectorPrediction[] boxes = [Box("n", 0.7), Box("n", 0.4), Box("n", 0.5), Box("a", 0.1), Box("a", 0.9), Box("x", 0.2)];
        var probs = new Dictionary<string, double> { ["n"] = 0.2, ["a"] = 0.28, ["m"] = 0.1 };
        var r = DecisionRule.Apply(boxes, probs, abnormalThreshold: 0.28, keepThreshold: 0.5);
        // "n": 0.2 < 0.28 -> normal -> keep >= 0.5 (0.7, 0.5); "a": 0.28 is not < 0.28 -> abnormal -> keep all; "x": no classifier -> kept, counted.
        Assert.Equal([0.7, 0.5, 0.1, 0.9, 0.2], r.Kept.Select(b => b.Score));
        Assert.Equal(1, r.DroppedBoxes);
        Assert.Equal(2, r.ImagesCalledNormal);
        Assert.Equal(1, r.ImagesWithoutClassifier);
    }

    [Fact]
    public void ClassifierEnsembleAveragesLogitsNotProbabilities()
    {
        var problems = new List<string>();
        var r = Ensembles.Classifiers([
            [new("a", 0.5, 4.0), new("b", 0.5, 0.0)],
            [new("a", 0.5, -2.0), new("c", 0.5, 0.0)],
            [new("a", 0.5, 1.0), new("b", 0.5, 0.0)],
        ], problems);
        Assert.Single(r);
        Assert.Equal(1.0, r[0].Logit!.Value, 12);
        Assert.Equal(1 / (1 + Math.Exp(-1.0)), r[0].AbnormalProb, 12);
        Assert.Single(problems); // b and c are not in every model
        Assert.Contains("2 image(s)", problems[0]);
        // a model without logits contributes logit(p)
        var fromProb = Ensembles.Classifiers([[new("a", 0.8, null)]], []);
        Assert.Equal(Math.Log(4), fromProb[0].Logit!.Value, 9);
        // probabilities are clipped to [1e-6, 1 - 1e-6] first, as the official i_sigmoid
        var clipped = Ensembles.Classifiers([[new("a", 1.0, null)]], []);
        Assert.Equal(Math.Log((1 - 1e-6) / 1e-6), clipped[0].Logit!.Value, 6);
    }

    [Fact]
    public void DetectorEnsembleFusesPerImage()
    {
        var r = Ensembles.Detectors([
            [new DetectorPrediction("i", 0, 0, 0, 10, 10, 0.9), new DetectorPrediction("j", 1, 0, 0, 10, 10, 0.4)],
            [new DetectorPrediction("i", 0, 1, 0, 10, 10, 0.6)],
        ], new WbfOptions());
        Assert.Equal(2, r.Count);
        var i = r.Single(b => b.ImageId == "i");
        Assert.Equal(0.4, i.X, 4);
        Assert.Equal(10, i.W, 4);
        Assert.Equal(0.75, i.Score, 5);
        Assert.Equal(0.2, r.Single(b => b.ImageId == "j").Score, 5);
    }

    [Fact]
    public void EvaluatorsCountUnknownAndMissingImages()
    {
        var gt = new GroundTruthSet([new ImageTruth("a", true, [new TruthBox(0, 0, 0, 10, 10)]), new ImageTruth("b", false, []), new ImageTruth("c", false, [])], []);
        var problems = new List<string>();
        var c = Evaluators.Classifier(gt, [new("a", 0.9, null), new("b", 0.2, null), new("zz", 0.5, null)], new ClassifierEvalOptions { Resamples = 0 }, problems);
        Assert.Equal(1, c.UnknownImages);
        Assert.Equal(1, c.MissingImages);
        Assert.Equal(2, c.Result.NImages);
        Assert.Equal(1.0, c.Result.Auroc);
        Assert.Equal(2, problems.Count);

        problems.Clear();
        var d = Evaluators.Detector(gt, [new DetectorPrediction("a", 0, 0, 0, 10, 10, 0.9), new DetectorPrediction("ghost", 0, 0, 0, 10, 10, 0.9)],
            new DetectorEvalOptions { Resamples = 0, IouThresholds = [0.3] }, problems);
        Assert.Equal(1, d.UnknownImages);
        Assert.Single(problems);
        Assert.Equal(1.0, d.Map50, 12);
        Assert.Equal(1.0, d.MapRequested, 12);
        Assert.Equal(3, d.NImages);
        Assert.Equal(1, d.NTruth);
    }
}
