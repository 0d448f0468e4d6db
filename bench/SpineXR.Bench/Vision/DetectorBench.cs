// Detector throughput: inference ms/image (Faster R-CNN / RetinaNet, R50-FPN at 800/1333 and the cpu preset;
// EfficientDet-D0 at 512 and its cpu preset) and training images/s of the cpu presets and D0, with the process's peak
// working set.
using System.Diagnostics;
using SpineXR.Vision;
using SpineXR.Vision.Detection;
using SpineXR.Vision.Detection.Training;
using TorchSharp;
using static TorchSharp.torch;
using SpineXR.Vision.Configuration;

namespace SpineXR.Bench.Vision;

/// <summary>`detector [iterations] [filter]`: inference and training speed of the detectors on random 1000x1200 inputs (rows whose label contains filter).</summary>
public sealed class DetectorBench : IBench
{
    public string Name => "detector";
    public string Summary => "detector inference ms/image (R50-FPN 800/1333, EfficientDet-D0 512, cpu presets) and training img/s, peak memory";

    private string _filter = "";

    public int Run(string[] args)
    {
        int iters = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 3;
        _filter = args.Length > 1 ? args[1] : "";
        TorchRuntime.EnsureLoaded();
        Console.WriteLine($"torch threads {torch.get_num_threads()}, {Environment.ProcessorCount} logical CPUs");
        manual_seed(1);
        var image = rand(3, 1000, 1200);
        Infer("faster-rcnn R50-FPN 800/1333", new FasterRCNN(FasterRcnnConfig.ResNet50Fpn(8, pretrainedBackbone: true)), image, iters);
        Infer("retinanet R50-FPN 800/1333", new RetinaNet(RetinaNetConfig.ResNet50Fpn(7, pretrainedBackbone: true)), image, iters);
        var cpu = DetectorTrainConfig.Cpu("faster-rcnn");
        Infer($"faster-rcnn cpu preset {cpu.Model.MinSize}/{cpu.Model.MaxSize}", cpu.BuildModel(7), image, iters);
        var cpuR = DetectorTrainConfig.Cpu("retinanet");
        Infer($"retinanet cpu preset {cpuR.Model.MinSize}/{cpuR.Model.MaxSize}", cpuR.BuildModel(7), image, iters);
        var d0 = DetectorTrainConfig.Paper("efficientdet-d0").With([new("batch_size", "4")]);
        Infer($"efficientdet-d0 {d0.Model.MaxSize}", d0.BuildModel(7), image, iters);
        var cpuE = DetectorTrainConfig.Cpu("efficientdet-d0");
        Infer($"efficientdet-d0 cpu preset {cpuE.Model.MaxSize}", cpuE.BuildModel(7), image, iters);
        Train("faster-rcnn cpu preset", cpu, iters);
        Train("retinanet cpu preset", cpuR, iters);
        Train($"efficientdet-d0 {d0.Model.MaxSize}", d0, iters);
        Train("efficientdet-d0 cpu preset", cpuE, iters);
        Console.WriteLine($"peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / (1 << 20)} MiB");
        return 0;
    }

    private void Infer(string label, nn.Module module, Tensor image, int iters)
    {
        using var m = module;
        if (!label.Contains(_filter, StringComparison.Ordinal)) return;
        m.eval();
        var det = (IObjectDetector)m;
        det.Detect([image]).ForEach(d => d.Dispose()); // warm-up
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < iters; i++) det.Detect([image]).ForEach(d => d.Dispose());
        Console.WriteLine($"{label,-40} inference {sw.Elapsed.TotalMilliseconds / iters,9:F0} ms/image");
    }

    private void Train(string label, DetectorTrainConfig c, int iters)
    {
        if (!label.Contains(_filter, StringComparison.Ordinal)) return;
        using var m = c.BuildModel(7);
        m.train();
        var det = (IObjectDetector)m;
        var p = m.parameters().Where(x => x.requires_grad).ToList();
        var opt = optim.SGD(p, 0.001, momentum: 0.9);
        var rng = new Random(1);
        void Step()
        {
            using var scope = NewDisposeScope();
            var images = Enumerable.Range(0, c.Solver.BatchSize).Select(_ => rand(3, 448, 560)).ToList();
            var targets = images.Select(_ => new DetectionTarget(tensor(new float[] { 50, 60, 150, 200, 200, 100, 260, 180 }).view(2, 4), tensor(new long[] { 1, 3 }))).ToList();
            var losses = det.Losses(images, targets, rng);
            var total = losses.Values.Aggregate((a, b) => a + b);
            opt.zero_grad();
            TorchRuntime.Backward(total);
            opt.step();
        }
        Step();
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < iters; i++) Step();
        Console.WriteLine($"{label,-40} training  {iters * c.Solver.BatchSize / sw.Elapsed.TotalSeconds,9:F2} img/s (batch {c.Solver.BatchSize}, 448x560 inputs)");
    }
}
