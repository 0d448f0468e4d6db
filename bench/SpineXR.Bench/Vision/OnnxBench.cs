// libtorch against ONNX Runtime on the same models in one run (docs/onnx.md, docs/benchmarks.md): models only (the
// classifier's forward on a random batch; the detector's Detect, i.e. transform + network + post-processing, on random
// images) for the cpu presets and the paper-size networks, then `predict` end to end from PNG files with each backend.
// RetinaNet, Faster R-CNN and EfficientDet (cpu presets, R50-FPN, D0; `--arch NAME` runs one detector's rows, `--models efficientdet` EfficientDet's alone).
// Weights are random (speed does not depend on them), with the detectors' classification bias raised so that every
// image keeps hundreds of candidates through top-k and NMS, as a trained model does, rather than none.
using System.Diagnostics;
using System.Globalization;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using SpineXR.Imaging;
using SpineXR.Inference;
using SpineXR.Jobs;
using SpineXR.Vision;
using SpineXR.Vision.Detection;
using SpineXR.Vision.Detection.Training;
using SpineXR.Vision.Inference;
using SpineXR.Vision.Models;
using SpineXR.Vision.Onnx;
using SpineXR.Vision.Training;
using SpineXR.Vision.Weights;
using TorchSharp;
using static TorchSharp.torch;
using SpineXR.Vision.Configuration;

namespace SpineXR.Bench.Vision;

/// <summary>`onnx [--models cpu|paper|efficientdet|all|none] [--arch retinanet|faster-rcnn|sparse-rcnn|efficientdet] [--steps 3] [--e2e 16] [--threads T] [--classifier RUN --detector RUN] [--quantize]`.</summary>
public sealed class OnnxBench : IBench
{
    public string Name => "onnx";
    public string Summary => "libtorch vs ONNX Runtime img/s: models only (cpu presets, paper sizes) and predict end to end";

