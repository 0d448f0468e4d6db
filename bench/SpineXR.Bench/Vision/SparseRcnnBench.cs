// Sparse R-CNN against Faster R-CNN on the same backbone, input size and batch, in one process: inference
// milliseconds per image (eval mode, no_grad, batch 1) and training images per second (batch 2, the
// official optimisers: AdamW + full-model clipping for Sparse R-CNN, SGD momentum 0.9 for Faster R-CNN).
using System.Diagnostics;
using SpineXR.Vision;
using SpineXR.Vision.Detection;
using SpineXR.Vision.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace SpineXR.Bench.Vision;

/// <summary>`sparse-rcnn [--preset cpu|paper] [--iters N] [--threads N]`: inference ms/image and training img/s next to Faster R-CNN.</summary>
public sealed class SparseRcnnBench : IBench
{
    public string Name => "sparse-rcnn";
    public string Summary => "Sparse R-CNN vs Faster R-CNN: inference ms/image, training img/s (--preset cpu|paper, --iters N)";

    public int Run(string[] args)
    {
        string preset = "cpu";
        int iters = 5;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--preset" && i + 1 < args.Length) preset = args[++i];
            else if (args[i] == "--iters" && i + 1 < args.Length) iters = int.Parse(args[++i]);
            else if (args[i] == "--threads" && i + 1 < args.Length) torch.set_num_threads(int.Parse(args[++i]));
            else { Console.Error.WriteLine($"unknown argument '{args[i]}'"); return 2; }
        }
        if (preset is not ("cpu" or "paper")) { Console.Error.WriteLine("--preset must be cpu or paper"); return 2; }
        TorchRuntime.EnsureLoaded();
        manual_seed(0);

        var sparseConfig = preset == "cpu" ? SparseRcnnConfig.Cpu() : SparseRcnnConfig.Paper(pretrainedBackbone: false);
        var fasterConfig = new FasterRcnnConfig
        {
            NumClasses = sparseConfig.NumClasses + 1,
            Backbone = sparseConfig.Backbone,
            MinSize = sparseConfig.MinSize,
            MaxSize = sparseConfig.MaxSize,
        };
        // A spine radiograph is portrait, about 3:4; both models resize it to the preset's short side.
        int h = sparseConfig.MinSize[^1] * 4 / 3, w = sparseConfig.MinSize[^1];
        var images = Enumerable.Range(0, 2).Select(_ => rand(3, h, w)).ToArray();
        var targets = Enumerable.Range(0, 2).Select(_ => new DetectionTarget(
            tensor(new float[] { 0.2f * w, 0.3f * h, 0.5f * w, 0.45f * h, 0.4f * w, 0.6f * h, 0.7f * w, 0.7f * h }).reshape(2, 4),
            tensor(new long[] { 1, 3 }))).ToArray();

        Console.WriteLine($"preset {preset}: input {w}x{h} -> short side {sparseConfig.MinSize[^1]}, backbone {Describe(sparseConfig.Backbone)}, {torch.get_num_threads()} threads, {iters} timed iterations after 1 warm-up");
        Console.WriteLine($"| model | params (M) | inference ms/image | training img/s |");
        Console.WriteLine($"|---|---:|---:|---:|");

        using (var sparse = new SparseRcnn(sparseConfig))
        {
            // The training step of `train detector --arch sparse-rcnn`: AdamW, the whole model's gradient clipped to 1.0
            var trainable = sparse.parameters().Where(p => p.requires_grad).ToArray();
            using var opt = optim.AdamW(trainable, 2.5e-5, weight_decay: 1e-4);
            var (ms, ips) = Measure(sparse, images, targets, iters, () =>
            {
                using var scope = NewDisposeScope();
                sparse.train();
                opt.zero_grad();
                var losses = sparse.Losses(images, targets, new Random(1));
                TorchRuntime.Backward(losses.Values.Aggregate((a, b) => a + b));
                nn.utils.clip_grad_norm_(trainable, 1.0);
                opt.step();
                return losses.Count;
            });
            Console.WriteLine($"| Sparse R-CNN ({sparseConfig.NumProposals} proposals, {sparseConfig.NumStages} stages) | {Params(sparse):F1} | {ms:F0} | {ips:F2} |");
        }
        using (var faster = new FasterRCNN(fasterConfig))
        {
            using var opt = optim.SGD(faster.parameters().Where(p => p.requires_grad), 0.01, momentum: 0.9, weight_decay: 1e-4);
            var fasterTargets = targets.Select(t => new DetectionTarget(t.Boxes, t.Labels + 1)).ToArray();
            var (ms, ips) = Measure(faster, images, fasterTargets, iters, () =>
            {
                using var scope = NewDisposeScope();
                faster.train();
                opt.zero_grad();
                var losses = faster.Losses(images, fasterTargets, new Random(1));
                TorchRuntime.Backward(losses.Values.Aggregate((a, b) => a + b));
                opt.step();
                return losses.Count;
            });
            Console.WriteLine($"| Faster R-CNN | {Params(faster):F1} | {ms:F0} | {ips:F2} |");
        }
        return 0;
    }

    private static (double MsPerImage, double TrainImagesPerSecond) Measure(nn.Module model, Tensor[] images, DetectionTarget[] targets, int iters, Func<object> trainStep)
    {
        var detector = (IObjectDetector)model;
        model.eval();
        using (var s = NewDisposeScope()) detector.Detect([images[0]]);
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < iters; i++)
        {
            using var s = NewDisposeScope();
            detector.Detect([images[i % images.Length]]);
        }
        double ms = sw.Elapsed.TotalMilliseconds / iters;
        trainStep();
        sw.Restart();
        for (int i = 0; i < iters; i++) trainStep();
        double ips = iters * images.Length / sw.Elapsed.TotalSeconds;
        return (ms, ips);
    }

    private static double Params(nn.Module m) => m.parameters().Sum(p => p.numel()) / 1e6;

    private static string Describe(FpnBackboneConfig b) =>
        $"ResNet-{(b.Body.Block == ResidualBlockKind.Basic ? (b.Body.Layers.Sum() * 2 + 2) : (b.Body.Layers.Sum() * 3 + 2))}-FPN {b.OutChannels}";
}
