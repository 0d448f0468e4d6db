using System.Diagnostics;
using System.Globalization;

namespace SpineXR.Bench.Codecs;

/// <summary>Shared by the codec benchmarks: a radiograph-like test image, median timing and the Python reference.</summary>
internal static class CodecBenchSupport
{
    public const int Rows = 2500, Columns = 2000;

    /// <summary>Smooth anatomy-scale structure, edges and detector noise, 12 bits: compresses like a radiograph (about 2:1).</summary>
    public static ushort[] RadiographLike()
    {
        var rng = new Random(2021);
        var px = new ushort[Rows * Columns];
        for (int y = 0; y < Rows; y++)
            for (int x = 0; x < Columns; x++)
            {
                double v = 2048 + 1200 * Math.Sin(x * 0.0025) * Math.Cos(y * 0.0035) + 300 * Math.Sin((x + y) * 0.02)
                           + (x / 400 % 2 == 0 ? 150 : 0) + rng.Next(-40, 41);
                px[y * Columns + x] = (ushort)Math.Clamp(v, 0, 4095);
            }
        return px;
    }

    /// <summary>Median wall time of <paramref name="repeat"/> runs after one warm-up run.</summary>
    public static double Median(int repeat, Action action)
    {
        action();
        var times = new List<double>();
        for (int i = 0; i < repeat; i++)
        {
            GC.Collect();
            var sw = Stopwatch.StartNew();
            action();
            times.Add(sw.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        return times[times.Count / 2];
    }

    /// <summary>tools/codec_reference_bench.py: pydicom + GDCM decode median (ms), read median (ms), and whether it equals <paramref name="raw"/>.</summary>
    public static (double DecodeMs, double ReadMs, bool? Equal) Reference(string dicom, string? raw, int repeat)
    {
        string script = Path.Combine(RepoRoot(), "tools", "codec_reference_bench.py");
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in new[] { script, dicom, raw ?? "-", repeat.ToString(CultureInfo.InvariantCulture) }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        string stdout = p.StandardOutput.ReadToEnd();
        string stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException("reference failed: " + stderr);
        var f = stdout.Trim().Split(' ').Select(kv => kv.Split('=')).ToDictionary(kv => kv[0], kv => kv[1]);
        bool? equal = f["equal"] switch { "True" => true, "False" => false, _ => null };
        return (double.Parse(f["gdcm_decode_ms"], CultureInfo.InvariantCulture), double.Parse(f["gdcm_read_ms"], CultureInfo.InvariantCulture), equal);
    }

    /// <summary>Runs a command-line tool (dcmtk), failing loudly.</summary>
    public static void Tool(string tool, params string[] args)
    {
        var psi = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {tool}");
        string stderr = p.StandardError.ReadToEnd();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{tool} failed: {stderr}");
    }

    public static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "SpineXR.sln"))) return d.FullName;
        throw new InvalidOperationException("repository root not found");
    }
}
