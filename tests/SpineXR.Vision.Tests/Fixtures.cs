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
}

/// <summary>Tests that seed or draw from libtorch's global RNG run one at a time (xUnit runs classes in parallel otherwise).</summary>
[CollectionDefinition(Name)]
public sealed class TorchRngCollection
{
    public const string Name = "torch global RNG";
}
