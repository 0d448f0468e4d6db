using System.Diagnostics;
using SpineXR.Synthesis;

namespace SpineXR.Bench.Data;

/// <summary>`data-synth [STUDIES] [WORKERS]`: time of `data synth` for a number of studies (default 200) into a temporary folder.</summary>
public sealed class SynthBench : IBench
{
    public string Name => "data-synth";
    public string Summary => "synthetic dataset generation time (default 200 studies, all cores)";

    public int Run(string[] args)
    {
        int studies = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 200;
        int workers = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 0;
        string dir = Path.Combine(Path.GetTempPath(), "spinexr-bench-synth-" + Environment.ProcessId);
        try
        {
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var r = SyntheticDataset.Generate(dir, new SynthOptions { Studies = studies, Seed = 1, Workers = workers });
            double cpuS = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
            long bytes = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
            Console.WriteLine($"| studies | images | workers | wall s | CPU s | images/s | MB |");
            Console.WriteLine($"|---|---|---|---|---|---|---|");
            Console.WriteLine(FormattableString.Invariant(
                $"| {r.Studies} | {r.Images} | {(workers > 0 ? workers : Environment.ProcessorCount)} | {r.Elapsed.TotalSeconds:F1} | {cpuS:F1} | {r.Images / r.Elapsed.TotalSeconds:F1} | {bytes / 1e6:F0} |"));
            return 0;
        }
        finally
        {
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }
}
