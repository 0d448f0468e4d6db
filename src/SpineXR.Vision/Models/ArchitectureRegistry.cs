// The registry shape every architecture list shares (in the manner of timm's model registry and detectron2's
// META_ARCH_REGISTRY): classifiers (ClassifierArchitectures.Registry) and detectors (Configuration.DetectorRegistry)
// are each one ArchitectureRegistry, so lookup, the list of names and the error for an unknown name are written once.
using System.Diagnostics.CodeAnalysis;

namespace SpineXR.Vision.Models;

/// <summary>An entry of an <see cref="ArchitectureRegistry{T}"/>: a model family known by one name.</summary>
public interface IArchitecture
{
    /// <summary>The name users give (<c>arch=densenet121</c>, <c>--arch retinanet</c>).</summary>
    string Name { get; }
}

/// <summary>Architectures of one kind (classifier, detector) by name, in registration order.</summary>
public sealed class ArchitectureRegistry<T> where T : class, IArchitecture
{
    private readonly T[] _entries;

    /// <param name="kind">What the entries are, for messages ("classifier", "detector").</param>
    /// <param name="entries">The entries; a name registered twice is an error.</param>
    public ArchitectureRegistry(string kind, IEnumerable<T> entries)
    {
        Kind = kind;
        _entries = entries.ToArray();
        var twice = _entries.GroupBy(e => e.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null) throw new InvalidOperationException($"{kind} architecture '{twice.Key}' is registered twice");
        Names = _entries.Select(e => e.Name).ToArray();
    }

    public string Kind { get; }

    /// <summary>The known names, in registration order.</summary>
    public IReadOnlyList<string> Names { get; }

    public IReadOnlyList<T> Entries => _entries;

    public bool TryGet(string name, [MaybeNullWhen(false)] out T entry)
    {
        entry = _entries.FirstOrDefault(e => e.Name == name);
        return entry is not null;
    }

    /// <summary>The entry for <paramref name="name"/>; an unknown name is an ArgumentException listing the known ones.</summary>
    public T Get(string name) => TryGet(name, out var entry) ? entry : throw new ArgumentException(Unknown(name));

    /// <summary>The one-line message for an unknown name: <c>unknown KIND architecture 'NAME' (known: ...)</c>.</summary>
    public string Unknown(string name) => $"unknown {Kind} architecture '{name}' (known: {string.Join(", ", Names)})";
}
