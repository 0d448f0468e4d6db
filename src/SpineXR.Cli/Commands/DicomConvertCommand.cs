using System.Text;
using SpineXR.Diagnostics;
using SpineXR.Dicom;
using SpineXR.Dicom.Codecs;
using SpineXR.Dicom.Rendering;
using SpineXR.Imaging;
using SpineXR.IO;

namespace SpineXR.Cli.Commands;

/// <summary>`spinexr dicom convert`: DICOM to PNG with the VinDr-SpineXR reference conversion, in parallel.</summary>
public sealed class DicomConvertCommand : ICliCommand
{
    public string Name => "dicom convert";
    public string Summary => "DICOM to PNG (VOI LUT, MONOCHROME1 inverted, min-max to 8 or 16 bits)";
    public ISet<string> Flags => new HashSet<string> { "exclude-padding", "modality-lut" };
    public string Help => """
        usage: spinexr dicom convert INPUT... --out DIR [--bits 8|16] [--workers N] [--voi auto|none]
                                     [--exclude-padding] [--modality-lut]

        Converts each DICOM file (folders are searched recursively) to DIR/<stem>.png, the first frame of
        multi-frame files. The default is the VinDr-SpineXR reference conversion: pydicom's apply_voi_lut
        with its defaults (VOI LUT Sequence, else the first window; LINEAR, LINEAR_EXACT, SIGMOID),
        MONOCHROME1 inverted, min-max to 0..255. Pixels above Bits Stored are masked off (the standard;
        pydicom 2.3 keeps them). Colour images are converted to luminance with a warning.

          --out DIR            output folder (created); DIR/convert_log.csv lists file, status, reason
          --bits 8|16          PNG bit depth (default 8)
          --workers N          parallel conversions (default: number of cores)
          --voi auto|none      apply the VOI LUT / window (auto, default) or map the raw range (none)
          --exclude-padding    leave Pixel Padding Value out of the min-max and paint it black
          --modality-lut       apply Rescale Slope/Intercept or the Modality LUT before VOI

        PNGs are written atomically (never a half file). A file that fails is logged and the batch goes on.
        Exit codes: 0 all converted, 1 some files failed (see the log), 2 bad usage or nothing to convert.
        """;

    public int Run(CliArgs args)
    {
        string outDir = args.Require("out");
        int bits = args.GetInt("bits", 8);
        if (bits is not (8 or 16)) throw new UsageException("--bits must be 8 or 16");
        int workers = args.GetInt("workers", Environment.ProcessorCount);
        if (workers < 1) throw new UsageException("--workers must be at least 1");
        var voi = (args.Get("voi") ?? "auto") switch
        {
            "auto" => VoiMode.Auto,
            "none" => VoiMode.None,
            var v => throw new UsageException($"--voi must be auto or none, not '{v}'"),
        };
        var options = new RenderOptions { Voi = voi, ExcludePixelPadding = args.Flag("exclude-padding"), ApplyModalityLut = args.Flag("modality-lut") };
        if (args.Positionals.Count == 0) throw new UsageException("give at least one DICOM file or folder");
        var files = DicomInputs.Expand(args.Positionals);
        if (files.Count == 0)
        {
            Console.Error.WriteLine("spinexr: no DICOM files found");
            return ExitCodes.Usage;
        }
        Directory.CreateDirectory(outDir);

        var results = Convert(files, outDir, bits, options, workers, quiet: false, args.Services.Decode);
        int failed = results.Count(r => r.Status == "failed");
        foreach (var r in results.Where(r => r.Status == "failed")) Console.Error.WriteLine($"spinexr: {r.File}: {r.Reason}");

        var log = new StringBuilder("file,status,reason\n");
        foreach (var r in results) log.Append(SpineXR.IO.CsvWriter.Escape(r.File)).Append(',').Append(r.Status).Append(',').Append(SpineXR.IO.CsvWriter.Escape(r.Reason)).Append('\n');
        string logPath = Path.Combine(outDir, "convert_log.csv");
        AtomicFile.WriteAllText(logPath, log.ToString());
        Console.Error.WriteLine($"spinexr: converted {files.Count - failed} of {files.Count} file(s) to {outDir}" +
                                (failed > 0 ? $", {failed} failed (see {logPath})" : ""));
        return failed > 0 ? ExitCodes.SomeFailed : ExitCodes.Ok;
    }

    /// <summary>One line of convert_log.csv.</summary>
    public sealed record LogRow(string File, string Status, string Reason);

    /// <summary>Converts <paramref name="files"/> with <paramref name="workers"/> in parallel; results in input order.</summary>
    public static LogRow[] Convert(IReadOnlyList<string> files, string outDir, int bits, RenderOptions options, int workers, bool quiet,
        DecodeOptions? decode = null)
    {
        // Files run in parallel first; cores left over go to OpenJPEG's own threads inside each JPEG 2000 decode.
        decode = (decode ?? DecodeOptions.Default) with { Jpeg2000Threads = Math.Max(1, Environment.ProcessorCount / Math.Max(1, workers)) };
        var results = new LogRow[files.Count];
        // Two inputs with the same stem would overwrite each other's PNG: the later ones fail instead.
        var owner = new Dictionary<string, string>(StringComparer.Ordinal);
        var targets = new string?[files.Count];
        for (int i = 0; i < files.Count; i++)
        {
            string name = Path.GetFileNameWithoutExtension(files[i]) + ".png";
            if (owner.TryGetValue(name, out var first)) results[i] = new LogRow(files[i], "failed", $"output name {name} already taken by {first}");
            else { owner[name] = files[i]; targets[i] = Path.Combine(outDir, name); }
        }

        using var progress = new ProgressReporter("convert", files.Count, quiet: quiet);
        Parallel.For(0, files.Count, new ParallelOptions { MaxDegreeOfParallelism = workers }, i =>
        {
            if (targets[i] is { } target)
            {
                try
                {
                    var r = DicomToPng.Convert(files[i], target, bits, options, decode);
                    results[i] = new LogRow(files[i], "ok", string.Join("; ", r.Warnings));
                }
                catch (DicomException e) { results[i] = new LogRow(files[i], "failed", ErrorText.WithoutName(e.Message, files[i])); }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    results[i] = new LogRow(files[i], "failed", Program.OneLine(e));
                }
            }
            progress.Advance();
        });
        return results;
    }
}
