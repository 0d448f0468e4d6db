// One run of a single-stage detector's exported graph (RetinaNet, EfficientDet): the padded batch in, the two head
// outputs and the pyramid's level sizes out, as libtorch tensors for the shared C# post-processing; and the output
// copies Faster R-CNN's session uses too.
using Microsoft.ML.OnnxRuntime;
using TensorElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;
using static TorchSharp.torch;

namespace SpineXR.Vision.Onnx;

/// <summary>Runs a graph with one float32 input and outputs (class logits, box regression, int64 level sizes).</summary>
internal static class OnnxHeadGraph
{
    /// <summary>Throws naming <paramref name="path"/> unless the session has every one of <paramref name="inputs"/> and <paramref name="outputs"/>.</summary>
    public static void Check(InferenceSession session, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, string path, string what)
    {
        foreach (var name in inputs)
            if (!session.InputMetadata.ContainsKey(name)) throw new InvalidDataException($"{path}: not a SpineXR {what} export (no input '{name}')");
        foreach (var name in outputs)
            if (!session.OutputMetadata.ContainsKey(name)) throw new InvalidDataException($"{path}: not a SpineXR {what} export (no output '{name}')");
    }

    /// <summary>
    /// The graph on a contiguous float32 batch: the first two outputs as libtorch tensors in the caller's dispose scope,
    /// the third (H, W per level) as pairs.
    /// </summary>
    public static unsafe (Tensor Cls, Tensor Reg, (long H, long W)[] Levels) Run(InferenceSession session, RunOptions run, string[] input, string[] outputs, Tensor x)
    {
        var bytes = x.bytes;
        // The OrtValue reads x's libtorch buffer in place; x is alive in the caller's scope until after Run and the copies.
        fixed (byte* p = bytes)
        {
            using var value = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, TensorElementType.Float, x.shape, (IntPtr)p, bytes.Length);
            using var results = session.Run(run, input, [value], outputs);
            return (ToTensor(results[0]), ToTensor(results[1]), LevelSizes(results[2]));
        }
    }

    /// <summary>
    /// A float32 output copied into a libtorch tensor of the same shape (in the caller's dispose scope): one copy straight
    /// into libtorch's buffer, no managed array (Faster R-CNN's feature maps are tens of MB per image).
    /// </summary>
    public static Tensor ToTensor(OrtValue value)
    {
        var t = empty(value.GetTensorTypeAndShape().Shape, ScalarType.Float32);
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(value.GetTensorDataAsSpan<float>()).CopyTo(t.bytes);
        return t;
    }

    /// <summary>An int64 (2L) output of level heights and widths as pairs.</summary>
    public static (long H, long W)[] LevelSizes(OrtValue value)
    {
        var s = value.GetTensorDataAsSpan<long>();
        var levels = new (long H, long W)[s.Length / 2];
        for (int l = 0; l < levels.Length; l++) levels[l] = (s[2 * l], s[2 * l + 1]);
        return levels;
    }
}