    public int Run(string[] args)
    {
        string Arg(string name, string fallback) { int i = Array.IndexOf(args, "--" + name); return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback; }
        string models = Arg("models", "cpu");
        int steps = int.Parse(Arg("steps", "3"), CultureInfo.InvariantCulture);
        int e2e = int.Parse(Arg("e2e", "16"), CultureInfo.InvariantCulture);
        TorchRuntime.EnsureLoaded();
        // --threads T: both engines on T threads (on a shared machine, fewer threads than cores suffer less from the other load)
        _threads = int.Parse(Arg("threads", "0"), CultureInfo.InvariantCulture);
        if (_threads > 0) torch.set_num_threads(_threads);
        Console.WriteLine($"{Environment.ProcessorCount} cores, {torch.get_num_threads()} libtorch threads, ONNX Runtime {OrtEnv.Instance().GetVersionString()} " +
                          $"({(_threads > 0 ? _threads.ToString(CultureInfo.InvariantCulture) : "default")} threads, no spinning); best of {steps} timed runs after 1 warm-up, engines alternated");
        Console.WriteLine("| model | input | libtorch img/s | ONNX Runtime img/s | speed-up |");
        Console.WriteLine("|---|---|---|---|---|");
        // --arch NAME: that detector's rows only (no classifier)
        string arch = Arg("arch", "");
        if (models is "cpu" or "all")
        {
            if (arch == "") Classifier("densenet_small", 160, 16, steps);
            if (arch is "" or "retinanet") Detector("retinanet cpu preset (R18/32-FPN128)", DetectorTrainConfig.Cpu("retinanet"), (448, 560), 2, steps);
            if (arch is "" or "faster-rcnn") FasterRcnn("faster-rcnn cpu preset (R18/32-FPN128)", DetectorTrainConfig.Cpu("faster-rcnn"), (448, 560), 2, steps);
            if (arch is "" or "sparse-rcnn") SparseRcnnDetector("sparse-rcnn cpu preset (R18-FPN128, 6 stages)", DetectorTrainConfig.Cpu("sparse-rcnn"), (448, 560), 2, steps);
        }
        if (models is "cpu" or "efficientdet" or "all" && arch is "" or "efficientdet")
            EfficientDetDetector("efficientdet-d0 cpu preset (B0 x0.5/x0.5, 2 cells)", DetectorTrainConfig.Cpu("efficientdet-d0"), (448, 560), 2, steps);
        if (models is "paper" or "all")
        {
            if (arch == "") Classifier("densenet121", 224, 16, steps);
            if (arch is "" or "retinanet") Detector("retinanet R50-FPN", DetectorTrainConfig.Paper("retinanet"), (800, 1000), 1, steps);
            if (arch is "" or "faster-rcnn") FasterRcnn("faster-rcnn R50-FPN", DetectorTrainConfig.Paper("faster-rcnn"), (800, 1000), 1, steps);
            if (arch is "" or "sparse-rcnn") SparseRcnnDetector("sparse-rcnn R50-FPN", DetectorTrainConfig.Paper("sparse-rcnn"), (800, 1000), 1, steps);
        }
        if (models is "paper" or "efficientdet" or "all" && arch is "" or "efficientdet")
            EfficientDetDetector("efficientdet-d0", DetectorTrainConfig.Paper("efficientdet-d0"), (448, 560), 2, steps);
        if (e2e > 0) EndToEnd(Arg("classifier", ""), Arg("detector", ""), e2e, steps);
        // --quantize: ONNX Runtime float32 against the int8 QDQ graph (OnnxQuantizer) of the classifiers, in one run
        if (args.Contains("--quantize"))
        {
            Console.WriteLine();
            Console.WriteLine("| model (random weights, int8 calibrated on the timed batch) | input (C x H x W) | ONNX Runtime float32 img/s | ONNX Runtime int8 img/s | speed-up |");
            Console.WriteLine("|---|---|---|---|---|");
            Quantized("densenet_small", DenseNets.Create("densenet_small", 1), 160, 16, steps);
            Quantized("densenet121", DenseNets.Create("densenet121", 1), 224, 16, steps);
            Quantized("resnet50", ClassifierArchitectures.Create("resnet50", 1), 224, 16, steps);
            // the detectors' one-input networks (random weights; images-per-second of the network alone)
            using (var r = (RetinaNet)DetectorTrainConfig.Cpu("retinanet").BuildModel(7))
            {
                r.eval();
                QuantizedGraph("retinanet cpu preset, network", RetinaNetOnnxExporter.Build(r), RetinaNetOnnxExporter.InputName, RetinaNetOnnxExporter.ClsLogitsName, [1, 3, 448, 576], steps);
            }
            using (var e = (EfficientDet)DetectorTrainConfig.Cpu("efficientdet-d0").BuildModel(7))
            {
                e.eval();
                QuantizedGraph("efficientdet-d0 cpu preset, network", EfficientDetOnnxExporter.Build(e), EfficientDetOnnxExporter.InputName, EfficientDetOnnxExporter.ClsLogitsName, [1, 3, 512, 512], steps);
            }
        }
        return 0;
    }

    private static int _threads;

    /// <summary>Best (shortest) of <paramref name="steps"/> timings of each action after one warm-up each, alternating the two.</summary>
    private static (double A, double B) BestOf(int steps, Action a, Action b)
    {
        a(); b();
        double ta = double.MaxValue, tb = double.MaxValue;
        for (int i = 0; i < steps; i++)
        {
            var sw = Stopwatch.StartNew(); a(); ta = Math.Min(ta, sw.Elapsed.TotalSeconds);
            sw.Restart(); b(); tb = Math.Min(tb, sw.Elapsed.TotalSeconds);
        }
        return (ta, tb);
    }

    private static void Row(string model, string input, double images, (double Torch, double Onnx) t) =>
        Console.WriteLine($"| {model} | {input} | {images / t.Torch:F2} | {images / t.Onnx:F2} | {t.Torch / t.Onnx:F2}x |");

