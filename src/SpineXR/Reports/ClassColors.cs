using SkiaSharp;

namespace SpineXR.Reports;

/// <summary>One fixed, colour-blind-friendly colour per lesion class (index order of <see cref="Data.LesionTaxonomy.Classes"/>).</summary>
public static class ClassColors
{
    private static readonly SKColor[] Palette =
    [
        new(0xE6, 0x9F, 0x00), // Osteophytes: orange
        new(0x56, 0xB4, 0xE9), // Surgical implant: sky blue
        new(0x00, 0x9E, 0x73), // Spondylolysthesis: green
        new(0xF0, 0xE4, 0x42), // Foraminal stenosis: yellow
        new(0xD5, 0x5E, 0x00), // Disc space narrowing: vermillion
        new(0xCC, 0x79, 0xA7), // Vertebral collapse: purple
        new(0x00, 0x72, 0xB2), // Other lesions: blue
    ];

    public static SKColor Of(int classId) => Palette[((classId % Palette.Length) + Palette.Length) % Palette.Length];

    /// <summary>CSS hex form, for HTML reports and the viewer.</summary>
    public static string Hex(int classId)
    {
        var c = Of(classId);
        return $"#{c.Red:x2}{c.Green:x2}{c.Blue:x2}";
    }
}
