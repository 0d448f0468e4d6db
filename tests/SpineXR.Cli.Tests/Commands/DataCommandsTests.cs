using System.Text.Json;
using SpineXR.Cli;

namespace SpineXR.Cli.Tests.Commands;

public sealed class DataCommandsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "spinexr-cli-data-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    [Fact]
    public void SynthWritesADatasetThatStatsCountsAndAPreview()
    {
        string ds = Path.Combine(_dir, "ds"), json = Path.Combine(_dir, "stats.json"), png = Path.Combine(_dir, "p.png");
        int rc = Program.Run(["data", "synth", "--out", ds, "--studies", "5", "--seed", "3", "--size-scale", "0.3", "--preview", png]);
        Assert.Equal(0, rc);
        Assert.True(File.Exists(Path.Combine(ds, "annotations", "train.csv")));
        Assert.True(File.Exists(Path.Combine(ds, "annotations", "test.csv")));
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(png)[..4]);

        Assert.Equal(0, Program.Run(["data", "stats", ds, "--json", json]));
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var splits = doc.RootElement.GetProperty("splits").EnumerateArray().ToList();
        Assert.Equal(["train", "test", "all"], splits.Select(s => s.GetProperty("split").GetString()));
        var all = splits[^1];
        int images = Directory.EnumerateFiles(ds, "*.dicom", SearchOption.AllDirectories).Count();
        Assert.Equal(images, all.GetProperty("images").GetInt32());
        Assert.Equal(5, all.GetProperty("studies").GetInt32());
        Assert.Equal(images, all.GetProperty("normal").GetInt32() + all.GetProperty("abnormal").GetInt32());
        int boxes = all.GetProperty("boxes_per_class").EnumerateObject().Sum(p => p.Value.GetInt32());
        Assert.Equal(all.GetProperty("boxes").GetInt32(), boxes);
        Assert.True(boxes > 0);
    }

    [Fact]
    public void StatsReportsSkippedInputsWithExitCode1()
    {
        string ds = Path.Combine(_dir, "ds");
        Assert.Equal(0, Program.Run(["data", "synth", "--out", ds, "--studies", "2", "--size-scale", "0.3"]));
        File.AppendAllText(Path.Combine(ds, "annotations", "train.csv"), "s,se,ffffffffffffffffffffffffffffffff,r,Osteophytes,1,1,5,5\n");
        Assert.Equal(1, Program.Run(["data", "stats", ds]));
    }

    [Fact]
    public void BadUsageIsAUsageError()
    {
        Assert.Throws<UsageException>(() => Program.Run(["data", "synth", "--studies", "3"]));
        Assert.Throws<UsageException>(() => Program.Run(["data", "synth", "--out", _dir, "--studies", "0"]));
        Assert.Throws<UsageException>(() => Program.Run(["data", "synth", "--out", _dir, "--test-fraction", "2"]));
        Assert.Throws<UsageException>(() => Program.Run(["data", "stats", Path.Combine(_dir, "nope")]));
        Assert.Throws<UsageException>(() => Program.Run(["data", "stats"]));
    }
}
