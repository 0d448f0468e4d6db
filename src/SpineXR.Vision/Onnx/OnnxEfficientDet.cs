// The ONNX Runtime backend of an EfficientDet run: the libtorch model's own input transform (normalise, resize, pad
// to multiples of 128) in TorchSharp, the exported graph (EfficientNet, BiFPN, class and box nets) in ONNX Runtime,
// then the same post-processing object the libtorch model uses (EfficientDetPostProcess), so the two engines differ
// only in the graph.
using Microsoft.ML.OnnxRuntime;
using SpineXR.Vision.Detection;
using SpineXR.Vision.Detection.Ops;
using static TorchSharp.torch;

namespace SpineXR.Vision.Onnx;

/// <summary>An EfficientDet export run by ONNX Runtime, behind the same <see cref="IDetectionModel"/> as the module.</summary>
public sealed class OnnxEfficientDet : IDetectionModel, IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _run = new();
    private readonly GeneralizedRCNNTransform _transform;
    private readonly EfficientDetPostProcess _post;
    private static readonly string[] Inputs = [EfficientDetOnnxExporter.InputName];
    private static readonly string[] Outputs = [EfficientDetOnnxExporter.ClsLogitsName, EfficientDetOnnxExporter.BoxRegressionName, EfficientDetOnnxExporter.LevelSizesName];

    public int FirstClassLabel => 0;
    public int NumObjectClasses { get; }

    /// <summary>Takes ownership of <paramref name="session"/>; <paramref name="path"/> names the file in errors.</summary>
    public OnnxEfficientDet(InferenceSession session, EfficientDetConfig config, string path)
    {
        OnnxHeadGraph.Check(session, Inputs, Outputs, path, "EfficientDet");
        int classes = session.OutputMetadata[EfficientDetOnnxExporter.ClsLogitsName].Dimensions[^1];
        if (classes != config.NumClasses) throw new InvalidDataException($"{path}: {classes} classes, the run's model card has {config.NumClasses}");
        _session = session;
        NumObjectClasses = config.NumClasses;
        _transform = EfficientDet.InputTransform(config);
        _post = new EfficientDetPostProcess(config);
    }

    public List<DetectionOutput> Detect(IReadOnlyList<Tensor> images)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var list = _transform.Forward(images);
        var (cls, box, levels) = RunGraph(list.Tensors.contiguous());
        return _post.Detect(cls, box, list, levels, images.Select(im => (im.shape[1], im.shape[2])).ToArray())
            .Select(d => d.MoveToOuterDisposeScope()).ToList();
    }

    /// <summary>
    /// The graph alone on a contiguous float32 batch already transformed (export checks, benchmarks): class and box net
    /// outputs as libtorch tensors in the caller's dispose scope, and the level sizes.
    /// </summary>
    public (Tensor Cls, Tensor Box, (long H, long W)[] Levels) RunGraph(Tensor x) => OnnxHeadGraph.Run(_session, _run, Inputs, Outputs, x);

    public void Dispose()
    {
        _session.Dispose();
        _run.Dispose();
    }
}
