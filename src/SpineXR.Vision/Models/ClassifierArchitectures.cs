using SpineXR.Vision.IO;
using SpineXR.Vision.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace SpineXR.Vision.Models;

/// <summary>
/// The image classifiers (DenseNet-121/169/201 and the tiny test variant; ResNet-18/34/50 and EfficientNet-B0..B3 as other options):
/// building by name, the name of the head (skipped when fine-tuning from ImageNet), and `model run` (logits to <c>output.npy</c>).
/// </summary>
public sealed class ClassifierArchitectures : IRunnableArchitecture
{
    private static readonly string[] ResNets = ["resnet18", "resnet34", "resnet50"];

    /// <summary>All classifier names.</summary>
    public static IReadOnlyList<string> All { get; } = [.. DenseNets.Variants.Keys, .. ResNets, .. EfficientNets.Variants.Keys];

    public IReadOnlyList<string> Names => All;

    public static bool IsKnown(string arch) => All.Contains(arch);

    /// <summary>Prefix of the head's state-dict keys: <c>classifier.</c> for DenseNets, <c>fc.</c> for ResNets, <c>classifier.1.</c> for EfficientNets.</summary>
    public static string HeadPrefix(string arch) =>
        arch.StartsWith("resnet", StringComparison.Ordinal) ? "fc."
        : EfficientNets.Variants.ContainsKey(arch) ? "classifier.1."
        : "classifier.";

    /// <summary>A freshly initialised classifier with <paramref name="numClasses"/> logits.</summary>
    public static nn.Module<Tensor, Tensor> Create(string arch, int numClasses) => arch switch
    {
        "resnet18" => ResNet.ResNet18(numClasses),
        "resnet34" => ResNet.ResNet34(numClasses),
        "resnet50" => ResNet.ResNet50(numClasses),
        _ when DenseNets.Variants.ContainsKey(arch) => DenseNets.Create(arch, numClasses),
        _ when EfficientNets.Variants.ContainsKey(arch) => EfficientNets.Create(arch, numClasses),
        _ => throw new ArgumentException($"unknown classifier '{arch}' (known: {string.Join(", ", All)})", nameof(arch)),
    };

    /// <summary>Builds a classifier whose number of logits is read from the head's weight in <paramref name="weights"/>.</summary>
    public static nn.Module<Tensor, Tensor> Build(string arch, IReadOnlyDictionary<string, Tensor> weights)
    {
        string key = HeadPrefix(arch) + "weight";
        int classes = weights.TryGetValue(key, out var w) && w.dim() == 2 ? (int)w.shape[0]
            : throw new InvalidDataException($"the weights have no 2-D '{key}', so they are not a {arch} classifier");
        return Create(arch, classes);
    }

    public IReadOnlyList<string> Run(string arch, IReadOnlyDictionary<string, Tensor> weights, Tensor input, string outDir)
    {
        if (input.dim() != 4 || input.shape[1] != 3)
            throw new InvalidDataException($"input must be N x 3 x H x W, got [{string.Join(", ", input.shape)}]");
        using var model = Build(arch, weights);
        StateDict.Load(model, weights, source: "the weights");
        model.eval();
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var logits = model.call(input.to(ScalarType.Float32)).contiguous();
        string path = Path.Combine(outDir, "output.npy");
        Npy.Write(path, logits.data<float>().ToArray(), logits.shape);
        return [path];
    }
}
