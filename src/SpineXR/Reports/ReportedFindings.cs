using SpineXR.Inference;

namespace SpineXR.Reports;

/// <summary>
/// What a SpineXR measurement report (DICOM SR, TID 1500) says about one image: the source image it references,
/// P(abnormal) and the verdict, and the boxes (class, score, xyxy in the source's pixels).
/// </summary>
public sealed record ReportedFindings(
    string SourceSopInstanceUid, double AbnormalProbability, string Verdict, IReadOnlyList<PredictedBox> Boxes);
