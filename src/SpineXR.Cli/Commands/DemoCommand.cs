using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using SpineXR.IO;
using SpineXR.Reports;
using SpineXR.Vision.Detection;
using SpineXR.Vision.Configuration;

namespace SpineXR.Cli.Commands;

/// <summary>
/// `spinexr demo`: the main job on the embedded default data. It runs the same commands a user would, in-process,
/// in order: data synth, train classifier, train detector, predict, eval classifier|detector|overall; then writes
/// summary.json and report/index.html. Every step's outputs stay in DIR for inspection.
/// </summary>
public sealed class DemoCommand : ICliCommand
{
    public string Name => "demo";
    public string Summary => "synthesise data, train both models, evaluate, predict and write a report (the main job)";
    public ISet<string> Flags => new HashSet<string> { "quick" };

    public string Help => """
        usage: spinexr demo [--out DIR] [--quick] [--studies N] [--seed S] [--detector-minutes M] [--detector-arch ARCH]

        The whole VinDr-SpineXR pipeline on a synthetic dataset, with the `cpu` presets:
          1. data synth          DIR/data          (--studies, default 100; --quick 16)
          2. train classifier    DIR/classifier    (tiny DenseNet, preset cpu)
          3. train detector      DIR/detector      (--detector-arch, default faster-rcnn: R18-FPN; preset cpu, time-boxed by
                                                   --detector-minutes; any `train detector --arch` name)
          4. predict             DIR/predict       (test split: predictions.json, overlays, report.html)
          5. eval                DIR/eval/{classifier,detector,overall} (AUROC and mAP@0.5 with 95% bootstrap CIs)
          6. DIR/summary.json and DIR/report/index.html (tables, ROC/PR/FROC curves, example overlays)
        Steps whose outputs exist are resumed or reused (training resumes from its checkpoint), so a killed demo
        continues when run again. Default DIR: ./demo-out. Full run under 20 minutes on 2 cores; --quick about 3.
        exit codes: 0 done, 1 done but some step reported failed inputs, 2 a step could not run
        """;

