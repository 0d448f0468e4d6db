// The ONNX Runtime backend of a RetinaNet run: the libtorch model's own input transform (normalise, resize, pad to
// multiples of 32) in TorchSharp, the exported graph (backbone, FPN, heads) in ONNX Runtime, then the same
// post-processing object the libtorch model uses (RetinaNetPostProcess), so the two engines differ only in the graph.
using Microsoft.ML.OnnxRuntime;
using SpineXR.Vision.Detection;
using SpineXR.Vision.Detection.Ops;
using static TorchSharp.torch;

namespace SpineXR.Vision.Onnx;

/// <summary>A RetinaNet export run by ONNX Runtime, behind the same <see cref="IDetectionModel"/> as the module.</summary>
public sealed class OnnxRetinaNet : IDetectionModel, IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _run = new();
    private readonly GeneralizedRCNNTransform _transform;
    private readonly RetinaNetPostProcess _post;
    private static readonly string[] Inputs = [RetinaNetOnnxExporter.InputName];
    private static readonly string[] Outputs = [RetinaNetOnnxExporter.ClsLogitsName, RetinaNetOnnxExporter.BboxRegressionName, RetinaNetOnnxExporter.LevelSizesName];

    public int FirstClassLabel => 0;
    public int NumObjectClasses { get; }

    /// <summary>Takes ownership of <paramref name="session"/>; <paramref name="path"/> names the file in errors.</summary>
    public OnnxRetinaNet(InferenceSession session, RetinaNetConfig config, string path)
    {
        OnnxHeadGraph.Check(session, Inputs, Outputs, path, "RetinaNet");
        int classes = session.OutputMetadata[RetinaNetOnnxExporter.ClsLogitsName].Dimensions[^1];
        if (classes != config.NumClasses) throw new InvalidDataException($"{path}: {classes} classes, the run's model card has {config.NumClasses}");
        _session = session;
        NumObjectClasses = config.NumClasses;
        _transform = new GeneralizedRCNNTransform(config.MinSize, config.MaxSize);
        _post = new RetinaNetPostProcess(config);
    }

    public List<DetectionOutput> Detect(IReadOnlyList<Tensor> images)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var list = _transform.Forward(images);
        var (cls, reg, levels) = RunGraph(list.Tensors.contiguous());
        return _post.Detect(cls, reg, list, levels, images.Select(im => (im.shape[1], im.shape[2])).ToArray())
            .Select(d => d.MoveToOuterDisposeScope()).ToList();
    }

    /// <summary>
    /// The graph alone on a contiguous float32 batch already transformed (export checks, benchmarks): head outputs as
    /// libtorch tensors in the caller's dispose scope, and the level sizes.
    /// </summary>
    public (Tensor Cls, Tensor Reg, (long H, long W)[] Levels) RunGraph(Tensor x) => OnnxHeadGraph.Run(_session, _run, Inputs, Outputs, x);

    public void Dispose()
    {
        _session.Dispose();
        _run.Dispose();
    }
}
