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
    [InlineData("--from-dicomweb", "http://pacs/dicom-web", "--from-dicomweb needs --study UID")]
    [InlineData("--study", "1.2.3", "--study needs --from-dicomweb URL")]
    [InlineData("--to-dicomweb", "pacs:8042", "--to-dicomweb expects an http(s) URL, got 'pacs:8042'")]
    public void A_bad_option_is_a_usage_error_naming_it(string flag, string value, string message)
    {
        var e = Assert.Throws<UsageException>(() =>
            Program.Run(["predict", _run, "--classifier", _run, "--detector", _run, "--out", Path.Combine(_run, "out"), flag, value]));
        Assert.Equal(message, e.Message);
    }
}
