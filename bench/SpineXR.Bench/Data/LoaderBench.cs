using System.Diagnostics;
using SpineXR.Imaging;
using SpineXR.Synthesis;

namespace SpineXR.Bench.Data;

/// <summary>`data-load [SIZE]`: decoding a JPEG 2000 DICOM and resizing it vs loading the cached result (one thread).</summary>
public sealed class LoaderBench : IBench
{
    public string Name => "data-load";
    public string Summary => "image loader: JPEG 2000 decode + resize vs cached load (default 512 px)";

    public int Run(string[] args)
    {
        int size = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 512;
        string dir = Path.Combine(Path.GetTempPath(), "spinexr-bench-load-" + Environment.ProcessId);
        try
        {
            SyntheticDataset.Generate(dir, new SynthOptions { Studies = 8, Seed = 2, UncompressedFraction = 0 });
            var files = Directory.EnumerateFiles(dir, "*.dicom", SearchOption.AllDirectories).Order().ToList();
            var options = new ImageLoadOptions { Size = size };
            var loader = new ImageLoader(options, Path.Combine(dir, ".cache"));
            foreach (var f in files) loader.Load(f); // fill the cache, warm up
            double decode = PerImage(files, f => ImageLoader.Decode(f, options), rounds: 2);
            double cached = PerImage(files, f => loader.Load(f), rounds: 20);
            double pixels = files.Average(f => { var g = loader.Load(f); return (double)g.OriginalWidth * g.OriginalHeight; });
            Console.WriteLine("| images | mean original px | output | decode + resize ms | cached load ms | ratio |");
            Console.WriteLine("|---|---|---|---|---|---|");
            Console.WriteLine(FormattableString.Invariant($"| {files.Count} | {pixels / 1e6:F2} M | {size}x{size} 8-bit | {decode:F1} | {cached:F3} | {decode / cached:F0}x |"));
            return 0;
        }
        finally
        {
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }

    /// <summary>Mean milliseconds per image over the best of several rounds.</summary>
    private static double PerImage(List<string> files, Action<string> load, int rounds)
    {
        double best = double.MaxValue;
        for (int r = 0; r < rounds; r++)
        {
            var sw = Stopwatch.StartNew();
            foreach (var f in files) load(f);
            best = Math.Min(best, sw.Elapsed.TotalMilliseconds / files.Count);
        }
        return best;
    }
}
