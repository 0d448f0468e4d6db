using SpineXR.Synthesis;

namespace SpineXR.Tests.Data;

/// <summary>A tiny synthetic dataset (small images) written once and copied by tests that damage it.</summary>
public sealed class SmallDataset : IDisposable
{
    private readonly TempDir _dir = new();

    public static readonly SynthOptions Options = new() { Studies = 6, Seed = 11, SizeScale = 0.3f, TestFraction = 0.34 };

    public SmallDataset() => Result = SyntheticDataset.Generate(Root, Options);

    public string Root => _dir["ds"];

    public SynthResult Result { get; }

    /// <summary>A fresh copy to modify.</summary>
    public string CopyTo(TempDir target)
    {
        string dst = target["ds"];
        foreach (var f in Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories))
        {
            if (f.Contains(Path.DirectorySeparatorChar + ".cache")) continue;
            string rel = Path.GetRelativePath(Root, f);
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(dst, rel))!);
            File.Copy(f, Path.Combine(dst, rel));
        }
        return dst;
    }

    public void Dispose() => _dir.Dispose();
}
