// A trained model on disk (docs/design.md "Run directory"): model.json, weights.safetensors, metrics.json,
// log.csv, checkpoint/. Shared by classifier and detector training.
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using SpineXR.IO;
using SpineXR.Vision.Configuration;

namespace SpineXR.Vision.Training;

/// <summary>Paths and small writers of a run directory.</summary>
public sealed class RunDirectory
{
    public string Root { get; }
    public string ModelJson => Path.Combine(Root, ModelCard.FileName);
    public string Weights => Path.Combine(Root, "weights.safetensors");
    public string MetricsJson => Path.Combine(Root, "metrics.json");
    public string LogCsv => Path.Combine(Root, "log.csv");
    public string CheckpointDir => Path.Combine(Root, "checkpoint");

    public RunDirectory(string root)
    {
        Root = Path.GetFullPath(root);
        Directory.CreateDirectory(Root);
    }

    /// <summary>Writes metrics.json (snake_case keys, numbers as fractions).</summary>
    public void WriteMetrics(object metrics) =>
        AtomicFile.WriteAllText(MetricsJson, JsonSerializer.Serialize(metrics, ConfigBinder.Json));

    /// <summary>Rewrites log.csv from all rows so far (atomic; a resumed run keeps only rows up to its checkpoint).</summary>
    public void WriteLog(IReadOnlyList<string> columns, IEnumerable<IReadOnlyDictionary<string, double>> rows)
    {
        var sb = new StringBuilder(string.Join(',', columns)).Append('\n');
        foreach (var r in rows)
            sb.AppendJoin(',', columns.Select(c => r.TryGetValue(c, out double v) && !double.IsNaN(v) ? v.ToString("G6", CultureInfo.InvariantCulture) : "")).Append('\n');
        AtomicFile.WriteAllText(LogCsv, sb.ToString());
    }

    /// <summary>The repository's commit (git rev-parse HEAD in the working directory), or "unknown".</summary>
    public static string GitCommit()
    {
        try
        {
            var psi = new ProcessStartInfo("git", "rev-parse HEAD") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var p = Process.Start(psi);
            if (p == null) return "unknown";
            string s = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit(5000);
            return p.ExitCode == 0 && s.Length >= 7 ? s : "unknown";
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return "unknown";
        }
    }

    /// <summary>SHA-256 over the given files' names, sizes and contents, in order (the training data's identity).</summary>
    public static string HashFiles(IEnumerable<string> files)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var f in files)
        {
            sha.AppendData(Encoding.UTF8.GetBytes(Path.GetFileName(f) + "\0"));
            if (!File.Exists(f)) { sha.AppendData("missing"u8); continue; }
            using var s = File.OpenRead(f);
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = s.Read(buf)) > 0) sha.AppendData(buf.AsSpan(0, n));
        }
        return "sha256:" + Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant();
    }
}
