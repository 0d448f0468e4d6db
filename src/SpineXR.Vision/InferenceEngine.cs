// Engine and device of an inference run, as `predict` and `serve` take them (--backend, --device; docs/onnx.md).
namespace SpineXR.Vision;

/// <summary>Engine and device of an inference run; the default is libtorch on the CPU.</summary>
public sealed record InferenceEngine
{
    public InferenceBackend Backend { get; init; } = InferenceBackend.Libtorch;
    public InferenceDevice Device { get; init; } = InferenceDevice.Cpu;

    /// <summary>libtorch on the CPU, as every run before issue 21.</summary>
    public static InferenceEngine Default { get; } = new();

    /// <summary>SpineXR's libtorch models run on the CPU only (TorchSharp-cpu; their modules are never moved to a GPU).</summary>
    public InferenceEngine Validate()
    {
        if (Backend == InferenceBackend.Libtorch && Device == InferenceDevice.Cuda)
            throw new ArgumentException("the libtorch backend runs on the CPU only; use --backend onnx with ONNX Runtime's GPU package for cuda", nameof(Device));
        return this;
    }

    /// <summary>Parses the CLI's <c>--backend libtorch|onnx</c> and <c>--device cpu|cuda</c> values (null = default).</summary>
    public static InferenceEngine Parse(string? backend, string? device) => new InferenceEngine
    {
        Backend = backend switch
        {
            null or "libtorch" => InferenceBackend.Libtorch,
            "onnx" => InferenceBackend.Onnx,
            _ => throw new ArgumentException($"unknown backend '{backend}' (libtorch, onnx)", nameof(Backend)),
        },
        Device = device switch
        {
            null or "cpu" => InferenceDevice.Cpu,
            "cuda" => InferenceDevice.Cuda,
            _ => throw new ArgumentException($"unknown device '{device}' (cpu, cuda)", nameof(Device)),
        },
    }.Validate();
}
