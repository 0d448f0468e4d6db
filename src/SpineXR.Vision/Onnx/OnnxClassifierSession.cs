// A classifier's exported graph (input (batch, 3, S, S) normalised pixels -> logits (batch, classes)) run by ONNX
// Runtime: the same contract as the TorchSharp module's forward, over managed float arrays.
using Microsoft.ML.OnnxRuntime;

namespace SpineXR.Vision.Onnx;

/// <summary>ONNX Runtime session of an exported classifier; <see cref="FirstLogits"/> mirrors the libtorch forward.</summary>
public sealed class OnnxClassifierSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _run = new();
    private readonly string[] _inputs = [DenseNetOnnxExporter.InputName], _outputs = [DenseNetOnnxExporter.OutputName];

    /// <summary>Input side S (the graph's fixed spatial size).</summary>
    public int InputSize { get; }

    /// <summary>Takes ownership of <paramref name="session"/>; <paramref name="path"/> names the file in errors.</summary>
    public OnnxClassifierSession(InferenceSession session, string path, int expectedInputSize)
    {
        _session = session;
        if (!session.InputMetadata.ContainsKey(DenseNetOnnxExporter.InputName) || !session.OutputMetadata.ContainsKey(DenseNetOnnxExporter.OutputName))
            throw new InvalidDataException($"{path}: not a SpineXR classifier export (needs input '{DenseNetOnnxExporter.InputName}' and output '{DenseNetOnnxExporter.OutputName}')");
        int[] dims = session.InputMetadata[DenseNetOnnxExporter.InputName].Dimensions;
        if (dims.Length != 4 || dims[2] != expectedInputSize || dims[3] != expectedInputSize)
            throw new InvalidDataException($"{path}: input is [{string.Join(", ", dims)}], the model card's input size is {expectedInputSize}");
        InputSize = expectedInputSize;
    }

    /// <summary>Opens and checks <c>RUN/model.onnx</c> (<see cref="OnnxRunModel.Open"/>) for a card of input size <paramref name="inputSize"/>.</summary>
    public static OnnxClassifierSession Open(string runDir, InferenceDevice device, int inputSize)
    {
        var session = OnnxRunModel.Open(runDir, device);
        try { return new OnnxClassifierSession(session, Path.Combine(runDir, OnnxRunModel.FileName), inputSize); }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>
    /// First-class logits of the first <paramref name="count"/> images in <paramref name="pixels"/> (NCHW, normalised;
    /// the array may be longer). The array is pinned only for the call.
    /// </summary>
    public float[] FirstLogits(float[] pixels, int count)
    {
        int len = 3 * InputSize * InputSize;
        if (pixels.Length < count * len) throw new ArgumentException($"{count} images need {count * len} values, got {pixels.Length}", nameof(pixels));
        // The OrtValue pins the managed buffer; both it and the outputs are disposed before the buffer is reused.
        using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, pixels.AsMemory(0, count * len), [count, 3, InputSize, InputSize]);
        using var outputs = _session.Run(_run, _inputs, [input], _outputs);
        var logits = outputs[0];
        long classes = logits.GetTensorTypeAndShape().Shape[1];
        var span = logits.GetTensorDataAsSpan<float>();
        var first = new float[count];
        for (int i = 0; i < count; i++) first[i] = span[(int)(i * classes)];
        return first;
    }

    public void Dispose()
    {
        _session.Dispose();
        _run.Dispose();
    }
}
