using SpineXR.Cli;

namespace SpineXR.Cli.Tests.Commands;

/// <summary>`spinexr predict` argument checks (runs end to end are in PredictionJobTests and the demo's tests).</summary>
public sealed class PredictCommandTests : IDisposable
{
    private readonly string _run = Directory.CreateTempSubdirectory("spinexr-predictcmd-").FullName;

    public void Dispose() => Directory.Delete(_run, true);

    [Theory]
    [InlineData("--overlay-size", "8", "--overlay-size expects at least 16 pixels, got 8")]
    [InlineData("--overlay-size", "big", "--overlay-size expects an integer, got 'big'")]
    [InlineData("--shard", "4/4", "--shard expects i/n with 0 <= i < n, got '4/4'")]
    [InlineData("--shard", "auto", "--shard auto needs JOB_COMPLETION_INDEX (set by a Kubernetes Indexed Job)")]
    [InlineData("--from-dicomweb", "http://pacs/dicom-web", "--from-dicomweb needs --study UID")]
    [InlineData("--study", "1.2.3", "--study needs --from-dicomweb URL")]
    [InlineData("--to-dicomweb", "pacs:8042", "--to-dicomweb expects an http(s) URL, got 'pacs:8042'")]
    [InlineData("--backend", "tensorrt", "--backend: unknown backend 'tensorrt' (libtorch, onnx)")]
    [InlineData("--device", "tpu", "--device: unknown device 'tpu' (cpu, cuda)")]
    [InlineData("--device", "cuda", "--device: the libtorch backend runs on the CPU only; use --backend onnx with ONNX Runtime's GPU package for cuda")]
    public void A_bad_option_is_a_usage_error_naming_it(string flag, string value, string message)
    {
        var e = Assert.Throws<UsageException>(() =>
            Program.Run(["predict", _run, "--classifier", _run, "--detector", _run, "--out", Path.Combine(_run, "out"), flag, value]));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Merge_needs_shard_folders_and_names_a_missing_one()
    {
        Assert.Equal("predict merge: no SHARD_DIR given", Assert.Throws<UsageException>(() => Program.Run(["predict", "merge", "--out", _run])).Message);
        var e = Assert.Throws<UsageException>(() => Program.Run(["predict", "merge", Path.Combine(_run, "nope"), "--out", Path.Combine(_run, "m")]));
        Assert.Contains("nope", e.Message);
    }
}
