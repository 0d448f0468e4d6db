// DICOM to PNG throughput on VinDr-like radiographs (2500 x 2000, 12 bits stored, MONOCHROME1 and 2, windowed),
// uncompressed and JPEG 2000 lossless, against the Python reference conversion (tools/reference_convert.py:
// pydicom + GDCM + numpy + OpenCV) on the same files in the same run.
using System.Diagnostics;
using System.Globalization;
using SpineXR.Cli.Commands;
using SpineXR.Dicom;
using SpineXR.Dicom.Codecs;
using SpineXR.Dicom.Rendering;

namespace SpineXR.Bench.Dicom;

/// <summary>`dicom-convert [FILES] [--keep]`: files/s for 1 and 2 workers vs the Python reference; peak memory.</summary>
public sealed class DicomConvertBench : IBench
{
    public string Name => "dicom-convert";
    public string Summary => "DICOM->PNG files/s (1 and 2 workers) vs pydicom+GDCM+numpy+cv2, uncompressed and JPEG 2000";

    private const int Rows = 2500, Columns = 2000;

    public int Run(string[] args)
    {
        if (args.Contains("--phases")) return Phases();
        int count = args.Length > 0 && int.TryParse(args[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) ? n : 8;
        string root = Path.Combine(Path.GetTempPath(), "spinexr-bench-dicom");
        Directory.CreateDirectory(root);
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores; {count} files of {Rows}x{Columns}, 12 bits stored");
        Console.WriteLine();
        Console.WriteLine("files/s: wall clock; files/CPU-s: files per second of process CPU time (fair on a loaded machine).");
        Console.WriteLine();
        Console.WriteLine("| files | converter | workers | files/s | vs reference | files/CPU-s | vs reference | peak working set |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        var kinds = new List<(string Name, IPixelEncoder? Encoder)> { ("uncompressed", null) };
        var j2k = CodecRegistry.FindEncoder(TransferSyntax.Jpeg2000LosslessUid);
        if (j2k != null) kinds.Add(("JPEG 2000 lossless", j2k));
        foreach (var (kind, encoder) in kinds)
        {
            var files = MakeFiles(Path.Combine(root, kind.Replace(' ', '_')), count, encoder);
            double reference = RunReference(files, Path.Combine(root, "out-ref"), out double referenceCpu, out string refMemory);
            Console.WriteLine($"| {kind} | Python reference | 1 | {reference:F2} | 1.00x | {referenceCpu:F2} | 1.00x | {refMemory} |");
            // This VM's speed drifts by tens of percent from minute to minute: alternate 1 and 2 workers over three
            // rounds and keep the best of each (the least disturbed), so the scaling ratio compares like with like.
            var best = new Dictionary<int, (double Rate, double CpuRate, long PeakMb)>();
            for (int round = 0; round < 3; round++)
            {
                foreach (int workers in new[] { 1, 2 })
                {
                    string outDir = Path.Combine(root, $"out-{workers}");
                    if (round == 0) DicomConvertCommand.Convert(files.Take(2).ToList(), outDir, 8, RenderOptions.Reference, workers, quiet: true); // warm-up (JIT)
                    GC.Collect();
                    var self = Process.GetCurrentProcess();
                    var cpu0 = self.TotalProcessorTime;
                    var clock = Stopwatch.StartNew();
                    var rows = DicomConvertCommand.Convert(files, outDir, 8, RenderOptions.Reference, workers, quiet: true);
                    double rate = files.Count / clock.Elapsed.TotalSeconds;
                    self.Refresh();
                    double cpuRate = files.Count / (self.TotalProcessorTime - cpu0).TotalSeconds;
                    if (rows.Any(r => r.Status != "ok")) throw new InvalidOperationException("conversion failed: " + rows.First(r => r.Status != "ok").Reason);
                    var prev = best.GetValueOrDefault(workers);
                    best[workers] = (Math.Max(prev.Rate, rate), Math.Max(prev.CpuRate, cpuRate), Math.Max(prev.PeakMb, self.PeakWorkingSet64 / (1 << 20)));
                }
            }
            foreach (var (workers, (rate, cpuRate, peakMb)) in best.OrderBy(kv => kv.Key))
            {
                string scaling = workers == 1 ? "" : $", {rate / best[1].Rate:F2}x one worker";
                Console.WriteLine($"| {kind} | spinexr (best of 3) | {workers} | {rate:F2} | {rate / reference:F2}x{scaling} | {cpuRate:F2} | {cpuRate / referenceCpu:F2}x | {peakMb} MB |");
            }
            // Memory per worker: bytes allocated converting one file on one thread, against the decoded image (16-bit).
            string one1 = Path.Combine(root, "out-alloc");
            long before = GC.GetAllocatedBytesForCurrentThread();
            SpineXR.Imaging.DicomToPng.Convert(files[0], Path.Combine(one1, "x.png"));
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Console.WriteLine($"| {kind} | spinexr allocations per file | 1 | | | | | {allocated / (1 << 20)} MB = {allocated / (2.0 * Rows * Columns):F1}x the decoded 16-bit image |");
        }
        return 0;
    }

    /// <summary>Where one conversion spends its time (CPU ms per phase, median of 7), uncompressed file.</summary>
    private static int Phases()
    {
        string file = MakeFiles(Path.Combine(Path.GetTempPath(), "spinexr-bench-dicom", "uncompressed"), 1, null)[0];
        var names = new[] { "read file", "parse", "render 8-bit", "png encode", "png write" };
        var times = names.ToDictionary(n => n, _ => new List<double>());
        for (int run = 0; run < 8; run++)
        {
            var cpu = Process.GetCurrentProcess();
            double Cpu() { cpu.Refresh(); return cpu.TotalProcessorTime.TotalMilliseconds; }
            double t = Cpu();
            void Mark(string n) { double now = Cpu(); if (run > 0) times[n].Add(now - t); t = now; }
            var bytes = File.ReadAllBytes(file); Mark("read file");
            var f = DicomFile.Read(bytes); var pixels = SpineXR.Dicom.Imaging.DicomPixelData.Create(f); Mark("parse");
            var gray = GrayscaleRenderer.ToGray8(pixels, f.Dataset, 0, null, out _); Mark("render 8-bit");
            var ms = new MemoryStream(); SpineXR.Imaging.PngWriter.WriteGray8(ms, Columns, Rows, gray); Mark("png encode");
            File.WriteAllBytes(Path.Combine(Path.GetTempPath(), "phase.png"), ms.ToArray()); Mark("png write");
        }
        foreach (var n in names) Console.WriteLine($"{n,-14} {times[n].Order().ElementAt(times[n].Count / 2),8:F1} ms CPU");
        return 0;
    }

    private static List<string> MakeFiles(string dir, int count, IPixelEncoder? encoder)
    {
        Directory.CreateDirectory(dir);
        var files = new List<string>();
        var rng = new Random(11);
        var px = new ushort[Rows * Columns];
        for (int i = 0; i < count; i++)
        {
            string path = Path.Combine(dir, $"img{i:D3}.dicom");
            files.Add(path);
            if (File.Exists(path)) continue;
            // A radiograph-like field: smooth anatomy-scale structure plus detector noise, 12 bits.
            double fx = 0.002 + 0.001 * rng.NextDouble(), fy = 0.003 + 0.001 * rng.NextDouble();
            for (int y = 0; y < Rows; y++)
                for (int x = 0; x < Columns; x++)
                {
                    double v = 2048 + 1200 * Math.Sin(x * fx) * Math.Cos(y * fy) + 300 * Math.Sin((x + y) * 0.02) + rng.Next(-40, 41);
                    px[y * Columns + x] = (ushort)Math.Clamp(v, 0, 4095);
                }
            var header = new GrayscaleImageHeader
            {
                Rows = Rows, Columns = Columns, BitsStored = 12, Photometric = i % 2 == 0 ? "MONOCHROME2" : "MONOCHROME1",
                Modality = i % 3 == 0 ? "CR" : "DX", UidSeed = $"bench-{i}", PatientSex = "F", PatientAge = "045Y",
                PixelSpacing = [0.14, 0.14], WindowCenter = 2048, WindowWidth = 3000,
            };
            DicomImageWriter.Save(path, header, px, encoder);
        }
        return files;
    }

    private static double RunReference(List<string> files, string outDir, out double cpuRate, out string memory)
    {
        string script = Path.Combine(FindRepoRoot(), "tools", "reference_convert.py");
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(script);
        psi.ArgumentList.Add(outDir);
        foreach (var f in files) psi.ArgumentList.Add(f);
        using var p = Process.Start(psi)!;
        string stdout = p.StandardOutput.ReadToEnd();
        string stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException("reference conversion failed: " + stderr);
        var fields = stdout.Trim().Split(' ').Select(kv => kv.Split('=')).ToDictionary(kv => kv[0], kv => kv[1]);
        memory = fields["peak_rss_mb"] + " MB";
        cpuRate = double.Parse(fields["files_per_cpu_s"], CultureInfo.InvariantCulture);
        return double.Parse(fields["files_per_s"], CultureInfo.InvariantCulture);
    }

    private static string FindRepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "SpineXR.sln"))) return d.FullName;
        throw new InvalidOperationException("repository root not found");
    }
}
