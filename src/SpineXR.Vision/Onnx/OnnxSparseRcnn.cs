// The ONNX Runtime backend of a Sparse R-CNN run: the libtorch model's own input transform in TorchSharp, the exported
// graph (backbone, FPN, every stage with its RoI pooling) in ONNX Runtime, then the post-processing the libtorch model
// runs (SparseRcnn.Postprocess: top-k over proposals x classes, boxes back to original pixels, optional NMS).
using Microsoft.ML.OnnxRuntime;
using TensorElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;
using SpineXR.Vision.Detection;
using SpineXR.Vision.Detection.Ops;
using static TorchSharp.torch;

namespace SpineXR.Vision.Onnx;

/// <summary>A Sparse R-CNN export run by ONNX Runtime, behind the same <see cref="IDetectionModel"/> as the module.</summary>
public sealed class OnnxSparseRcnn : IDetectionModel, IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _run = new();
    private readonly GeneralizedRCNNTransform _transform;
    private readonly SparseRcnnConfig _config;
    private static readonly string[] Inputs = [SparseRcnnOnnxExporter.InputName, SparseRcnnOnnxExporter.ImageSizesName];
    private static readonly string[] Outputs = [SparseRcnnOnnxExporter.LogitsName, SparseRcnnOnnxExporter.BoxesName];

    public int FirstClassLabel => 0;
    public int NumObjectClasses => _config.NumClasses;

    /// <summary>
    /// Takes ownership of <paramref name="session"/>; <paramref name="path"/> names the file in errors.
    /// <paramref name="config"/> gives the transform, the detections kept and the NMS (the run's model card, as for libtorch).
    /// </summary>
    public OnnxSparseRcnn(InferenceSession session, SparseRcnnConfig config, string path)
    {
        OnnxHeadGraph.Check(session, Inputs, Outputs, path, "Sparse R-CNN");
        var dims = session.OutputMetadata[SparseRcnnOnnxExporter.LogitsName].Dimensions;
        if (dims[^1] != config.NumClasses || dims[^2] != config.NumProposals)
            throw new InvalidDataException($"{path}: {dims[^2]} proposals x {dims[^1]} classes, the run's model card has {config.NumProposals} x {config.NumClasses}");
        _session = session;
        _config = config;
        _transform = new GeneralizedRCNNTransform(config.MinSize, config.MaxSize);
    }

    public List<DetectionOutput> Detect(IReadOnlyList<Tensor> images)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var list = _transform.Forward(images);
        var whwh = SparseRcnn.ImageWhwh(list);
        var (logits, boxes) = RunGraph(list.Tensors.contiguous(), whwh);
        var result = new List<DetectionOutput>(images.Count);
        for (int i = 0; i < images.Count; i++)
        {
            var (b, s, l) = SparseRcnn.Postprocess(_config, logits[i], boxes[i], list.ImageSizes[i], (images[i].shape[^2], images[i].shape[^1]));
            result.Add(new DetectionOutput(b.MoveToOuterDisposeScope(), s.MoveToOuterDisposeScope(), l.MoveToOuterDisposeScope()));
        }
        return result;
    }

    /// <summary>
    /// The graph alone on a contiguous float32 batch already transformed and its images' (W, H, W, H) (export checks,
    /// benchmarks): the last stage's logits (N, Q, C) and boxes (N, Q, 4), libtorch tensors in the caller's scope.
    /// </summary>
    public unsafe (Tensor Logits, Tensor Boxes) RunGraph(Tensor x, Tensor whwh)
    {
        var bytes = x.bytes;
        var sizes = whwh.to(ScalarType.Float32).contiguous().data<float>().ToArray();
        // The OrtValue reads x's libtorch buffer in place; x is alive in the caller's scope until after Run and the copies.
        fixed (byte* p = bytes)
        {
            using var images = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, TensorElementType.Float, x.shape, (IntPtr)p, bytes.Length);
            using var imageSizes = OrtValue.CreateTensorValueFromMemory(sizes, [x.shape[0], 4]);
            using var outputs = _session.Run(_run, Inputs, [images, imageSizes], Outputs);
            return (OnnxHeadGraph.ToTensor(outputs[0]), OnnxHeadGraph.ToTensor(outputs[1]));
        }
    }

    public void Dispose()
    {
        _session.Dispose();
        _run.Dispose();
    }
}
