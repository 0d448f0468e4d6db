using System.Globalization;
using System.Text.Json;
using SpineXR.Data;
using SpineXR.IO;

namespace SpineXR.Cli.Commands;

/// <summary>`spinexr data stats`: counts per split, class and box size of a dataset.</summary>
public sealed class DataStatsCommand : ICliCommand
{
    public string Name => "data stats";
    public string Summary => "count images, studies, labels, boxes per class and box sizes of a dataset";
    public string Help => """
        usage: spinexr data stats DATASET [--json FILE]

        Reads DATASET in the VinDr-SpineXR layout (annotations/{train,test}.csv, {train,test}_images/) and prints,
        per split and overall: images, studies, normal/abnormal images, boxes and images per class, other
        findings, box width/height quantiles (pixels) and box side as a fraction of the image side.
        Problems (missing images, unreadable files, bad rows, zero-area boxes) are listed on stderr.

        options:
          --json FILE   also write the statistics as JSON

        exit codes: 0 done, 1 done but some inputs were skipped, 2 bad usage or no dataset
        """;

    public int Run(CliArgs args)
    {
        if (args.Positionals.Count != 1) throw new UsageException("expects one DATASET folder");
        string root = args.Positionals[0];
        if (!Directory.Exists(root)) throw new UsageException($"{root}: dataset folder not found");
        string? json = args.Get("json");
        var index = DatasetIndex.Load(root);
        index.Issues.Print(Console.Error);

        var splits = index.SplitNames.Select(s => SplitStats.Of(s, index.Get(s))).ToList();
        splits.Add(SplitStats.Of("all", index.SplitNames.SelectMany(index.Get).ToList()));
        Print(splits, Console.Out);
        if (json != null)
        {
            var doc = new
            {
                dataset = index.Root,
                splits,
                issues = index.Issues.Items.GroupBy(i => i.Kind.ToString()).ToDictionary(g => g.Key, g => g.Count()),
            };
            AtomicFile.WriteAllText(json, JsonSerializer.Serialize(doc, JsonOptions) + "\n");
        }
        if (splits[^1].Images == 0) return ExitCodes.Usage;
        return index.Issues.HasErrors ? ExitCodes.SomeFailed : ExitCodes.Ok;
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private static void Print(IReadOnlyList<SplitStats> splits, TextWriter w)
    {
        string F(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);
        int first = 24;
        w.WriteLine("".PadRight(first) + string.Concat(splits.Select(s => s.Split.PadLeft(20))));
        void Row(string name, Func<SplitStats, string> f) => w.WriteLine(name.PadRight(first) + string.Concat(splits.Select(s => f(s).PadLeft(20))));
        Row("images", s => s.Images.ToString(CultureInfo.InvariantCulture));
        Row("studies", s => s.Studies.ToString(CultureInfo.InvariantCulture));
        Row("normal", s => s.Normal.ToString(CultureInfo.InvariantCulture));
        Row("abnormal", s => s.Abnormal.ToString(CultureInfo.InvariantCulture));
        Row("boxes", s => s.Boxes.ToString(CultureInfo.InvariantCulture));
        w.WriteLine("boxes per class (images)");
        foreach (var c in LesionTaxonomy.Classes)
            Row("  " + c, s => $"{s.BoxesPerClass[c]} ({s.ImagesPerClass[c]})");
        var others = splits[^1].Findings.Keys.Where(k => LesionTaxonomy.ClassIndex(k) < 0).ToList();
        if (others.Count > 0)
        {
            w.WriteLine("other findings (rows, not trained)");
            foreach (var o in others) Row("  " + o, s => s.Findings.GetValueOrDefault(o).ToString(CultureInfo.InvariantCulture));
        }
        w.WriteLine("box size (min / median / max)");
        Row("  width px", s => $"{F(s.BoxWidth.Min)}/{F(s.BoxWidth.Median)}/{F(s.BoxWidth.Max)}");
        Row("  height px", s => $"{F(s.BoxHeight.Min)}/{F(s.BoxHeight.Median)}/{F(s.BoxHeight.Max)}");
        Row("  side / image side", s => $"{s.BoxSideFraction.Min:0.000}/{s.BoxSideFraction.Median:0.000}/{s.BoxSideFraction.Max:0.000}".Replace(',', '.'));
        Row("image width px (median)", s => F(s.ImageWidth.Median));
        Row("image height px (median)", s => F(s.ImageHeight.Median));
    }
}
