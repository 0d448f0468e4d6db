using static TorchSharp.torch;

namespace SpineXR.Vision.Models;

/// <summary>
/// A model family that `spinexr model run --arch NAME` can build from a state dict and run once.
/// To add architectures, write a class implementing this interface anywhere in SpineXR.Vision (public, with a
/// parameterless constructor): <see cref="Architectures"/> finds it by reflection; no other file changes.
/// </summary>
public interface IRunnableArchitecture
{
    /// <summary>Names accepted by <c>--arch</c> (e.g. "densenet121").</summary>
    IReadOnlyList<string> Names { get; }

    /// <summary>
    /// Builds <paramref name="arch"/> sized from <paramref name="weights"/> (e.g. the number of classes from the head's
    /// shape), loads them strictly, runs one eval-mode forward under no_grad on <paramref name="input"/>
    /// (float32, N x C x H x W) and writes its outputs into <paramref name="outDir"/>
    /// (classifiers: <c>output.npy</c>; detectors: <c>detections.json</c>). Returns the files written.
    /// </summary>
    IReadOnlyList<string> Run(string arch, IReadOnlyDictionary<string, Tensor> weights, Tensor input, string outDir);
}

/// <summary>All <see cref="IRunnableArchitecture"/> implementations in this assembly, by name.</summary>
public static class Architectures
{
    private static readonly Lazy<IReadOnlyDictionary<string, IRunnableArchitecture>> All = new(() =>
    {
        var map = new Dictionary<string, IRunnableArchitecture>(StringComparer.Ordinal);
        foreach (var t in typeof(IRunnableArchitecture).Assembly.GetTypes()
                     .Where(t => typeof(IRunnableArchitecture).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
                     .OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            var a = (IRunnableArchitecture)Activator.CreateInstance(t)!;
            foreach (var n in a.Names)
                if (!map.TryAdd(n, a)) throw new InvalidOperationException($"architecture '{n}' is registered twice ({t.Name}, {map[n].GetType().Name})");
        }
        return map;
    });

    /// <summary>Every registered name, sorted.</summary>
    public static IReadOnlyList<string> Names => All.Value.Keys.OrderBy(n => n, StringComparer.Ordinal).ToList();

    public static bool TryGet(string name, out IRunnableArchitecture arch) => All.Value.TryGetValue(name, out arch!);
}
