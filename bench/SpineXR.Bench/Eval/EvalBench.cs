// Evaluation benchmarks at the paper's test-set size (2,078 images): COCO AP, AUROC bootstrap, mAP bootstrap.
using System.Diagnostics;
using SpineXR.Metrics;

namespace SpineXR.Bench.Eval;

/// <summary>`eval`: times the metric code on synthetic predictions of the VinDr-SpineXR test-set size.</summary>
public sealed class EvalBench : IBench
{
    public string Name => "eval";
    public string Summary => "COCO AP (2,078 images x 100 dets x 7 classes), 10k AUROC bootstrap, 1k mAP bootstrap";

    public int Run(string[] args)
    {
        const int images = 2078, classes = 7;
        int perImageClass = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 100;
        var rng = new Random(1999);
        var gt = new List<CocoTruth>();
        var dt = new List<CocoDetection>();
        for (int im = 0; im < images; im++)
        {
            if (rng.NextDouble() < 0.5)
                for (int j = rng.Next(1, 6); j > 0; j--)
                    gt.Add(new CocoTruth(im, rng.Next(classes), new CocoBox(rng.NextDouble() * 2000, rng.NextDouble() * 2000, 30 + rng.NextDouble() * 200, 30 + rng.NextDouble() * 200)));
            var own = gt.Where(g => g.Image == im).ToArray();
            for (int k = 0; k < classes; k++)
                for (int j = 0; j < perImageClass; j++)
                {
                    CocoBox b = own.Length > 0 && rng.NextDouble() < 0.1
                        ? Jitter(own[rng.Next(own.Length)].Box, rng)
                        : new CocoBox(rng.NextDouble() * 2000, rng.NextDouble() * 2000, 30 + rng.NextDouble() * 200, 30 + rng.NextDouble() * 200);
                    dt.Add(new CocoDetection(im, k, b, rng.NextDouble()));
                }
        }
        var gtA = gt.ToArray();
        var dtA = dt.ToArray();
        Console.WriteLine($"cores: {Environment.ProcessorCount}; {images} images, {gtA.Length} truth boxes, {dtA.Length} detections ({perImageClass} per image and class)");

        double apS = Median(3, () => new CocoEvaluation(images, classes, gtA, dtA).Evaluate());
        var ev = new CocoEvaluation(images, classes, gtA, dtA);
        Console.WriteLine($"COCO AP@0.5 (match + accumulate)      {apS:0.000} s   mAP {100 * ev.Evaluate().MeanAp(0):0.00}");
        double ap7 = Median(3, () => new CocoEvaluation(images, classes, gtA, dtA, new CocoEvalOptions { IouThresholds = [0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5] }).Evaluate());
        Console.WriteLine($"COCO AP at 7 IoUs (0.2..0.5)          {ap7:0.000} s");

        var scores = new double[images];
        var labels = new bool[images];
        for (int i = 0; i < images; i++) { labels[i] = rng.NextDouble() < 0.5; scores[i] = Math.Round(rng.NextDouble() * 0.7 + (labels[i] ? 0.3 : 0), 3); }
        ClassifierResult? cr = null;
        double bootS = Median(3, () => cr = ClassifierEvaluation.Evaluate(scores, labels, new ClassifierEvalOptions { Resamples = 10_000 }));
        Console.WriteLine($"AUROC + 10,000-resample bootstrap     {bootS:0.000} s   AUROC {100 * cr!.Auroc:0.00} ({100 * cr.Bootstrap!.Auroc.Lower:0.00}-{100 * cr.Bootstrap.Auroc.Upper:0.00})");

        Interval[]? ci = null;
        double mapS = Time(() => ci = ev.BootstrapMap(1000).PerIou);
        Console.WriteLine($"mAP@0.5 1,000-resample bootstrap      {mapS:0.000} s   CI {100 * ci![0].Lower:0.00}-{100 * ci[0].Upper:0.00}");
        return 0;
    }

    private static CocoBox Jitter(CocoBox b, Random rng) => b with { X = b.X + (rng.NextDouble() - 0.5) * 20, Y = b.Y + (rng.NextDouble() - 0.5) * 20 };

    private static double Time(Action a)
    {
        var sw = Stopwatch.StartNew();
        a();
        return sw.Elapsed.TotalSeconds;
    }

    private static double Median(int n, Action a)
    {
        a(); // warm-up (JIT)
        var t = Enumerable.Range(0, n).Select(_ => Time(a)).OrderBy(x => x).ToArray();
        return t[n / 2];
    }
}
