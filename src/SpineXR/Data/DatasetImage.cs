using SpineXR.Boxes;

namespace SpineXR.Data;

/// <summary>One trainable lesion box: class index into <see cref="LesionTaxonomy.Classes"/>, the type as written, the box (xyxy, original pixels, clipped), who drew it.</summary>
public readonly record struct LesionBox(int ClassId, string LesionType, BoxF Box, string RadId);

/// <summary>
/// One image of a dataset split with everything the models need: its file, size from the header, the boxes of the
/// seven classes (clipped to the image, zero-area ones dropped) and every finding named for it.
/// </summary>
/// <param name="Findings">Every lesion type named for the image other than <c>No finding</c>, one entry per CSV row,
/// including the paper's other categories and unknown types (which have no <see cref="Boxes"/> entry).</param>
public sealed record DatasetImage(
    string ImageId, string StudyId, string SeriesId, string Split, string Path, int Width, int Height,
    IReadOnlyList<LesionBox> Boxes, IReadOnlyList<string> Findings)
{
    /// <summary>
    /// The classifier's label: abnormal when any row names a finding other than <c>No finding</c> — the seven classes,
    /// the paper's other categories, or an unknown type. An image whose only lesion box was dropped (zero area) is still abnormal.
    /// </summary>
    public bool IsAbnormal => Findings.Count > 0;

    /// <summary>1 abnormal, 0 normal.</summary>
    public int Label => IsAbnormal ? 1 : 0;
}
