namespace SpineXR.Vision.Tests;

internal static class Fixtures
{
    public static string Path(params string[] parts) => System.IO.Path.Combine([AppContext.BaseDirectory, "Fixtures", .. parts]);

    /// <summary>A fresh empty directory under the temp folder.</summary>
    public static string TempDir(string name)
    {
        string d = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "spinexr-tests", name + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(d);
        return d;
    }

    /// <summary>A writable copy (in a <see cref="TempDir"/>) of the run directory <c>Fixtures/RunDirs/NAME</c>.</summary>
    public static string CopyOfRunDir(string name)
    {
        string src = Path("RunDirs", name), dst = TempDir(name);
        foreach (var f in Directory.EnumerateFiles(src, "*", SearchOption.AllDirectories))
        {
            string target = System.IO.Path.Combine(dst, System.IO.Path.GetRelativePath(src, f));
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(target)!);
            File.Copy(f, target);
        }
        return dst;
    }
}

/// <summary>Tests that seed or draw from libtorch's global RNG run one at a time (xUnit runs classes in parallel otherwise).</summary>
[CollectionDefinition(Name)]
public sealed class TorchRngCollection
{
    public const string Name = "torch global RNG";
}
