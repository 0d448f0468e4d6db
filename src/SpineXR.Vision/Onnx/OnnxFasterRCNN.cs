// The ONNX Runtime backend of a Faster R-CNN run: the libtorch model's own input transform in TorchSharp, the export's
// first network (backbone, FPN, RPN head) in ONNX Runtime, then the objects the libtorch model itself runs between its
// modules (anchors, RpnProposals, MultiScaleRoIAlign), the export's second network (box head) in ONNX Runtime, and
// the box post-processing (RoIHeadsPostProcess, boxes mapped back), so the two engines differ only in the networks.
using Microsoft.ML.OnnxRuntime;
using TensorElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;
using SpineXR.Vision.Detection;
using SpineXR.Vision.Detection.Ops;
using static TorchSharp.torch;

namespace SpineXR.Vision.Onnx;

/// <summary>A Faster R-CNN export run by ONNX Runtime, behind the same <see cref="IDetectionModel"/> as the module.</summary>
public sealed class OnnxFasterRCNN : IDetectionModel, IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _run = new();
    private readonly GeneralizedRCNNTransform _transform;
    private readonly AnchorGenerator _anchors;
    private readonly RpnProposals _proposals;
    private readonly MultiScaleRoIAlign _pool;
    private readonly RoIHeadsPostProcess _post;
    private readonly long _classes, _channels;

    private static readonly string[] Inputs = [FasterRcnnOnnxExporter.InputName, FasterRcnnOnnxExporter.BoxFeaturesName];
    private static readonly string[] NetworkOutputs =
        [FasterRcnnOnnxExporter.ObjectnessName, FasterRcnnOnnxExporter.RpnDeltasName, FasterRcnnOnnxExporter.LevelSizesName, .. FasterRcnnOnnxExporter.FeatureNames];
    private static readonly string[] BoxHeadOutputs = [FasterRcnnOnnxExporter.ClassLogitsName, FasterRcnnOnnxExporter.BoxRegressionName];

    /// <summary>
    /// What the network part is fed while the box head runs (ONNX Runtime runs every node of the graph on each call):
    /// the smallest batch the backbone takes, one 32 x 32 image of zeros.
    /// </summary>
    private static readonly long[] IdleImages = [1, 3, 32, 32];

    public int FirstClassLabel => 1;
    public int NumObjectClasses { get; }

    /// <summary>
    /// Takes ownership of <paramref name="session"/>; <paramref name="path"/> names the file in errors.
    /// <paramref name="config"/> gives the transform, anchors and thresholds (the run's model card, as for libtorch).
    /// </summary>
    public OnnxFasterRCNN(InferenceSession session, FasterRcnnConfig config, string path)
    {
        OnnxHeadGraph.Check(session, Inputs, [.. NetworkOutputs, .. BoxHeadOutputs], path, "Faster R-CNN");
        int classes = session.OutputMetadata[FasterRcnnOnnxExporter.ClassLogitsName].Dimensions[^1];
        if (classes != config.NumClasses) throw new InvalidDataException($"{path}: {classes} classes with background, the run's model card has {config.NumClasses}");
        _session = session;
        _classes = config.NumClasses;
        _channels = session.InputMetadata[FasterRcnnOnnxExporter.BoxFeaturesName].Dimensions[1];
        NumObjectClasses = config.NumClasses - 1;
        _transform = new GeneralizedRCNNTransform(config.MinSize, config.MaxSize);
        _anchors = FasterRCNN.CreateAnchors(config);
        _proposals = new RpnProposals(config.Rpn);
        _pool = FasterRCNN.CreateBoxRoIPool();
        _post = new RoIHeadsPostProcess(config.RoIHeads);
    }

    public List<DetectionOutput> Detect(IReadOnlyList<Tensor> images)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var list = _transform.Forward(images);
        var (objectness, deltas, levels, features) = RunNetwork(list.Tensors.contiguous());
        var anchors = _anchors.Generate(list.Tensors.shape[2], list.Tensors.shape[3], levels);
        var proposals = _proposals.Select(objectness, deltas, anchors, list.ImageSizes, levels, training: false);
        var boxFeatures = _pool.Forward(features, proposals, list.ImageSizes);
        var (classLogits, boxRegression) = RunBoxHead(boxFeatures.contiguous());
        var dets = _post.Detect(classLogits, boxRegression, proposals, list.ImageSizes);
        return FasterRCNN.ToOriginalSizes(dets, list, images).Select(d => d.MoveToOuterDisposeScope()).ToList();
    }

    /// <summary>
    /// The first network alone on a contiguous float32 batch already transformed (export checks, benchmarks): objectness
    /// (N, sum HWA), deltas (N, sum HWA, 4), the sizes of P2..P6 and the maps P2..P5, as libtorch tensors in the caller's
    /// scope. The box head is fed no RoIs.
    /// </summary>
    public unsafe (Tensor Objectness, Tensor Deltas, (long H, long W)[] Levels, Tensor[] Features) RunNetwork(Tensor x)
    {
        var bytes = x.bytes;
        // The OrtValue reads x's libtorch buffer in place; x is alive in the caller's scope until after Run and the copies.
        fixed (byte* p = bytes)
        {
            using var input = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, TensorElementType.Float, x.shape, (IntPtr)p, bytes.Length);
            using var noRois = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, TensorElementType.Float, [0, _channels, _pool.OutputSize, _pool.OutputSize]);
            using var outputs = _session.Run(_run, Inputs, [input, noRois], NetworkOutputs);
            var features = Enumerable.Range(3, FasterRcnnOnnxExporter.FeatureNames.Count).Select(i => OnnxHeadGraph.ToTensor(outputs[i])).ToArray();
            return (OnnxHeadGraph.ToTensor(outputs[0]), OnnxHeadGraph.ToTensor(outputs[1]), OnnxHeadGraph.LevelSizes(outputs[2]), features);
        }
    }

    /// <summary>
    /// The second network alone on contiguous pooled features (K, C, 7, 7): class logits (K, classes) and deltas
    /// (K, classes * 4). The network part is fed <see cref="IdleImages"/>.
    /// </summary>
    public unsafe (Tensor ClassLogits, Tensor BoxRegression) RunBoxHead(Tensor boxFeatures)
    {
        if (boxFeatures.shape[0] == 0) return (zeros(0, _classes), zeros(0, 4 * _classes)); // no proposals: nothing to run
        var bytes = boxFeatures.bytes;
        fixed (byte* p = bytes)
        {
            using var input = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, TensorElementType.Float, boxFeatures.shape, (IntPtr)p, bytes.Length);
            using var idle = OrtValue.CreateTensorValueFromMemory(new float[IdleImages.Aggregate(1L, (a, b) => a * b)], IdleImages);
            using var outputs = _session.Run(_run, Inputs, [idle, input], BoxHeadOutputs);
            return (OnnxHeadGraph.ToTensor(outputs[0]), OnnxHeadGraph.ToTensor(outputs[1]));
        }
    }

    public void Dispose()
    {
        _session.Dispose();
        _run.Dispose();
    }
}
