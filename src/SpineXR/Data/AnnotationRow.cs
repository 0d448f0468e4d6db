using SpineXR.Boxes;

namespace SpineXR.Data;

/// <summary>
/// One row of a VinDr-SpineXR annotation file (<c>annotations/train.csv</c>, <c>test.csv</c>).
/// <paramref name="Box"/> is null for <c>No finding</c> rows (empty xmin..ymax); otherwise xyxy in original image pixels.
/// </summary>
public sealed record AnnotationRow(string StudyId, string SeriesId, string ImageId, string RadId, string LesionType, BoxF? Box);
