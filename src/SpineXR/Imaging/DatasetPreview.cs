using SpineXR.Data;

namespace SpineXR.Imaging;

/// <summary>A dataset image with its ground-truth boxes drawn and labelled, as PNG bytes (README pictures, data checks).</summary>
public static class DatasetPreview
{
    /// <summary>Decodes the image (reference 8-bit conversion) and draws its boxes; long side scaled to <paramref name="maxSide"/>.</summary>
    public static byte[] Render(DatasetImage image, int maxSide = 1000)
    {
        var (px, w, h) = DicomImageDecoder.Decode8(image.Path);
        return BoxPreview.Render(px, w, h, image.Boxes.Select(b => new PreviewBox(b.Box, LesionTaxonomy.Classes[b.ClassId], b.ClassId)), maxSide);
    }

    /// <summary>The image that shows the most classes (ties: most boxes, then first in order), or null when none has boxes.</summary>
    public static DatasetImage? MostVaried(IEnumerable<DatasetImage> images) =>
        images.Where(i => i.Boxes.Count > 0)
            .OrderByDescending(i => i.Boxes.Select(b => b.ClassId).Distinct().Count())
            .ThenByDescending(i => i.Boxes.Count).FirstOrDefault();
}