    /// <summary>
    /// A detector's `Detect` on both engines over <paramref name="batch"/> random images of <paramref name="size"/>
    /// (resized by the model to <paramref name="side"/> px), timed and printed as a row; the images and times for the
    /// rows that follow.
    /// </summary>
    private static (Tensor[] Images, (double A, double B) Times) DetectRow(string what, int side, IDetectionModel libtorch, IDetectionModel onnx,
        (int H, int W) size, int batch, int steps)
    {
        var images = Enumerable.Range(0, batch).Select(_ => rand(3, size.H, size.W)).ToArray();
        var t = BestOf(steps,
            () => { foreach (var d in libtorch.Detect(images)) d.Dispose(); },
            () => { foreach (var d in onnx.Detect(images)) d.Dispose(); });
        Row(what, $"{batch} x {size.H}x{size.W} (to {side} px)", batch, t);
        return (images, t);
    }

    /// <summary>A classifier's row of <see cref="QuantizedGraph"/>.</summary>
    private static void Quantized(string arch, nn.Module<Tensor, Tensor> model, int size, int batch, int steps)
    {
        using var _ = model;
        model.eval();
        var onnx = model switch
        {
            DenseNet d => DenseNetOnnxExporter.Build(d, size),
            ResNet r => ResNetOnnxExporter.Build(r, size),
            _ => throw new NotSupportedException(arch),
        };
        QuantizedGraph(arch, onnx, DenseNetOnnxExporter.InputName, DenseNetOnnxExporter.OutputName, [batch, 3, size, size], steps);
    }

    /// <summary>
    /// ONNX Runtime on a float export and on its int8 QDQ form (BatchNorm folded, calibrated on the timed input itself,
    /// uniform in [-1, 1)): images/s of each and the largest difference of <paramref name="output"/>.
    /// </summary>
    private static void QuantizedGraph(string label, SpineXR.Vision.Onnx.Proto.ModelProto onnx, string input, string output, long[] shape, int steps)
    {
        var rng = new Random(1);
        float[] pixels = Enumerable.Range(0, (int)shape.Aggregate(1L, (a, b) => a * b)).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var folded = OnnxQuantizer.FoldBatchNorms(onnx);
        var int8 = OnnxQuantizer.Quantize(folded, OnnxQuantizer.Calibrate(folded, [new Dictionary<string, (float[], long[])> { [input] = (pixels, shape) }]));
        using var options = OnnxRunModel.Options(InferenceDevice.Cpu, _threads);
        using var f32 = new InferenceSession(onnx.ToByteArray(), options);
        using var i8 = new InferenceSession(int8.ToByteArray(), options);
        using var runOptions = new RunOptions();
        float[] Forward(InferenceSession s)
        {
            using var x = OrtValue.CreateTensorValueFromMemory(pixels, shape);
            using var outputs = s.Run(runOptions, [input], [x], [output]);
            return outputs[0].GetTensorDataAsSpan<float>().ToArray();
        }
        var t = BestOf(steps, () => Forward(f32), () => Forward(i8));
        float[] a = Forward(f32), b = Forward(i8);
        double err = a.Zip(b, (p, q) => Math.Abs(p - q)).Max();
        Console.WriteLine($"| {label} | {string.Join(" x ", shape.Skip(1))} | {shape[0] / t.A:F2} | {shape[0] / t.B:F2} | {t.A / t.B:F2}x |   " +
                          $"(max |{output} difference| {err:G3} of max |{output}| {a.Max(Math.Abs):G3})");
    }

