using SpineXR.Vision.IO;
using SpineXR.Vision.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace SpineXR.Vision.Models;

/// <summary>An image classifier family as <c>arch=NAME</c>, <c>model run</c> and <c>model convert</c> know it.</summary>
/// <param name="Name">The architecture's name (densenet121, resnet18, efficientnet_b0 ...).</param>
/// <param name="HeadPrefix">Prefix of the head's state-dict keys, skipped when fine-tuning from ImageNet weights.</param>
/// <param name="Factory">A freshly initialised network with the given number of logits.</param>
public sealed record ClassifierArchitecture(string Name, string HeadPrefix, Func<int, nn.Module<Tensor, Tensor>> Factory) : IArchitecture
{
    /// <summary>A freshly initialised classifier with <paramref name="numClasses"/> logits.</summary>
    public nn.Module<Tensor, Tensor> Create(int numClasses) => Factory(numClasses);

    /// <summary>A classifier whose number of logits is read from the head's weight in <paramref name="weights"/>.</summary>
    public nn.Module<Tensor, Tensor> Build(IReadOnlyDictionary<string, Tensor> weights)
    {
        string key = HeadPrefix + "weight";
        int classes = weights.TryGetValue(key, out var w) && w.dim() == 2 ? (int)w.shape[0]
            : throw new InvalidDataException($"the weights have no 2-D '{key}', so they are not a {Name} classifier");
        return Create(classes);
    }
}

/// <summary>
/// The image classifiers (DenseNet-121/169/201 and the small test variants; ResNet-18/34/50 and EfficientNet-B0..B3 as
/// other options): the one <see cref="Registry"/> that training, loading, <c>model run</c>, <c>model convert</c> and
/// ONNX export look names up in, and `model run` (logits to <c>output.npy</c>).
/// </summary>
public sealed class ClassifierArchitectures : IRunnableArchitecture
{
    /// <summary>Every classifier, by name.</summary>
    public static ArchitectureRegistry<ClassifierArchitecture> Registry { get; } = new("classifier",
    [
        .. DenseNets.Variants.Keys.Select(k => new ClassifierArchitecture(k, "classifier.", n => DenseNets.Create(k, n))),
        new ClassifierArchitecture("resnet18", "fc.", n => ResNet.ResNet18(n)),
        new ClassifierArchitecture("resnet34", "fc.", n => ResNet.ResNet34(n)),
        new ClassifierArchitecture("resnet50", "fc.", n => ResNet.ResNet50(n)),
        .. EfficientNets.Variants.Keys.Select(k => new ClassifierArchitecture(k, "classifier.1.", n => EfficientNets.Create(k, n))),
    ]);

    /// <summary>All classifier names.</summary>
    public static IReadOnlyList<string> All => Registry.Names;

    public IReadOnlyList<string> Names => All;

    public static bool IsKnown(string arch) => Registry.TryGet(arch, out _);

    /// <summary>Prefix of the head's state-dict keys: <c>classifier.</c> for DenseNets, <c>fc.</c> for ResNets, <c>classifier.1.</c> for EfficientNets.</summary>
    public static string HeadPrefix(string arch) => Registry.Get(arch).HeadPrefix;

    /// <summary>A freshly initialised classifier with <paramref name="numClasses"/> logits.</summary>
    public static nn.Module<Tensor, Tensor> Create(string arch, int numClasses) => Registry.Get(arch).Create(numClasses);

    /// <summary>Builds a classifier whose number of logits is read from the head's weight in <paramref name="weights"/>.</summary>
    public static nn.Module<Tensor, Tensor> Build(string arch, IReadOnlyDictionary<string, Tensor> weights) => Registry.Get(arch).Build(weights);

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
