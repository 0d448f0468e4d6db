using System.Text.Json;
using SpineXR.Imaging;
using SpineXR.Vision;
using SpineXR.Vision.Configuration;
using SpineXR.Vision.Detection;
using SpineXR.Vision.Detection.Training;
using SpineXR.Vision.Models;
using SpineXR.Vision.Training;
using SpineXR.Vision.Weights;
using static TorchSharp.torch;

namespace SpineXR.Cli.Tests.Commands;

/// <summary>`model export` of an EfficientDet and a Sparse R-CNN run, `predict --backend onnx` against libtorch (RetinaNet, Faster R-CNN: OnnxBackendCommandTests).</summary>
public sealed class DetectorOnnxCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("spinexr-onnx-effdet-cli-").FullName;

    public DetectorOnnxCommandTests() => TorchRuntime.EnsureLoaded();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Classifier()
    {
        string cls = Path.Combine(_dir, "cls");
        Directory.CreateDirectory(cls);
        using (var model = DenseNets.Create("densenet_tiny", 1)) StateDict.SaveSafeTensors(model, Path.Combine(cls, "weights.safetensors"));
        new ModelCard("classifier", "densenet_tiny", ["abnormal"], 64, [0.5, 0.5, 0.5], [0.25, 0.25, 0.25], [],
            new Provenance("test", JsonDocument.Parse("{}").RootElement, "unknown", DateTime.UnixEpoch, 0)).Save(cls);
        return cls;
    }

    /// <summary>The two test images' 8-bit pixels (width, height, row-major).</summary>
    private static (int W, int H, byte[] Pixels)[] Pixels() => Enumerable.Range(0, 2).Select(i =>
    {
        int w = 150 + 20 * i, h = 120;
        var px = new byte[w * h];
        for (int k = 0; k < px.Length; k++) px[k] = (byte)(127 + 100 * Math.Sin(k % w / (9.0 + i)) * Math.Cos(k / w / 7.0));
        return (w, h, px);
    }).ToArray();

    private string Images()
    {
        string images = Path.Combine(_dir, "images");
        Directory.CreateDirectory(images);
        var all = Pixels();
        for (int i = 0; i < all.Length; i++) PngWriter.SaveGray8(Path.Combine(images, $"img{i}.png"), all[i].W, all[i].H, all[i].Pixels);
        return images;
    }

    /// <summary>
    /// The cpu preset's EfficientDet at a test size, with weights that give detections: BatchNorm statistics from one
    /// train-mode pass (momentum 1), the class net's bias at -2 and its output conv scaled so that scores spread above
    /// the 0.05 threshold without saturating.
    /// </summary>
    private string EfficientDetRun()
    {
        string det = Path.Combine(_dir, "det");
        Directory.CreateDirectory(det);
        var config = DetectorTrainConfig.Cpu("efficientdet-d0").With([new("fpn_channels", "16"), new("backbone_width", "0.25"), new("min_sizes", "128"), new("max_size", "256")]);
        manual_seed(4);
        using (var model = (EfficientDet)config.BuildModel(3))
        {
            using (no_grad())
                foreach (var (name, p) in model.named_parameters())
                    if (name == "class_net.predict.conv_pw.bias") p.fill_(-2.0);
            using (var scope = NewDisposeScope())
            {
                var images = BatchNormStatisticsOfTheTestImages(model);
                // the output convs scaled on this image: class logits within -2 +- 4 (no saturated, tied scores), box deltas within +-1
                var (cls, box, _) = model.HeadOutputs(model.Transform.Forward(images).Tensors);
                double clsRange = (cls + 2.0).abs().max().item<float>(), boxRange = box.abs().max().item<float>();
                using (no_grad())
                    foreach (var (name, p) in model.named_parameters())
                    {
                        if (name == "class_net.predict.conv_pw.weight") p.mul_(4 / clsRange);
                        else if (name == "box_net.predict.conv_pw.weight") p.div_(boxRange);
                        else if (name == "box_net.predict.conv_pw.bias") p.zero_();
                    }
            }
            StateDict.SaveSafeTensors(model, Path.Combine(det, "weights.safetensors"));
        }
        DetectorTrainer.Card(config, ["a", "b", "c"], "test", null).Save(det);
        return det;
    }

    /// <summary>
    /// BatchNorm statistics of the test images themselves, as predict gives them to the detector (grayscale in [0, 1]
    /// repeated to 3 channels): one train-mode pass with momentum 1, then eval mode. Returns the images (caller's scope).
    /// </summary>
    private static Tensor[] BatchNormStatisticsOfTheTestImages<T>(T model) where T : nn.Module, IObjectDetector
    {
        foreach (var (_, m) in model.named_modules())
            if (m is TorchSharp.Modules.BatchNorm2d bn) bn.momentum = 1.0;
        var images = Pixels().Select(p => tensor(p.Pixels.Select(b => b / 255f).ToArray()).view(1, p.H, p.W).expand(3, p.H, p.W)).ToArray();
        model.train();
        model.Losses(images, images.Select(_ => new DetectionTarget(tensor(new float[] { 20, 20, 90, 100 }).view(1, 4), tensor(new long[] { 1 }))).ToList(), new Random(1));
        model.eval();
        return images;
    }

    private static List<(string Image, int Class, double[] Box, double Score)> Detections(string outDir)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "detections.json")));
        return doc.RootElement.EnumerateArray().Select(e => (e.GetProperty("image_id").GetString()!, e.GetProperty("category_id").GetInt32(),
            e.GetProperty("bbox").EnumerateArray().Select(v => v.GetDouble()).ToArray(), e.GetProperty("score").GetDouble())).ToList();
    }

    /// <summary>IoU of xywh boxes; two boxes of zero area (clipped flat against the border) match when their corners agree within 0.01 px.</summary>
    private static double Iou(double[] a, double[] b)
    {
        if (a[2] * a[3] <= 0 || b[2] * b[3] <= 0) return a.Zip(b).All(v => Math.Abs(v.First - v.Second) <= 0.01) ? 1 : 0;
        double w = Math.Min(a[0] + a[2], b[0] + b[2]) - Math.Max(a[0], b[0]), h = Math.Min(a[1] + a[3], b[1] + b[3]) - Math.Max(a[1], b[1]);
        double inter = Math.Max(0, w) * Math.Max(0, h), union = a[2] * a[3] + b[2] * b[3] - inter;
        return union > 0 ? inter / union : 0;
    }

    [Fact]
    public void ExportedEfficientDetPredictsAsLibtorchOnTheOnnxBackend() => PredictsAsLibtorchOnTheOnnxBackend(EfficientDetRun());

    [Fact]
    public void ExportedSparseRcnnPredictsAsLibtorchOnTheOnnxBackend() => PredictsAsLibtorchOnTheOnnxBackend(SparseRcnnRun());

    /// <summary>
    /// A narrow Sparse R-CNN (the cpu preset at base width 8, 16 channels, 128 px) with weights that give spread
    /// scores: the learned proposals spread over the image (the initial ones all cover the whole image, and NMS 0.7 would
    /// keep one box per class), BatchNorm statistics from one train-mode pass (momentum 1), the last stage's class layer scaled to logits
    /// of standard deviation 1.5 around -1 (the focal prior leaves every score near 0.01, tied within rounding), every
    /// stage's box deltas shrunk tenfold (boxes still refined at each stage, without the jumps a random network makes).
    /// </summary>
    private string SparseRcnnRun()
    {
        string det = Path.Combine(_dir, "sparse");
        Directory.CreateDirectory(det);
        var config = DetectorTrainConfig.Cpu("sparse-rcnn").With([new("base_width", "8"), new("fpn_channels", "16"), new("min_sizes", "128"), new("max_size", "160")]);
        manual_seed(4);
        using (var model = (SparseRcnn)config.BuildModel(3))
        {
            using (no_grad())
                model.state_dict()["init_proposal_boxes.weight"].copy_(SparseRcnn.InitialProposals(model.Config.NumProposals, ProposalInit.Grid));
            using (var scope = NewDisposeScope())
            {
                var images = BatchNormStatisticsOfTheTestImages(model);
                var state = model.state_dict();
                string last = $"head.head_series.{model.Config.NumStages - 1}.class_logits";
                using (no_grad())
                {
                    foreach (var (name, p) in state)
                        if (name.Contains(".bboxes_delta.", StringComparison.Ordinal)) p.mul_(0.1);
                    var (logits, _, _) = model.Forward(model.Transform.Forward(images));
                    state[last + ".weight"].mul_(1.5 / (logits[-1] - state[last + ".bias"]).std().item<float>());
                    state[last + ".bias"].fill_(-1.0);
                }
            }
            StateDict.SaveSafeTensors(model, Path.Combine(det, "weights.safetensors"));
        }
        DetectorTrainer.Card(config, ["a", "b", "c"], "test", null).Save(det);
        return det;
    }

    private void PredictsAsLibtorchOnTheOnnxBackend(string det)
    {
        string cls = Classifier(), images = Images();
        Assert.Equal(0, Program.Run(["model", "export", cls, "--format", "onnx", "--out", Path.Combine(cls, "model.onnx")]));
        Assert.Equal(0, Program.Run(["model", "export", det, "--format", "onnx", "--out", Path.Combine(det, "model.onnx")]));

        var (a, b) = OnnxBackendCommandTests.PredictOnBothBackends(_dir, images, cls, det);

        // detections.json holds the detector's boxes before the decision rule: libtorch's best 20 per image found again
        var expected = Detections(a);
        var got = Detections(b);
        foreach (var image in new[] { "img0", "img1" })
        {
            var mine = expected.Where(d => d.Image == image).OrderByDescending(d => d.Score).Take(20).ToList();
            Assert.True(mine.Count == 20, $"{image}: libtorch gave {mine.Count} detections");
            foreach (var d in mine)
                Assert.True(got.Any(g => g.Image == image && g.Class == d.Class && Math.Abs(g.Score - d.Score) <= 1e-3 && Iou(g.Box, d.Box) >= 0.98),
                    $"{image}: libtorch's class {d.Class} score {d.Score} [{string.Join(", ", d.Box)}] not found; onnx's best: " +
                    string.Join("; ", got.Where(g => g.Image == image).OrderByDescending(g => g.Score).Take(3).Select(g => $"{g.Class} {g.Score} [{string.Join(", ", g.Box)}]")));
        }
    }
}
