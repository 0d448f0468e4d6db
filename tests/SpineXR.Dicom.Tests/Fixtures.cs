using System.Globalization;

namespace SpineXR.Dicom.Tests;

/// <summary>Paths to the golden files (tools/make_dicom_fixtures.py) and the manifest of expected stored values.</summary>
internal static class Fixtures
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "Fixtures");

    public static string PathOf(string relative) => Path.Combine(Root, relative);

    public sealed record ManifestRow(string File, int Frame, int Rows, int Columns, string Sha256, long Min, long Max, long Sum);

    public static IReadOnlyList<ManifestRow> Manifest() => File.ReadAllLines(PathOf("manifest.csv")).Skip(1)
        .Where(l => l.Length > 0)
        .Select(l => l.Split(','))
        .Select(p => new ManifestRow(p[0], int.Parse(p[1], CultureInfo.InvariantCulture), int.Parse(p[2], CultureInfo.InvariantCulture),
            int.Parse(p[3], CultureInfo.InvariantCulture), p[4], long.Parse(p[5], CultureInfo.InvariantCulture),
            long.Parse(p[6], CultureInfo.InvariantCulture), long.Parse(p[7], CultureInfo.InvariantCulture)))
        .ToList();

    /// <summary>Every valid fixture file (seeds for the mutation test).</summary>
    public static IEnumerable<string> AllDicomFiles() =>
        Directory.GetFiles(Root, "*.dcm", SearchOption.AllDirectories).Order(StringComparer.Ordinal);
}
