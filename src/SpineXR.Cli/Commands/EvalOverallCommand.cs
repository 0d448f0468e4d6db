using SpineXR.Evaluation;
using SpineXR.Metrics;

namespace SpineXR.Cli.Commands;

/// <summary>`spinexr eval overall`: the decision rule (classifier gates low-confidence boxes), then detection metrics.</summary>
public sealed class EvalOverallCommand : ICliCommand
{
    public string Name => "eval overall";
    public string Summary => "apply the decision rule (classifier + detector) and evaluate the kept boxes (the paper's pipeline mAP)";
    public string Help => """
        usage: spinexr eval overall --data DATASET [--split test] --classifier-predictions FILE.csv --detector-predictions FILE.json
                                    [--abnormal-threshold C] [--keep-threshold 0.5] --out DIR
                                    [--iou 0.5 | list | LO:HI] [--resamples 1000] [--seed 1999]

        Decision rule (official eval_overall.py): an image with P(abnormal) < C keeps only boxes scoring >= keep;
        other images keep all boxes. C defaults to the classifier's Youden threshold on this split.
        Images with boxes but no classifier prediction keep their boxes and are reported.
        Writes DIR/metrics.json (detector keys + "decision"), DIR/detections_after_rule.json, plots and DIR/table.txt.
        Exit code 0 all done, 1 done but some inputs had problems, 2 bad usage or nothing evaluable.
        """;

    public int Run(CliArgs args)
    {
        var problems = new List<string>();
        var truth = EvalCommon.Truth(args, problems);
        var cls = ClassifierPredictionsFile.Read(args.Require("classifier-predictions"));
        problems.AddRange(cls.Problems);
        var det = DetectorPredictionsFile.Read(args.Require("detector-predictions"));
        problems.AddRange(det.Problems);
        string outDir = EvalCommon.OutDir(args);
        double keep = args.GetDouble("keep-threshold", 0.5);
        string source = "given";
        double c;
        if (args.Get("abnormal-threshold") != null) c = args.GetDouble("abnormal-threshold", 0.5);
        else
        {
            var cr = Evaluators.Classifier(truth, cls.Items, new ClassifierEvalOptions { Resamples = 0 }, []);
            c = cr.Result.Point.Threshold;
            source = "youden";
            Console.WriteLine($"abnormal threshold c = {c:0.####} (Youden's J of the classifier on this split)");
        }
        var probs = cls.Items.ToDictionary(p => p.ImageId, p => p.AbnormalProb, StringComparer.Ordinal);
        var outcome = DecisionRule.Apply(det.Items, probs, c, keep);
        if (outcome.ImagesWithoutClassifier > 0)
            problems.Add($"{outcome.ImagesWithoutClassifier} image(s) with boxes have no classifier prediction; all their boxes were kept");
        DetectorPredictionsFile.Write(Path.Combine(outDir, "detections_after_rule.json"), outcome.Kept);
        Console.WriteLine($"decision rule: {outcome.ImagesCalledNormal} image(s) called normal, {outcome.DroppedBoxes} of {det.Items.Count} boxes dropped (score < {keep})");

        var options = new DetectorEvalOptions
        {
            IouThresholds = EvalCommon.ParseIous(args.Get("iou")),
            Resamples = EvalCommon.Resamples(args, 1000),
            Seed = EvalCommon.Seed(args),
        };
        var report = Evaluators.Detector(truth, outcome.Kept, options, problems);
        EvalDetectorCommand.Write(outDir, report, w =>
        {
            w.WriteStartObject("decision");
            w.WriteNumber("abnormal_threshold", c);
            w.WriteString("abnormal_threshold_source", source);
            w.WriteNumber("keep_threshold", keep);
            w.WriteNumber("images_called_normal", outcome.ImagesCalledNormal);
            w.WriteNumber("boxes_in", det.Items.Count);
            w.WriteNumber("boxes_dropped", outcome.DroppedBoxes);
            w.WriteNumber("images_without_classifier", outcome.ImagesWithoutClassifier);
            w.WriteEndObject();
        });
        EvalCommon.Report(problems, outDir);
        return problems.Count == 0 ? ExitCodes.Ok : ExitCodes.SomeFailed;
    }
}
