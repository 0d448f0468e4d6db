// TorchSharp 0.107 passes raw handles of Scalar and Tensor objects to libtorch without keeping the objects alive
// across the call, and both free their native memory in a finalizer: a garbage collection during the call frees
// memory libtorch is reading. The build rewrites the TorchSharp assembly so that every method keeps its native-owning
// arguments and temporaries alive until it returns (build/TorchSharpKeepAlive; docs/native.md explains the choice).
using System.Reflection;
using TorchSharp;

namespace SpineXR.Vision;

/// <summary>Whether the TorchSharp assembly this process loaded carries the build's keep-alive patch.</summary>
public static class TorchSharpPatch
{
    /// <summary>The assembly-metadata key the patcher adds (its value names the patch version).</summary>
    public const string MetadataKey = "SpineXR.KeepAlive";

    /// <summary>The patch's version string, or null for an unpatched assembly.</summary>
    public static string? Version { get; } = typeof(torch).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .FirstOrDefault(a => a.Key == MetadataKey)?.Value;

    /// <summary>True when the loaded TorchSharp assembly is the patched one.</summary>
    public static bool IsApplied => Version is not null;

    /// <summary>Where the loaded TorchSharp assembly lives (for error messages).</summary>
    public static string Location => typeof(torch).Assembly.Location;
}