    private static void Classifier(string arch, int size, int batch, int steps)
    {
        using var model = DenseNets.Create(arch, 1);
        model.eval();
        using var options = OnnxRunModel.Options(InferenceDevice.Cpu, _threads);
        using var session = new InferenceSession(DenseNetOnnxExporter.Build(model, size).ToByteArray(), options);
        using var runOptions = new RunOptions();
        var rng = new Random(1);
        float[] pixels = Enumerable.Range(0, batch * 3 * size * size).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        using var x = torch.tensor(pixels, [batch, 3, size, size]);
        var t = BestOf(steps,
            () =>
            {
                using var _ = no_grad();
                using var scope = NewDisposeScope();
                model.call(x);
            },
            () =>
            {
                using var input = OrtValue.CreateTensorValueFromMemory(pixels, [batch, 3, size, size]);
                using var outputs = session.Run(runOptions, [DenseNetOnnxExporter.InputName], [input], [DenseNetOnnxExporter.OutputName]);
            });
        Row(arch, $"{batch} x {size} px", batch, t);
    }

    /// <summary>Classification bias of -2 (sigmoid 0.12): every anchor passes the 0.05 score threshold, so top-k and NMS do full work.</summary>
    private static void BusyHead(nn.Module model)
    {
        using var _ = no_grad();
        foreach (var (name, p) in model.named_parameters())
            if (name == "head.classification_head.cls_logits.bias") p.fill_(-2.0);
    }

    /// <summary>Detections returned per image (after NMS), to show how busy post-processing was.</summary>
    private static string Candidates(RetinaNet model, Tensor[] images)
    {
        var dets = model.Detect(images);
        string r = string.Join("/", dets.Select(d => d.Scores.shape[0])) + " kept";
        foreach (var d in dets) d.Dispose();
        return r;
    }

    private static void Detector(string what, DetectorTrainConfig config, (int H, int W) size, int batch, int steps)
    {
        using var model = (RetinaNet)config.BuildModel(7);
        BusyHead(model);
        model.eval();
        using var options = OnnxRunModel.Options(InferenceDevice.Cpu, _threads);
        using var onnx = new OnnxRetinaNet(new InferenceSession(RetinaNetOnnxExporter.Build(model).ToByteArray(), options), model.Config, what);
        using var scope = NewDisposeScope();
        var (images, t) = DetectRow(what, config.Model.MinSize, model, onnx, size, batch, steps);
        // The network alone on the transformed batch: what is left of Detect is the transform and the shared C# post-processing.
        var x = model.Transform.Forward(images).Tensors.contiguous();
        var net = BestOf(steps,
            () => { using var s = NewDisposeScope(); model.HeadOutputs(x); },
            () => { using var s = NewDisposeScope(); onnx.RunGraph(x); });
        Row(what + ", network only", $"{x.shape[2]}x{x.shape[3]} padded", batch, net);
        Console.WriteLine($"|   transform + post-processing (C#, libtorch ops; {Candidates(model, images)} candidates) | | {(t.A - net.A) / batch:F3} s/img | {(t.B - net.B) / batch:F3} s/img | |");
    }

