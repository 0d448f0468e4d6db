using SpineXR.Imaging;
using SpineXR.Vision.Preprocessing;

namespace SpineXR.Vision.Data;

/// <summary>One labelled image for the classifier; <see cref="Load"/> decodes it on a loader thread and may throw for unreadable files.</summary>
/// <param name="ImageId">The image's id (DICOM SOP Instance UID or file stem).</param>
/// <param name="StudyId">Study, so a validation split never shares a study with training.</param>
/// <param name="Abnormal">Label: true when the image has any lesion ("No finding" otherwise).</param>
/// <param name="Load">Returns the 8-bit greyscale image.</param>
public sealed record ClassifierSample(string ImageId, string StudyId, bool Abnormal, Func<GrayImage> Load);
