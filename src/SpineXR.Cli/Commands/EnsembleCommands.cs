using System.Globalization;
using SpineXR.Boxes;
using SpineXR.Evaluation;

namespace SpineXR.Cli.Commands;

/// <summary>`spinexr ensemble classifier`: mean of the models' logits, as the official ensemble_classifier.py.</summary>
public sealed class EnsembleClassifierCommand : ICliCommand
{
    public string Name => "ensemble classifier";
    public string Summary => "combine classifier predictions by the mean of their logits";
    public string Help => """
        usage: spinexr ensemble classifier (FILE.csv | RUN_DIR) [...] --out FILE.csv [--data DATASET [--split test]]

        Each input is a classifier predictions CSV (image_id, abnormal_prob[, logit]) or a classifier run directory
        (model.json + weights), which is run on the --split of --data first. A CSV without a logit column contributes
        logit(p). Output: image_id, abnormal_prob = sigmoid(mean logit), logit = mean logit.
        Images missing from some input are left out and reported (exit code 1).
        """;

    public int Run(CliArgs args)
    {
        if (args.Positionals.Count < 1) throw new UsageException("give one or more predictions CSV files");
        string output = args.Require("out");
        var problems = new List<string>();
        var models = new List<IReadOnlyList<ClassifierPrediction>>();
        foreach (string f in args.Positionals)
        {
            if (EnsembleInputs.IsRunDirectory(f))
            {
                models.Add(EnsembleInputs.RunOnSplit(args.Models.Classify, f, args));
                continue;
            }
            var r = ClassifierPredictionsFile.Read(f);
            problems.AddRange(r.Problems);
            models.Add(r.Items);
        }
        var result = Ensembles.Classifiers(models, problems);
        ClassifierPredictionsFile.Write(output, result);
        Console.WriteLine($"{result.Count} images, {models.Count} models -> {output}");
        EvalCommon.Report(problems, null);
        return problems.Count == 0 ? ExitCodes.Ok : ExitCodes.SomeFailed;
    }
}

/// <summary>`spinexr ensemble detector`: Weighted Boxes Fusion of several detectors' predictions.</summary>
public sealed class EnsembleDetectorCommand : ICliCommand
{
    public string Name => "ensemble detector";
    public string Summary => "fuse detector predictions with Weighted Boxes Fusion";
    public string Help => """
        usage: spinexr ensemble detector (FILE.json | RUN_DIR) [...] --out FILE.json [--data DATASET [--split test]]
                                         [--iou-thr 0.55] [--skip-box-thr 0] [--conf-type avg|max] [--weights 1,1,...]

        Each input is a detector predictions JSON or a detector run directory (model.json + weights), which is run on
        the --split of --data first. Per image and class, boxes of all inputs are fused by WBF with the semantics of
        ensemble_boxes.weighted_boxes_fusion (defaults as there). Coordinates stay in image pixels (clipped at 0).
        """;

    public int Run(CliArgs args)
    {
        if (args.Positionals.Count < 1) throw new UsageException("give one or more detector predictions JSON files");
        string output = args.Require("out");
        var problems = new List<string>();
        var models = new List<IReadOnlyList<DetectorPrediction>>();
        foreach (string f in args.Positionals)
        {
            if (EnsembleInputs.IsRunDirectory(f))
            {
                models.Add(EnsembleInputs.RunOnSplit(args.Models.Detect, f, args));
                continue;
            }
            var r = DetectorPredictionsFile.Read(f);
            problems.AddRange(r.Problems);
            models.Add(r.Items);
        }
        string conf = args.Get("conf-type") ?? "avg";
        IReadOnlyList<float>? weights = null;
        if (args.Get("weights") is string ws)
        {
            weights = ws.Split(',').Select(x => float.TryParse(x, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) && v > 0
                ? v : throw new UsageException($"--weights: '{x}' is not a positive number")).ToList();
            if (weights.Count != models.Count) throw new UsageException($"--weights has {weights.Count} values for {models.Count} files");
        }
        var options = new WbfOptions
        {
            IouThreshold = (float)args.GetDouble("iou-thr", 0.55),
            SkipBoxThreshold = (float)args.GetDouble("skip-box-thr", 0.0),
            Confidence = conf switch { "avg" => WbfConfidence.Avg, "max" => WbfConfidence.Max, _ => throw new UsageException("--conf-type is avg or max") },
            Weights = weights,
        };
        var result = Ensembles.Detectors(models, options);
        DetectorPredictionsFile.Write(output, result);
        Console.WriteLine($"{result.Count} fused boxes from {models.Sum(m => m.Count)} boxes of {models.Count} models -> {output}");
        EvalCommon.Report(problems, null);
        return problems.Count == 0 ? ExitCodes.Ok : ExitCodes.SomeFailed;
    }
}

/// <summary>Run directories as ensemble inputs: the model is run on a dataset split through <see cref="CliArgs.Models"/>.</summary>
internal static class EnsembleInputs
{
    public static bool IsRunDirectory(string path) => Directory.Exists(path) && File.Exists(Path.Combine(path, "model.json"));

    public static IReadOnlyList<T> RunOnSplit<T>(Func<string, string, string, IReadOnlyList<T>> predictor, string runDir, CliArgs args)
    {
        string data = args.Get("data") ?? throw new UsageException($"{runDir} is a run directory: give --data DATASET to run it on");
        string split = args.Get("split") ?? "test";
        Console.Error.WriteLine($"spinexr: running {runDir} on the {split} split of {data}");
        return predictor(runDir, data, split);
    }
}