    /// <summary>
    /// Faster R-CNN's Detect on both engines (transform, network, proposals, RoIAlign, box head, post-processing), then
    /// the two networks alone (backbone + FPN + RPN head on the transformed batch, box head on the same pooled RoIs).
    /// torchvision's initialisation leaves every class score near 1/classes, above the 0.05 threshold, so every
    /// proposal and class goes through NMS: the worst case for the C# steps. Weights seeded, so runs are comparable.
    /// </summary>
    private static void FasterRcnn(string what, DetectorTrainConfig config, (int H, int W) size, int batch, int steps)
    {
        torch.manual_seed(1);
        using var model = (FasterRCNN)config.BuildModel(7);
        model.eval();
        // Objectness spread as a trained RPN's (torchvision's std 0.01 leaves every anchor near 0.5 and lets NMS thin
        // the ties to a few hundred proposals; spread, they fill the post-NMS top-n, as trained models do).
        using (no_grad())
            foreach (var (name, p) in model.named_parameters())
                if (name == "rpn.head.cls_logits.weight") p.mul_(100.0);
        using var options = OnnxRunModel.Options(InferenceDevice.Cpu, _threads);
        using var onnx = new OnnxFasterRCNN(new InferenceSession(FasterRcnnOnnxExporter.Build(model).ToByteArray(), options), model.Config, what);
        using var scope = NewDisposeScope();
        var (images, t) = DetectRow(what, config.Model.MinSize, model, onnx, size, batch, steps);
        var list = model.Transform.Forward(images);
        var x = list.Tensors.contiguous();
        // the RoIs of this batch, by the same C# steps Detect runs between the two graphs
        var (objectness, deltas, levels, features) = onnx.RunNetwork(x);
        var anchors = FasterRCNN.CreateAnchors(model.Config).Generate(x.shape[2], x.shape[3], levels);
        var proposals = new RpnProposals(model.Config.Rpn).Select(objectness, deltas, anchors, list.ImageSizes, levels, training: false);
        var rois = FasterRCNN.CreateBoxRoIPool().Forward(features, proposals, list.ImageSizes).contiguous();
        var net = BestOf(steps,
            () => { using var s = NewDisposeScope(); model.NetworkOutputs(x); model.BoxHeadOutputs(rois); },
            () => { using var s = NewDisposeScope(); onnx.RunNetwork(x); onnx.RunBoxHead(rois); });
        Row(what + ", networks only", $"{x.shape[2]}x{x.shape[3]} padded, {rois.shape[0]} RoIs", batch, net);
        // One RoI: on ONNX Runtime mostly the cost of the idle backbone pass on a 32 x 32 image that every box-head run carries.
        var one = rois.narrow(0, 0, 1).contiguous();
        var idle = BestOf(steps,
            () => { using var s = NewDisposeScope(); model.BoxHeadOutputs(one); },
            () => { using var s = NewDisposeScope(); onnx.RunBoxHead(one); });
        Console.WriteLine($"|   box head on 1 RoI (ONNX Runtime: with the idle 32 x 32 backbone pass) | | {idle.A * 1000:F1} ms | {idle.B * 1000:F1} ms | |");
        // The C# steps one by one (the same objects on both engines), to see which one an in-graph version could save.
        var rpn = new RpnProposals(model.Config.Rpn);
        var pool = FasterRCNN.CreateBoxRoIPool();
        var post = new RoIHeadsPostProcess(model.Config.RoIHeads);
        var (logits, regression) = onnx.RunBoxHead(rois);
        double Time(Action a) => BestOf(steps, a, () => { }).A;
        double tProposals = Time(() => { using var s = NewDisposeScope(); rpn.Select(objectness, deltas, anchors, list.ImageSizes, levels, training: false); });
        double tPool = Time(() => { using var s = NewDisposeScope(); pool.Forward(features, proposals, list.ImageSizes); });
        double tPost = Time(() => { using var s = NewDisposeScope(); post.Detect(logits, regression, proposals, list.ImageSizes); });
        Console.WriteLine($"|   of which proposals {tProposals / batch:F3}, MultiScaleRoIAlign {tPool / batch:F3}, box post-processing {tPost / batch:F3} s/img | | | | |");
        var dets = model.Detect(images);
        string kept = string.Join("/", dets.Select(d => d.Scores.shape[0]));
        foreach (var d in dets) d.Dispose();
        Console.WriteLine($"|   transform + proposals + RoIAlign + post-processing (C#, libtorch ops; {string.Join("/", proposals.Select(p => p.shape[0]))} proposals, {kept} kept) " +
                          $"| | {(t.A - net.A) / batch:F3} s/img | {(t.B - net.B) / batch:F3} s/img | |");
    }

