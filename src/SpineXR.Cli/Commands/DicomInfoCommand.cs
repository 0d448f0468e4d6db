using System.Globalization;
using System.Text;
using SpineXR.Dicom;
using SpineXR.IO;

namespace SpineXR.Cli.Commands;

/// <summary>`spinexr dicom info`: one row of header fields per DICOM file (header-only reads, in parallel).</summary>
public sealed class DicomInfoCommand : ICliCommand
{
    public string Name => "dicom info";
    public string Summary => "header fields of DICOM files (table or CSV)";
    public string Help => """
        usage: spinexr dicom info PATH... [--csv FILE]

        One row per DICOM file (folders are searched recursively for *.dcm, *.dicom, *.dic and files
        without an extension). Only the header is read, so large files are cheap.

        Columns: file, image_id (SOP Instance UID), study_id, series_id, patient_id, modality, body_part,
        patient_sex, patient_age, rows, columns, bits_allocated, bits_stored, pixel_representation,
        photometric, transfer_syntax, window_center, window_width, pixel_spacing, file_size.

          --csv FILE   write the rows to FILE (written atomically) instead of a table on stdout

        Exit codes: 0 all read, 1 some files could not be read (one line each on stderr), 2 bad usage.
        """;

    public static readonly string[] Columns =
    [
        "file", "image_id", "study_id", "series_id", "patient_id", "modality", "body_part", "patient_sex", "patient_age",
        "rows", "columns", "bits_allocated", "bits_stored", "pixel_representation", "photometric", "transfer_syntax",
        "window_center", "window_width", "pixel_spacing", "file_size",
    ];

    public int Run(CliArgs args)
    {
        string? csv = args.Get("csv");
        if (args.Positionals.Count == 0) throw new UsageException("give at least one DICOM file or folder");
        var files = DicomInputs.Expand(args.Positionals);
        if (files.Count == 0)
        {
            Console.Error.WriteLine("spinexr: no DICOM files found");
            return ExitCodes.Usage;
        }

        var rows = new string[]?[files.Count];
        var errors = new string?[files.Count];
        Parallel.For(0, files.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            try { rows[i] = Row(files[i]); }
            catch (DicomException e) { errors[i] = e.Message; }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { errors[i] = $"{files[i]}: {e.Message}"; }
        });

        int failed = 0;
        foreach (var e in errors)
            if (e != null) { failed++; Console.Error.WriteLine("spinexr: " + e); }
        var good = rows.Where(r => r != null).Select(r => r!).ToList();

        if (csv != null)
        {
            var sb = new StringBuilder();
            sb.AppendLine(string.Join(',', Columns));
            foreach (var r in good) sb.AppendLine(string.Join(',', r.Select(SpineXR.IO.CsvWriter.Escape)));
            AtomicFile.WriteAllText(csv, sb.ToString());
            Console.Error.WriteLine($"spinexr: {good.Count} row(s) written to {csv}" + (failed > 0 ? $", {failed} file(s) failed" : ""));
        }
        else WriteTable(Console.Out, good);
        return failed > 0 ? ExitCodes.SomeFailed : ExitCodes.Ok;
    }

    /// <summary>The info row of one file (header-only read).</summary>
    public static string[] Row(string path)
    {
        var f = DicomFile.Open(path, DicomReadOptions.HeaderOnly);
        var ds = f.Dataset;
        string S(DicomTag t) => ds.GetStringOrDefault(t, "");
        string spacing = ds.Contains(DicomTags.PixelSpacing) ? S(DicomTags.PixelSpacing) : S(DicomTags.ImagerPixelSpacing);
        return
        [
            path, S(DicomTags.SOPInstanceUID), S(DicomTags.StudyInstanceUID), S(DicomTags.SeriesInstanceUID), S(DicomTags.PatientID),
            S(DicomTags.Modality), S(DicomTags.BodyPartExamined), S(DicomTags.PatientSex), S(DicomTags.PatientAge),
            S(DicomTags.Rows), S(DicomTags.Columns), S(DicomTags.BitsAllocated), S(DicomTags.BitsStored), S(DicomTags.PixelRepresentation),
            S(DicomTags.PhotometricInterpretation), f.TransferSyntax.Uid, S(DicomTags.WindowCenter), S(DicomTags.WindowWidth), spacing,
            f.SourceSize.ToString(CultureInfo.InvariantCulture),
        ];
    }

    private static void WriteTable(TextWriter w, List<string[]> rows)
    {
        var widths = Columns.Select(c => c.Length).ToArray();
        foreach (var r in rows)
            for (int i = 0; i < r.Length; i++) widths[i] = Math.Max(widths[i], Math.Min(r[i].Length, 64));
        string Line(IReadOnlyList<string> cells) =>
            string.Join("  ", cells.Select((c, i) => (c.Length > 64 ? c[..61] + "..." : c).PadRight(widths[i]))).TrimEnd();
        w.WriteLine(Line(Columns));
        foreach (var r in rows) w.WriteLine(Line(r));
    }
}
