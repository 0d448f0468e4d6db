using SpineXR.Evaluation;

namespace SpineXR.Cli.Commands;

/// <summary>`spinexr eval detector`: COCO-style AP@0.5 per class, mAP with a bootstrap CI, FROC.</summary>
public sealed class EvalDetectorCommand : ICliCommand
{
    public string Name => "eval detector";
    public string Summary => "COCO-style AP@0.5 per class and mAP with a bootstrap CI, FROC (the paper's detection metric)";
    public string Help => """
        usage: spinexr eval detector --data DATASET [--split test] (--predictions FILE.json | --model RUN_DIR) --out DIR
                                     [--iou 0.5 | 0.3,0.5 | 0.2:0.5] [--resamples 1000] [--seed 1999] [--max-dets 100]

        AP follows pycocotools' COCOeval (bbox): per image and class the 100 best detections, greedy matching at IoU >= t,
        101-point interpolated precision, classes without ground truth left out of the mean. AP@0.5 is always reported;
        --iou adds thresholds (0.2:0.5 = 0.2, 0.25, ..., 0.5 as the official config) and their mean.
        The mAP interval resamples images (numpy RandomState(seed)); FROC reads sensitivity at 1/8..8 FP per image.
        Writes DIR/metrics.json, DIR/pr_curves.png, DIR/froc.png, DIR/table.txt (and DIR/problems.txt).
        Exit code 0 all done, 1 done but some predictions had problems, 2 bad usage or nothing evaluable.
        """;

    public int Run(CliArgs args)
    {
        var problems = new List<string>();
        var truth = EvalCommon.Truth(args, problems);
        var preds = EvalCommon.DetectorPredictions(args, "predictions", problems);
        string outDir = EvalCommon.OutDir(args);
        var options = new DetectorEvalOptions
        {
            IouThresholds = EvalCommon.ParseIous(args.Get("iou")),
            Resamples = EvalCommon.Resamples(args, 1000),
            Seed = EvalCommon.Seed(args),
            MaxDetections = args.GetInt("max-dets", 100),
        };
        var report = Evaluators.Detector(truth, preds, options, problems);
        Write(outDir, report, null);
        EvalCommon.Report(problems, outDir);
        return problems.Count == 0 ? ExitCodes.Ok : ExitCodes.SomeFailed;
    }

    internal static void Write(string outDir, DetectorEvalReport report, Action<System.Text.Json.Utf8JsonWriter>? extra)
    {
        MetricsReport.WriteDetector(Path.Combine(outDir, "metrics.json"), report, extra);
        Plots.PrecisionRecall(Path.Combine(outDir, "pr_curves.png"), report);
        Plots.Froc(Path.Combine(outDir, "froc.png"), report);
        string table = MetricsReport.DetectorTable("detector", report);
        SpineXR.IO.AtomicFile.WriteAllText(Path.Combine(outDir, "table.txt"), table);
        Console.Write(table);
    }
}