    /// <summary>
    /// EfficientDet as <see cref="Detector"/>: Detect on random images (the class net's bias at -2, so every anchor passes
    /// the score threshold), then the network alone on the transformed batch (padded to multiples of 128).
    /// </summary>
    private static void EfficientDetDetector(string what, DetectorTrainConfig config, (int H, int W) size, int batch, int steps)
    {
        using var model = (EfficientDet)config.BuildModel(7);
        using (no_grad())
            foreach (var (name, p) in model.named_parameters())
                if (name == "class_net.predict.conv_pw.bias") p.fill_(-2.0);
        model.eval();
        using var options = OnnxRunModel.Options(InferenceDevice.Cpu, _threads);
        using var onnx = new OnnxEfficientDet(new InferenceSession(EfficientDetOnnxExporter.Build(model).ToByteArray(), options), model.Config, what);
        using var scope = NewDisposeScope();
        var (images, t) = DetectRow(what, config.Model.MaxSize, model, onnx, size, batch, steps);
        var x = model.Transform.Forward(images).Tensors.contiguous();
        var net = BestOf(steps,
            () => { using var s = NewDisposeScope(); model.HeadOutputs(x); },
            () => { using var s = NewDisposeScope(); onnx.RunGraph(x); });
        Row(what + ", network only", $"{x.shape[2]}x{x.shape[3]} padded", batch, net);
        var dets = model.Detect(images);
        string kept = string.Join("/", dets.Select(d => d.Scores.shape[0])) + " kept";
        foreach (var d in dets) d.Dispose();
        Console.WriteLine($"|   transform + post-processing (C#, libtorch ops; {kept} candidates) | | {(t.A - net.A) / batch:F3} s/img | {(t.B - net.B) / batch:F3} s/img | |");
    }

    /// <summary>
    /// Sparse R-CNN's Detect on both engines, then the network alone (on ONNX Runtime the whole model with its six
    /// stages' RoI pooling; the C# part is only the transform and the top-k). Initial weights (every proposal the whole
    /// image, focal prior): the boxes and scores do not change the work, which is fixed per proposal.
    /// </summary>
    private static void SparseRcnnDetector(string what, DetectorTrainConfig config, (int H, int W) size, int batch, int steps)
    {
        torch.manual_seed(1);
        using var model = (SparseRcnn)config.BuildModel(7);
        model.eval();
        using var options = OnnxRunModel.Options(InferenceDevice.Cpu, _threads);
        using var onnx = new OnnxSparseRcnn(new InferenceSession(SparseRcnnOnnxExporter.Build(model).ToByteArray(), options), model.Config, what);
        using var scope = NewDisposeScope();
        var (images, t) = DetectRow(what, config.Model.MinSize, model, onnx, size, batch, steps);
        var list = model.Transform.Forward(images);
        var x = list.Tensors.contiguous();
        var whwh = SparseRcnn.ImageWhwh(list);
        var net = BestOf(steps,
            () => { using var g = no_grad(); using var s = NewDisposeScope(); model.Forward(list); }, // as Detect: no autograd, RoIAlign's inference loop
            () => { using var s = NewDisposeScope(); onnx.RunGraph(x, whwh); });
        Row(what + ", network only", $"{x.shape[2]}x{x.shape[3]} padded, {model.Config.NumProposals} proposals", batch, net);
    }

