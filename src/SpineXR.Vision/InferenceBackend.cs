// Which engine runs a trained model at inference (docs/onnx.md): TorchSharp's libtorch on the module rebuilt from
// weights.safetensors, or ONNX Runtime on RUN/model.onnx written by `spinexr model export`.
namespace SpineXR.Vision;

/// <summary>The inference engine: <see cref="Libtorch"/> (the default) or <see cref="Onnx"/> (ONNX Runtime).</summary>
public enum InferenceBackend
{
    Libtorch,
    Onnx,
}
