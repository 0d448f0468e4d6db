// Shared plumbing of the `spinexr eval` and `spinexr ensemble` commands: option parsing, problem reporting.
using System.Globalization;
using SpineXR.Evaluation;

namespace SpineXR.Cli.Commands;

internal static class EvalCommon
{
    /// <summary>Prints problems to stderr (the first 20 and a count) and also writes them all to DIR/problems.txt.</summary>
    public static void Report(IReadOnlyList<string> problems, string? outDir)
    {
        if (problems.Count == 0) return;
        foreach (string p in problems.Take(20)) Console.Error.WriteLine("spinexr: " + p);
        if (problems.Count > 20) Console.Error.WriteLine($"spinexr: ... and {problems.Count - 20} more");
        Console.Error.WriteLine($"spinexr: {problems.Count} problem(s)" + (outDir != null ? $", all listed in {Path.Combine(outDir, "problems.txt")}" : ""));
        if (outDir != null) SpineXR.IO.AtomicFile.WriteAllText(Path.Combine(outDir, "problems.txt"), string.Join('\n', problems) + "\n");
    }

    public static GroundTruthSet Truth(CliArgs args, List<string> problems)
    {
        string data = args.Require("data");
        string split = args.Get("split") ?? "test";
        if (!Directory.Exists(data)) throw new UsageException($"--data {data}: no such directory");
        var gt = GroundTruthSet.ReadSplit(data, split);
        problems.AddRange(gt.Warnings);
        if (gt.Images.Count == 0) throw new InvalidDataException($"{data}: split '{split}' has no images");
        return gt;
    }

    public static string OutDir(CliArgs args)
    {
        string dir = args.Require("out");
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>IoU thresholds: one value, a list "0.3,0.5", or a range "0.2:0.5" in steps of 0.05 (the official config's linspace).</summary>
    public static double[] ParseIous(string? s)
    {
        if (string.IsNullOrWhiteSpace(s)) return [0.5];
        static double P(string x) => double.TryParse(x.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v > 0 && v <= 1
            ? v : throw new UsageException($"--iou: '{x}' is not an IoU in (0, 1]");
        if (s.Contains(':'))
        {
            var parts = s.Split(':');
            if (parts.Length != 2) throw new UsageException("--iou range is LO:HI");
            double lo = P(parts[0]), hi = P(parts[1]);
            if (hi < lo) throw new UsageException("--iou range LO:HI needs LO <= HI");
            int n = (int)Math.Round((hi - lo) / 0.05) + 1;
            // np.linspace(lo, hi, n): lo + i * step, the last set to hi exactly
            return Enumerable.Range(0, n).Select(i => i == n - 1 ? hi : lo + i * ((hi - lo) / Math.Max(1, n - 1))).ToArray();
        }
        return s.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(P).ToArray();
    }

    public static IReadOnlyList<ClassifierPrediction> ClassifierPredictions(CliArgs args, string option, List<string> problems)
    {
        string? model = args.Get("model");
        string? file = args.Get(option);
        if ((model == null) == (file == null)) throw new UsageException($"give exactly one of --{option} FILE.csv or --model RUN_DIR");
        if (model != null)
        {
            if (!File.Exists(Path.Combine(model, "model.json"))) throw new UsageException($"--model {model}: not a run directory (no model.json)");
            return args.Models.Classify(model, args.Require("data"), args.Get("split") ?? "test");
        }
        var r = ClassifierPredictionsFile.Read(file!);
        problems.AddRange(r.Problems);
        return r.Items;
    }

    public static IReadOnlyList<DetectorPrediction> DetectorPredictions(CliArgs args, string option, List<string> problems)
    {
        string? model = args.Get("model");
        string? file = args.Get(option);
        if ((model == null) == (file == null)) throw new UsageException($"give exactly one of --{option} FILE.json or --model RUN_DIR");
        if (model != null)
        {
            if (!File.Exists(Path.Combine(model, "model.json"))) throw new UsageException($"--model {model}: not a run directory (no model.json)");
            return args.Models.Detect(model, args.Require("data"), args.Get("split") ?? "test");
        }
        var r = DetectorPredictionsFile.Read(file!);
        problems.AddRange(r.Problems);
        return r.Items;
    }

    public static uint Seed(CliArgs args)
    {
        int s = args.GetInt("seed", 1999);
        return s >= 0 ? (uint)s : throw new UsageException("--seed must be >= 0");
    }

    public static int Resamples(CliArgs args, int fallback)
    {
        int n = args.GetInt("resamples", fallback);
        return n >= 0 ? n : throw new UsageException("--resamples must be >= 0");
    }
}