    /// <summary>
    /// `predict` from PNG files (decode, both models, decision rule, predictions and overlays written) with each backend,
    /// and the same pipelines on the images already decoded ("models only" as the predict bench defines it).
    /// Without runs: random cpu-preset runs, exported, in a temporary folder.
    /// </summary>
    private static void EndToEnd(string classifier, string detector, int n, int steps)
    {
        string root = Path.Combine(Path.GetTempPath(), "spinexr-bench-onnx-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        try
        {
            if (classifier == "" || detector == "") (classifier, detector) = RandomCpuRuns(root);
            foreach (var run in new[] { classifier, detector })
                if (!File.Exists(Path.Combine(run, OnnxRunModel.FileName)))
                    throw new InvalidOperationException($"{run}: no {OnnxRunModel.FileName}; run `spinexr model export {run} --format onnx --out {run}/model.onnx`");
            var files = Enumerable.Range(0, n).Select(i => WritePng(Path.Combine(root, "images", $"img{i:D3}.png"), 1000 + 8 * i, 800 + 5 * i, i)).ToList();
            Console.WriteLine();
            Console.WriteLine($"predict, {n} PNG images of ~1000 x 800 px, batch 8, 2 decoding workers; classifier {classifier}, detector {detector}");
            Console.WriteLine("| run | libtorch img/s | ONNX Runtime img/s | speed-up |");
            Console.WriteLine("|---|---|---|---|");
            using var torchPipe = SpinePipeline.Load([classifier], [detector]);
            using var onnxPipe = SpinePipeline.Load([classifier], [detector], new SpinePipelineOptions { Engine = new InferenceEngine { Backend = InferenceBackend.Onnx } });
            PredictionJobOptions Options(string outDir) => new() { OutDir = outDir, Quiet = true, BatchSize = 8, Workers = 2, Force = true };
            var decoded = files.Select(PredictionJob.Loader(torchPipe, Options(root))).ToList();
            void Models(SpinePipeline p) { for (int s = 0; s < decoded.Count; s += 8) p.Predict(decoded.Skip(s).Take(8).ToList()); }
            var models = BestOf(steps, () => Models(torchPipe), () => Models(onnxPipe));
            Console.WriteLine($"| models only (decoded in memory) | {n / models.A:F2} | {n / models.B:F2} | {models.A / models.B:F2}x |");
            void Job(SpinePipeline p, string name)
            {
                var o = Options(Path.Combine(root, name));
                new PredictionJob(p, PredictionJob.Loader(p, o), o).Run(files, []);
            }
            var job = BestOf(steps, () => Job(torchPipe, "out-torch"), () => Job(onnxPipe, "out-onnx"));
            Console.WriteLine($"| predict end to end | {n / job.A:F2} | {n / job.B:F2} | {job.A / job.B:F2}x |");
        }
        finally { Directory.Delete(root, recursive: true); }
    }

    private static (string Classifier, string Detector) RandomCpuRuns(string root)
    {
        string cls = Path.Combine(root, "cls"), det = Path.Combine(root, "det");
        Directory.CreateDirectory(cls);
        Directory.CreateDirectory(det);
        using (var model = DenseNets.Create("densenet_small", 1)) StateDict.SaveSafeTensors(model, Path.Combine(cls, "weights.safetensors"));
        var c = ClassifierTrainConfig.Cpu.Model;
        new ModelCard(ModelCard.ClassifierTask, c.Arch, ["abnormal"], c.InputSize, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225], [],
            new Provenance("bench", System.Text.Json.JsonDocument.Parse("{}").RootElement, "unknown", DateTime.UnixEpoch, 0)).Save(cls);
        var config = DetectorTrainConfig.Cpu("retinanet");
        using (var model = config.BuildModel(7))
        {
            BusyHead(model);
            StateDict.SaveSafeTensors(model, Path.Combine(det, "weights.safetensors"));
        }
        DetectorTrainer.Card(config, ["c0", "c1", "c2", "c3", "c4", "c5", "c6"], "bench", null).Save(det);
        ClassifierOnnxExport.ExportRun(cls, Path.Combine(cls, OnnxRunModel.FileName));
        DetectorOnnxExport.ExportRun(det, Path.Combine(det, OnnxRunModel.FileName));
        return (cls, det);
    }

    /// <summary>A smooth 8-bit test pattern with noise (compressible like a radiograph, not a constant).</summary>
    private static string WritePng(string path, int w, int h, int seed)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var rng = new Random(seed);
        var px = new byte[w * h];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                px[y * w + x] = (byte)Math.Clamp(128 + 60 * Math.Sin(x / 37.0 + seed) * Math.Cos(y / 53.0) + rng.Next(-10, 11), 0, 255);
        PngWriter.SaveGray8(path, w, h, px);
        return path;
    }
}
