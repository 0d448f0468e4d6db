using SkiaSharp;

namespace SpineXR.Reports;

/// <summary>
/// The typeface for labels. SkiaSharp's no-dependency native build has no fontconfig, so its default
/// typeface can be empty; we load DejaVu Sans from Debian's fonts-dejavu-core (installed by scripts/setup.sh).
/// </summary>
public static class ReportFonts
{
    private static readonly Lazy<SKTypeface> Sans = new(() =>
    {
        foreach (var p in new[]
                 {
                     "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                     "/usr/share/fonts/TTF/DejaVuSans.ttf",
                     "/usr/share/fonts/dejavu/DejaVuSans.ttf",
                 })
        {
            if (File.Exists(p) && SKTypeface.FromFile(p) is { } tf) return tf;
        }
        return SKTypeface.Default;
    });

    public static SKTypeface Typeface => Sans.Value;

    public static SKFont Font(float size) => new(Typeface, size) { Edging = SKFontEdging.Antialias };
}
