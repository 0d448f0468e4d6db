// Where an inference engine runs (docs/onnx.md, `--device`).
namespace SpineXR.Vision;

/// <summary>Where the engine runs: the CPU, or an NVIDIA GPU through ONNX Runtime's CUDA provider.</summary>
public enum InferenceDevice
{
    Cpu,
    Cuda,
}
