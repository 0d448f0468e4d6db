// ONNX Runtime sessions over a run directory's model.onnx (written by `spinexr model export`). The file must have
// been exported from the run's own weights: the exporter records the SHA-256 of weights.safetensors in the model's
// metadata, and opening compares it with the weights on disk, so a retrained run never serves a stale graph.
using System.Security.Cryptography;
using Microsoft.ML.OnnxRuntime;

namespace SpineXR.Vision.Onnx;

/// <summary>Opens <c>RUN/model.onnx</c> in ONNX Runtime on the requested device, after checking it belongs to <c>RUN/weights.safetensors</c>.</summary>
public static class OnnxRunModel
{
    /// <summary>File name of the exported graph inside a run directory.</summary>
    public const string FileName = "model.onnx";

    /// <summary>Metadata key holding the lowercase hex SHA-256 of the weights file the graph was exported from.</summary>
    public const string WeightsDigestKey = "spinexr.weights_sha256";

    private const string CudaProvider = "CUDAExecutionProvider";

    /// <summary>Lowercase hex SHA-256 of a file.</summary>
    public static string Sha256(string path)
    {
        using var f = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(f));
    }

    /// <summary>
    /// Session options for <paramref name="device"/>: all graph optimisations, no spinning between runs; on cuda, the CUDA execution provider
    /// (device 0) ahead of the CPU one. Throws <see cref="NotSupportedException"/> in one line when this build of ONNX
    /// Runtime has no CUDA provider (the default Microsoft.ML.OnnxRuntime package is CPU-only).
    /// </summary>
    public static SessionOptions Options(InferenceDevice device, int intraOpThreads = 0)
    {
        if (device == InferenceDevice.Cuda)
        {
            var providers = OrtEnv.Instance().GetAvailableProviders();
            if (!providers.Contains(CudaProvider))
                throw new NotSupportedException($"--device cuda: this ONNX Runtime has no CUDA provider (it has {string.Join(", ", providers)}); " +
                                                "build with -p:SpineXROnnxRuntime=Microsoft.ML.OnnxRuntime.Gpu.Linux on a machine with CUDA 12 and cuDNN 9");
        }
        var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        try
        {
            // No busy-waiting of ONNX Runtime's pool between runs: in SpineXR the same cores decode images and run
            // libtorch's transform and post-processing right after each run (docs/onnx.md, speed).
            options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
            if (intraOpThreads > 0) options.IntraOpNumThreads = intraOpThreads;
            if (device == InferenceDevice.Cuda) options.AppendExecutionProvider_CUDA(0);
            return options;
        }
        catch
        {
            options.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The session of <c>RUN/model.onnx</c>. Throws <see cref="InvalidDataException"/> naming the file when it is missing,
    /// carries no weights digest, or was exported from other weights than <c>RUN/weights.safetensors</c>.
    /// </summary>
    public static InferenceSession Open(string runDir, InferenceDevice device, int intraOpThreads = 0)
    {
        string path = Path.Combine(runDir, FileName);
        string weights = Path.Combine(runDir, "weights.safetensors");
        if (!File.Exists(path))
            throw new InvalidDataException($"{path}: not found; export it with `spinexr model export {runDir} --format onnx --out {path}`");
        if (!File.Exists(weights)) throw new InvalidDataException($"{weights}: not found, so {path} cannot be checked against the run's weights");
        using var options = Options(device, intraOpThreads);
        InferenceSession session;
        try { session = new InferenceSession(path, options); }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException($"{path}: ONNX Runtime cannot load it: {e.Message.Split('\n')[0]}", e);
        }
        try
        {
            CheckWeights(session.ModelMetadata.CustomMetadataMap, path, weights);
            return session;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>Throws unless <paramref name="metadata"/> records the SHA-256 of <paramref name="weightsPath"/>.</summary>
    public static void CheckWeights(IReadOnlyDictionary<string, string> metadata, string onnxPath, string weightsPath)
    {
        if (!metadata.TryGetValue(WeightsDigestKey, out var recorded))
            throw new InvalidDataException($"{onnxPath}: records no weights digest ({WeightsDigestKey}); export it again with `spinexr model export`");
        string actual = Sha256(weightsPath);
        if (!string.Equals(recorded, actual, StringComparison.Ordinal))
            throw new InvalidDataException($"{onnxPath}: exported from other weights (sha256 {recorded[..Math.Min(12, recorded.Length)]}) than {weightsPath} " +
                                           $"(sha256 {actual[..12]}); export it again with `spinexr model export`");
    }

    /// <summary>Metadata value as an int; the error names the file and key.</summary>
    internal static int MetadataInt(IReadOnlyDictionary<string, string> metadata, string key, string path) =>
        metadata.TryGetValue(key, out var v) && int.TryParse(v, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int i)
            ? i : throw new InvalidDataException($"{path}: metadata '{key}' missing or not an integer");
}
