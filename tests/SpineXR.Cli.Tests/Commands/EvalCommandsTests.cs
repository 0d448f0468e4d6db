using System.Globalization;
using System.Text;
using System.Text.Json;
using SpineXR.Cli;
using SpineXR.Evaluation;

namespace SpineXR.Cli.Tests.Commands;

/// <summary>End-to-end runs of `spinexr eval` and `spinexr ensemble` on a small generated dataset.</summary>
public sealed class EvalCommandsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("spinexr-evalcmd-").FullName;
    private string Data => Path.Combine(_dir, "ds");

    public EvalCommandsTests()
    {
        var rng = new Random(5);
        var ann = new StringBuilder("study_id,series_id,image_id,rad_id,lesion_type,xmin,ymin,xmax,ymax\n");
        var cls = new StringBuilder("image_id,abnormal_prob\n");
        var det = new List<string>();
        string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        for (int i = 0; i < 40; i++)
        {
            string id = $"im{i:D3}";
            bool abnormal = i % 2 == 0;
            if (!abnormal) ann.Append($"s{i},se,{id},R1,No finding,,,,\n");
            else
            {
                double x = 10 * i, y = 20;
                ann.Append($"s{i},se,{id},R1,Osteophytes,{F(x)},{F(y)},{F(x + 50)},{F(y + 40)}\n");
                if (i % 4 == 0) det.Add($$"""{"image_id":"{{id}}","category":"Osteophytes","category_id":0,"bbox":[{{F(x + 2)}},{{F(y)}},50,40],"score":0.8}""");
            }
            det.Add($$"""{"image_id":"{{id}}","category_id":3,"bbox":[500,500,30,30],"score":{{F(0.1 + rng.NextDouble() * 0.35)}}}""");
            double p = Math.Clamp((abnormal ? 0.65 : 0.35) + (rng.NextDouble() - 0.5) * 0.5, 0, 1);
            cls.Append($"{id},{F(p)}\n");
        }
        Directory.CreateDirectory(Path.Combine(Data, "annotations"));
        File.WriteAllText(Path.Combine(Data, "annotations", "test.csv"), ann.ToString());
        File.WriteAllText(Path.Combine(_dir, "cls.csv"), cls.ToString());
        File.WriteAllText(Path.Combine(_dir, "det.json"), "[" + string.Join(",\n", det) + "]");
    }

    public void Dispose() => Directory.Delete(_dir, true);

    private string P(string name) => Path.Combine(_dir, name);

    [Fact]
    public void EvalClassifierWritesMetricsWithDesignKeysAndPlots()
    {
        int rc = Program.Run(["eval", "classifier", "--data", Data, "--predictions", P("cls.csv"), "--out", P("c"), "--resamples", "200"]);
        Assert.Equal(ExitCodes.Ok, rc);
        using var m = JsonDocument.Parse(File.ReadAllText(P("c/metrics.json")));
        var r = m.RootElement;
        foreach (string k in new[] { "auroc", "threshold", "sensitivity", "specificity", "f1", "precision" })
        {
            double v = r.GetProperty(k).GetDouble();
            Assert.InRange(v, 0, 1);
            if (k != "threshold") Assert.Equal(2, r.GetProperty(k + "_ci").GetArrayLength());
        }
        Assert.Equal(2, r.GetProperty("auroc_ci").GetArrayLength());
        Assert.Equal(40, r.GetProperty("n_images").GetInt32());
        Assert.True(new FileInfo(P("c/roc.png")).Length > 1000);
    }

    [Fact]
    public void EvalDetectorScoresTheMatchedBoxesAndAcceptsAnIouRange()
    {
        int rc = Program.Run(["eval", "detector", "--data", Data, "--predictions", P("det.json"), "--out", P("d"), "--iou", "0.2:0.5", "--resamples", "50"]);
        Assert.Equal(ExitCodes.Ok, rc);
        using var m = JsonDocument.Parse(File.ReadAllText(P("d/metrics.json")));
        var r = m.RootElement;
        // 20 Osteophytes boxes, 10 found at IoU .92 with score .8: precision 1 up to recall .5 = 51 of 101 recall points;
        // the class-3 boxes have no truth (left out of the mean).
        Assert.Equal(51.0 / 101, r.GetProperty("ap50").GetProperty("Osteophytes").GetDouble(), 9);
        Assert.Equal(JsonValueKind.Null, r.GetProperty("ap50").GetProperty("Foraminal stenosis").ValueKind);
        Assert.Equal(51.0 / 101, r.GetProperty("map50").GetDouble(), 9);
        Assert.Equal(7, r.GetProperty("iou_thresholds").GetArrayLength());
        Assert.Equal(20, r.GetProperty("n_boxes").GetInt32());
        Assert.True(File.Exists(P("d/pr_curves.png")) && File.Exists(P("d/froc.png")));
    }

    [Fact]
    public void EvalOverallAppliesTheDecisionRule()
    {
        int rc = Program.Run(["eval", "overall", "--data", Data, "--classifier-predictions", P("cls.csv"), "--detector-predictions", P("det.json"),
            "--abnormal-threshold", "1.01", "--keep-threshold", "0.5", "--out", P("o"), "--resamples", "0"]);
        Assert.Equal(ExitCodes.Ok, rc);
        using var m = JsonDocument.Parse(File.ReadAllText(P("o/metrics.json")));
        var d = m.RootElement.GetProperty("decision");
        // every image is called normal (p < 1.01): only the 0.8 boxes survive -> the 10 true positives and nothing else.
        Assert.Equal(40, d.GetProperty("images_called_normal").GetInt32());
        Assert.Equal(40, d.GetProperty("boxes_dropped").GetInt32());
        Assert.Equal(51.0 / 101, m.RootElement.GetProperty("map50").GetDouble(), 9);
        using var kept = JsonDocument.Parse(File.ReadAllText(P("o/detections_after_rule.json")));
        Assert.Equal(10, kept.RootElement.GetArrayLength());
    }

    [Fact]
    public void BadPredictionsAreReportedAndExitCodeIsOne()
    {
        File.WriteAllText(P("bad.csv"), "image_id,abnormal_prob\nim000,0.9\nim001,NaN\nghost,0.5\n" +
            string.Join("", Enumerable.Range(2, 38).Select(i => $"im{i:D3},{(i % 2 == 0 ? 0.8 : 0.2)}\n")));
        int rc = Program.Run(["eval", "classifier", "--data", Data, "--predictions", P("bad.csv"), "--out", P("b"), "--resamples", "0"]);
        Assert.Equal(ExitCodes.SomeFailed, rc);
        string problems = File.ReadAllText(P("b/problems.txt"));
        Assert.Contains("NaN", problems);
        Assert.Contains("ghost", problems);
        Assert.Contains("1 of 40 images have no prediction", problems);
    }

    [Fact]
    public void MissingInputsAreUsageErrors()
    {
        Assert.Throws<UsageException>(() => Program.Run(["eval", "classifier", "--data", Data, "--out", P("x")]));
        Assert.Throws<UsageException>(() => Program.Run(["eval", "detector", "--data", Data, "--model", P("run"), "--out", P("x")]));
        Assert.Throws<UsageException>(() => Program.Run(["eval", "detector", "--data", Data, "--predictions", P("det.json"), "--out", P("x"), "--iou", "1.5"]));
    }

    [Fact]
    public void IouRangeIsNumpyLinspaceAsTheOfficialConfig()
    {
        // np.linspace(0.2, 0.5, 7): 0.45 comes out as 0.44999999999999996, and AP can hinge on it.
        Assert.Equal([0.2, 0.25, 0.3, 0.35, 0.4, 0.44999999999999996, 0.5], SpineXR.Cli.Commands.EvalCommon.ParseIous("0.2:0.5"));
        Assert.Equal([0.3, 0.5], SpineXR.Cli.Commands.EvalCommon.ParseIous("0.3,0.5"));
        Assert.Equal([0.5], SpineXR.Cli.Commands.EvalCommon.ParseIous(null));
    }

    [Fact]
    public void EnsembleCommandsWritePredictionFiles()
    {
        Assert.Equal(ExitCodes.Ok, Program.Run(["ensemble", "classifier", P("cls.csv"), P("cls.csv"), "--out", P("ens.csv")]));
        Assert.StartsWith("image_id,abnormal_prob,logit", File.ReadAllText(P("ens.csv")));
        Assert.Equal(ExitCodes.Ok, Program.Run(["ensemble", "detector", P("det.json"), P("det.json"), "--out", P("ens.json"), "--conf-type", "max"]));
        using var j = JsonDocument.Parse(File.ReadAllText(P("ens.json")));
        Assert.Equal(50, j.RootElement.GetArrayLength()); // identical inputs fuse one to one
    }

    [Fact]
    public void EnsembleRunsARunDirectoryOnTheSplit()
    {
        // A run directory is run on --data/--split through the injected ISplitPredictor; a stand-in gives logit 2 everywhere.
        string run = P("fake-run");
        Directory.CreateDirectory(run);
        File.WriteAllText(Path.Combine(run, "model.json"), "{}");
        var models = new StandInModels(run);
        Assert.Throws<UsageException>(() => Program.Run(["ensemble", "classifier", run, P("cls.csv"), "--out", P("e.csv")], new CliServices { Models = models }));
        Assert.Equal(ExitCodes.Ok, Program.Run(["ensemble", "classifier", run, P("cls.csv"), "--data", Data, "--out", P("e.csv")], new CliServices { Models = models }));
        Assert.Equal("test", models.SeenSplit);
        var cls = File.ReadAllLines(P("cls.csv")).First(l => l.StartsWith("im007,", StringComparison.Ordinal));
        double p7 = double.Parse(cls.Split(',')[1], CultureInfo.InvariantCulture);
        double expected = (2.0 + Math.Log(p7 / (1 - p7))) / 2;
        var row = File.ReadAllLines(P("e.csv")).First(l => l.StartsWith("im007,", StringComparison.Ordinal)).Split(',');
        Assert.Equal(expected, double.Parse(row[2], CultureInfo.InvariantCulture), 6);
    }

    /// <summary>A stand-in for one run directory: logit 2 on every image; other run directories go to the real models.</summary>
    private sealed class StandInModels(string run) : ISplitPredictor
    {
        private readonly VisionSplitPredictor _real = new();
        public string? SeenSplit { get; private set; }

        public IReadOnlyList<ClassifierPrediction> Classify(string runDir, string dataset, string split)
        {
            if (runDir != run) return _real.Classify(runDir, dataset, split);
            SeenSplit = split;
            return Enumerable.Range(0, 40).Select(i => new ClassifierPrediction($"im{i:D3}", 1 / (1 + Math.Exp(-2)), 2.0)).ToList();
        }

        public IReadOnlyList<DetectorPrediction> Detect(string runDir, string dataset, string split) => _real.Detect(runDir, dataset, split);
    }
}
