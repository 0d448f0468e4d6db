using SpineXR.Vision.IO;
using SpineXR.Vision.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace SpineXR.Vision.Models;

/// <summary>Image classifiers for `model run`: the DenseNets; writes the logits as <c>output.npy</c>.</summary>
public sealed class ClassifierArchitectures : IRunnableArchitecture
{
    public IReadOnlyList<string> Names => DenseNets.Variants.Keys.ToList();

    /// <summary>Builds a classifier whose head size is read from <c>classifier.weight</c> (or <c>fc.weight</c>) in the weights.</summary>
    public static nn.Module<Tensor, Tensor> Build(string arch, IReadOnlyDictionary<string, Tensor> weights)
    {
        int classes = weights.TryGetValue("classifier.weight", out var w) && w.dim() == 2 ? (int)w.shape[0]
            : throw new InvalidDataException($"the weights have no 2-D 'classifier.weight', so they are not a {arch} classifier");
        return DenseNets.Create(arch, classes);
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