    public int Run(CliArgs args)
    {
        bool quick = args.Flag("quick");
        string outDir = Path.GetFullPath(args.Get("out") ?? "demo-out");
        int studies = args.GetInt("studies", quick ? 16 : 100);
        int seed = args.GetInt("seed", 11);
        double detMinutes = args.GetDouble("detector-minutes", quick ? 0.75 : 11);
        if (studies < 4) throw new UsageException("--studies must be at least 4 (both splits need images)");
        string detArch = args.Get("detector-arch") ?? "faster-rcnn";
        if (!DetectorRegistry.TryGet(detArch, out _))
            throw new UsageException($"unknown --detector-arch '{detArch}' (known: {string.Join(", ", DetectorRegistry.Names)})");

        string data = Path.Combine(outDir, "data"), cls = Path.Combine(outDir, "classifier"), det = Path.Combine(outDir, "detector");
        string pred = Path.Combine(outDir, "predict"), eval = Path.Combine(outDir, "eval");
        var timings = new JsonObject();
        int worst = ExitCodes.Ok;
        var total = Stopwatch.StartNew();

        int Step(string name, params string[] argv)
        {
            Console.WriteLine($"\n== {name}: spinexr {string.Join(' ', argv.Select(a => a.Contains(' ') ? $"'{a}'" : a))}");
            var sw = Stopwatch.StartNew();
            int rc = Program.Run(argv);
            timings[name] = Math.Round(sw.Elapsed.TotalSeconds, 1);
            if (rc == ExitCodes.Usage) throw new InvalidOperationException($"demo step '{name}' failed (exit code 2)");
            worst = Math.Max(worst, rc);
            return rc;
        }

        if (!File.Exists(Path.Combine(data, "annotations", "test.csv")))
            Step("synth", "data", "synth", "--out", data, "--studies", studies.ToString(CultureInfo.InvariantCulture), "--seed", seed.ToString(CultureInfo.InvariantCulture));
        else Console.WriteLine($"\n== synth: reusing {data}");

        var clsArgs = new List<string> { "train", "classifier", "--data", data, "--out", cls, "--preset", "cpu" };
        if (quick) clsArgs.AddRange(["steps=40", "eval_every=20"]);
        Step("train classifier", [.. clsArgs]);

        var detArgs = new List<string> { "train", "detector", "--arch", detArch, "--data", data, "--out", det, "--preset", "cpu",
            "max_minutes=" + detMinutes.ToString(CultureInfo.InvariantCulture) };
        if (quick) detArgs.AddRange(["max_iters=60", "eval_every=30"]);
        Step("train detector", [.. detArgs]);

        Step("predict", "predict", Path.Combine(data, "test_images"), "--classifier", cls, "--detector", det, "--out", pred, "--quiet");
        // Classifier metrics follow the paper's protocol (Youden's J on the test ROC); the pipeline's decision rule
        // uses the threshold the classifier run chose on its validation split, as a deployed system must.
        double threshold = ReadThreshold(Path.Combine(pred, "predictions.json"));
        string c = threshold.ToString("R", CultureInfo.InvariantCulture);

        Step("eval classifier", "eval", "classifier", "--data", data, "--split", "test",
            "--predictions", Path.Combine(pred, "classifier_predictions.csv"), "--out", Path.Combine(eval, "classifier"));
        Step("eval detector", "eval", "detector", "--data", data, "--split", "test",
            "--predictions", Path.Combine(pred, "detections.json"), "--out", Path.Combine(eval, "detector"));
        Step("eval overall", "eval", "overall", "--data", data, "--split", "test",
            "--classifier-predictions", Path.Combine(pred, "classifier_predictions.csv"),
            "--detector-predictions", Path.Combine(pred, "detections.json"), "--abnormal-threshold", c, "--out", Path.Combine(eval, "overall"));
        timings["total"] = Math.Round(total.Elapsed.TotalSeconds, 1);

        var summary = new JsonObject
        {
            ["data"] = new JsonObject { ["path"] = data, ["studies"] = studies, ["seed"] = seed, ["synthetic"] = true },
            ["classifier"] = LoadJson(Path.Combine(eval, "classifier", "metrics.json"), drop: ["roc"]),
            ["detector"] = LoadJson(Path.Combine(eval, "detector", "metrics.json")),
            ["overall"] = LoadJson(Path.Combine(eval, "overall", "metrics.json")),
            ["abnormal_threshold"] = threshold,
            ["runs"] = new JsonObject { ["classifier"] = cls, ["detector"] = det, ["predict"] = pred },
            ["seconds"] = timings,
            ["quick"] = quick,
        };
        AtomicFile.WriteAllText(Path.Combine(outDir, "summary.json"), summary.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

        string report = WriteReport(outDir, eval, pred, studies, seed, quick, timings, detArch);
        PrintSummary(summary);
        Console.WriteLine($"\nsummary: {Path.Combine(outDir, "summary.json")}\nreport:  {report}");
        return worst;
    }

    private static string WriteReport(string outDir, string eval, string pred, int studies, int seed, bool quick, JsonObject timings, string detArch)
    {
        var plots = Directory.Exists(eval)
            ? Directory.EnumerateFiles(eval, "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
                .Select(p => (p, Path.GetFileName(Path.GetDirectoryName(p)) + ": " + Path.GetFileNameWithoutExtension(p))).ToList()
            : [];
        var examples = new List<(string, string)>();
        string predictions = Path.Combine(pred, "predictions.json");
        if (File.Exists(predictions))
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(predictions));
            // Abnormal images with the most boxes first: they show the detector; then a normal one for contrast.
            var images = doc.RootElement.GetProperty("images").EnumerateArray()
                .Select(e => (File: e.GetProperty("file").GetString()!, Verdict: e.GetProperty("verdict").GetString()!,
                              P: e.GetProperty("abnormal_prob").GetDouble(), Boxes: e.GetProperty("boxes").GetArrayLength()))
                .ToList();
            foreach (var im in images.Where(i => i.Verdict == "abnormal").OrderByDescending(i => i.Boxes).Take(5)
                         .Concat(images.Where(i => i.Verdict == "normal").Take(1)))
            {
                string png = Path.Combine(pred, "overlays", Inference.InputFiles.ItemKey(im.File) + ".png");
                examples.Add((png, $"{Path.GetFileName(im.File)}: {im.Verdict}, P(abnormal) {im.P:0.00}, {im.Boxes} box(es)"));
            }
        }
        string intro = $"Synthetic VinDr-SpineXR-layout dataset ({studies} studies, seed {seed}); classifier and {detArch} detector " +
                       $"trained with the cpu presets{(quick ? " (quick mode: a few steps, numbers are not meaningful)" : "")}; " +
                       $"metrics on the test split with 95% bootstrap intervals. Total time {timings["total"]} s.";
        string html = DemoReport.Build("SpineXR demo", intro, Path.Combine(eval, "classifier", "metrics.json"),
            Path.Combine(eval, "detector", "metrics.json"), Path.Combine(eval, "overall", "metrics.json"), plots, examples);
        string path = Path.Combine(outDir, "report", "index.html");
        AtomicFile.WriteAllText(path, html);
        return path;
    }

    private static void PrintSummary(JsonObject s)
    {
        static string Pct(JsonNode? n) => n is null ? "–" : (n.GetValue<double>() * 100).ToString("0.00", CultureInfo.InvariantCulture);
        static string Ci(JsonNode? n) => n is JsonArray { Count: 2 } a ? $"({Pct(a[0])}-{Pct(a[1])})" : "";
        Console.WriteLine("\n== summary (synthetic test split)");
        Console.WriteLine($"  classifier AUROC      {Pct(s["classifier"]?["auroc"])} {Ci(s["classifier"]?["auroc_ci"])}   (paper, real data: 88.61)");
        Console.WriteLine($"  detector mAP@0.5      {Pct(s["detector"]?["map50"])} {Ci(s["detector"]?["map50_ci"])}");
        Console.WriteLine($"  overall mAP@0.5       {Pct(s["overall"]?["map50"])} {Ci(s["overall"]?["map50_ci"])}   (paper, real data: 33.56)");
    }

    private static double ReadThreshold(string predictionsJson)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(predictionsJson));
        return doc.RootElement.GetProperty("provenance").GetProperty("abnormal_threshold").GetDouble();
    }

    private static JsonNode? LoadJson(string path, string[]? drop = null)
    {
        if (!File.Exists(path)) return null;
        var node = JsonNode.Parse(File.ReadAllText(path));
        if (node is JsonObject o && drop != null) foreach (var k in drop) o.Remove(k);
        return node;
    }
}
