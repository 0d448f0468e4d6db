// What the memory-safety and determinism fixes of docs/native.md cost: (1) libtorch calls per second through
// TorchSharp's implicit Scalars (run it once from the normal build and once from a build with
// -p:SpineXRKeepAlivePatch=false to compare patched and unpatched assemblies), (2) a training step with oneDNN's
// convolution backward (libtorch's default, racy on two threads) against TorchRuntime.Backward (libtorch's own
// kernels), alternating rounds in one process, for the cpu-preset classifier and Faster R-CNN.
using System.Diagnostics;
using System.Globalization;
using SpineXR.Vision;
using SpineXR.Vision.Detection;
using SpineXR.Vision.Detection.Training;
using SpineXR.Vision.Models;
using TorchSharp;
using static TorchSharp.torch;
using SpineXR.Vision.Configuration;

namespace SpineXR.Bench.Vision;

/// <summary>`interop [--rounds 3] [--steps 3] [--calls 200000]`.</summary>
public sealed class InteropBench : IBench
{
    public string Name => "interop";
    public string Summary => "cost of the TorchSharp keep-alive patch (calls/s) and of deterministic backward passes (step time)";

    public int Run(string[] args)
    {
        string Arg(string name, string fallback) { int i = Array.IndexOf(args, "--" + name); return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback; }
        int rounds = int.Parse(Arg("rounds", "3"), CultureInfo.InvariantCulture);
        int steps = int.Parse(Arg("steps", "3"), CultureInfo.InvariantCulture);
        int calls = int.Parse(Arg("calls", "200000"), CultureInfo.InvariantCulture);
        torch.InitializeDeviceType(DeviceType.CPU); // not EnsureLoaded: this bench also runs on the unpatched assembly
        Console.WriteLine($"TorchSharp keep-alive patch: {TorchSharpPatch.Version ?? "none"}; {torch.get_num_threads()} torch threads");

        // (1) Small calls: the patch's cost, if any, is per call.
        double best = 0;
        for (int r = 0; r < rounds; r++)
        {
            using var y = ones(8);
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < calls; i++) y.mul_(0.5).add_(0.25);
            best = Math.Max(best, 2.0 * calls / sw.Elapsed.TotalSeconds);
        }
        Console.WriteLine($"  {"in-place ops with implicit Scalars (best of " + rounds + ")",-58} {best,12:N0} calls/s");
        if (!TorchSharpPatch.IsApplied) return 0; // TorchRuntime.Backward needs the patched build

        // (2) Training steps, oneDNN backward vs deterministic backward, alternating.
        TorchRuntime.EnsureLoaded();
        torch.manual_seed(1);
        using (var classifier = ClassifierArchitectures.Create("densenet_small", 1))
        {
            var x = randn(16, 3, 160, 160);
            var target = ones(16, 1);
            var opt = torch.optim.AdamW(classifier.parameters(), 1e-4);
            classifier.train();
            Compare("densenet_small 160 px, batch 16 (classifier cpu preset)", rounds, steps, backward =>
            {
                using var scope = NewDisposeScope();
                var loss = nn.functional.binary_cross_entropy_with_logits(classifier.call(x), target);
                opt.zero_grad(); backward(loss); opt.step();
            });
        }
        var config = DetectorTrainConfig.Cpu("faster-rcnn").With([new("batch_size", "2")]);
        using (var model = config.BuildModel(7))
        {
            model.train();
            var detector = (IObjectDetector)model;
            var opt = torch.optim.SGD(model.parameters().Where(p => p.requires_grad), 1e-3, momentum: 0.9);
            var rng = new Random(1);
            var images = Enumerable.Range(0, 2).Select(_ => rand(3, 448, 560)).ToList();
            var targets = images.Select(_ => new DetectionTarget(tensor(new float[] { 50, 60, 150, 200, 200, 100, 260, 180 }).view(2, 4), tensor(new long[] { 1, 3 }))).ToList();
            Compare("Faster R-CNN cpu preset 448x560, batch 2", rounds, steps, backward =>
            {
                using var scope = NewDisposeScope();
                var total = detector.Losses(images, targets, rng).Values.Aggregate((a, b) => a + b);
                opt.zero_grad(); backward(total); opt.step();
            });
        }
        return 0;
    }

    private static void Compare(string label, int rounds, int steps, Action<Action<Tensor>> step)
    {
        step(TorchRuntime.Backward); // warm-up
        double bestOneDnn = double.MaxValue, bestOwn = double.MaxValue;
        for (int r = 0; r < rounds; r++)
        {
            bestOneDnn = Math.Min(bestOneDnn, Time(steps, () => step(l => l.backward())));
            bestOwn = Math.Min(bestOwn, Time(steps, () => step(TorchRuntime.Backward)));
        }
        Console.WriteLine($"  {label,-58} step {bestOneDnn * 1000,7:F0} ms with oneDNN backward, {bestOwn * 1000,7:F0} ms deterministic ({bestOneDnn / bestOwn:F2}x speed)");
    }

    private static double Time(int steps, Action step)
    {
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < steps; i++) step();
        return sw.Elapsed.TotalSeconds / steps;
    }
}
