using SpineXR.Evaluation;
using SpineXR.Metrics;

namespace SpineXR.Cli.Commands;

/// <summary>`spinexr eval classifier`: AUROC, Youden threshold and bootstrap CIs of normal/abnormal predictions.</summary>
public sealed class EvalClassifierCommand : ICliCommand
{
    public string Name => "eval classifier";
    public string Summary => "AUROC, sensitivity, specificity, F1 with 95% bootstrap CIs (the paper's classifier metrics)";
    public string Help => """
        usage: spinexr eval classifier --data DATASET [--split test] (--predictions FILE.csv | --model RUN_DIR) --out DIR
                                       [--threshold T] [--resamples 10000] [--seed 1999]

        Labels: an image is abnormal when any annotation row names a finding other than "No finding".
        Predictions: CSV image_id, abnormal_prob[, logit]. The threshold is Youden's J on the ROC curve unless --threshold.
        The 95% CIs follow the official evaluator exactly: numpy RandomState(seed).randint(N, size=N) per resample,
        resamples with one class redrawn, threshold fixed from the full set, percentile bounds; 0 resamples disables them.
        Writes DIR/metrics.json, DIR/roc.png, DIR/table.txt (and DIR/problems.txt when inputs had problems).
        Exit code 0 all done, 1 done but some predictions or images had problems, 2 bad usage or nothing evaluable.
        """;

    public int Run(CliArgs args)
    {
        var problems = new List<string>();
        var truth = EvalCommon.Truth(args, problems);
        var preds = EvalCommon.ClassifierPredictions(args, "predictions", problems);
        string outDir = EvalCommon.OutDir(args);
        string? t = args.Get("threshold");
        var options = new ClassifierEvalOptions
        {
            Resamples = EvalCommon.Resamples(args, 10_000),
            Seed = EvalCommon.Seed(args),
            Threshold = t == null ? null : args.GetDouble("threshold", 0.5),
        };
        var report = Evaluators.Classifier(truth, preds, options, problems);
        MetricsReport.WriteClassifier(Path.Combine(outDir, "metrics.json"), report);
        Plots.Roc(Path.Combine(outDir, "roc.png"), report.Result);
        string table = MetricsReport.ClassifierTable("classifier", report);
        SpineXR.IO.AtomicFile.WriteAllText(Path.Combine(outDir, "table.txt"), table);
        Console.Write(table);
        EvalCommon.Report(problems, outDir);
        return problems.Count == 0 ? ExitCodes.Ok : ExitCodes.SomeFailed;
    }
}
