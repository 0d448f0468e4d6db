// What every DICOM object SpineXR derives from a source image shares (Secondary Capture, SR, presentation state):
// the source's patient and study, a new series of its own per kind, UIDs reproducible from the source and the models.
using System.Globalization;
using System.Reflection;
using SpineXR.Dicom;
using SpineXR.Dicom.StructuredReporting;
using SpineXR.Inference;

namespace SpineXR.Reports;

/// <summary>Starts derived objects: patient and study from the source, new series, SOP Common and Contributing Equipment.</summary>
public static class DerivedInstance
{
    /// <summary>Algorithm name in Contributing Equipment, observer context and Manufacturer Model Name.</summary>
    public const string AlgorithmName = "SpineXR";

    /// <summary>The software version (assembly informational version: release and commit).</summary>
    public static string AlgorithmVersion { get; } = Trim64(typeof(DerivedInstance).Assembly
        .GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0");

    /// <summary>A stable UID naming the algorithm as an observer device (TID 1004 Device Observer UID).</summary>
    public static string DeviceUid { get; } = DicomUid.FromSeed("spinexr-device/" + AlgorithmName);

    /// <summary>Patient and study attributes copied from the source (raw, so the source's character set carries over).</summary>
    private static readonly DicomTag[] Copied =
    [
        DicomTags.SpecificCharacterSet,
        DicomTags.PatientName, DicomTags.PatientID, DicomTags.PatientBirthDate, DicomTags.PatientSex, DicomTags.PatientAge,
        DicomTags.StudyInstanceUID, DicomTags.StudyDate, DicomTags.StudyTime, DicomTags.StudyID, DicomTags.AccessionNumber,
        DicomTags.ReferringPhysicianName, DicomTags.StudyDescription,
    ];

    /// <summary>Type 2 patient and study attributes: present, empty when the source lacks them.</summary>
    private static readonly (DicomTag Tag, DicomVR VR)[] Type2 =
    [
        (DicomTags.PatientName, DicomVR.PN), (DicomTags.PatientID, DicomVR.LO), (DicomTags.PatientBirthDate, DicomVR.DA),
        (DicomTags.PatientSex, DicomVR.CS), (DicomTags.StudyDate, DicomVR.DA), (DicomTags.StudyTime, DicomVR.TM), (DicomTags.StudyID, DicomVR.SH),
        (DicomTags.AccessionNumber, DicomVR.SH), (DicomTags.ReferringPhysicianName, DicomVR.PN),
    ];

    /// <summary>
    /// The models and thresholds of a run (not its time) as 16 hex digits: derived objects' UIDs include it, so the
    /// same models reproduce them and other models give new ones.
    /// </summary>
    public static string ProvenanceKey(PredictionProvenance provenance) =>
        Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(
            System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(provenance with { Created = "" })))[..16];

    /// <summary>The source's identity in UID seeds: its SOP Instance UID, else its file.</summary>
    public static string SourceKey(SpineImage image) => image.SopInstanceUid ?? ("file:" + InputFiles.ItemKey(image.File));

    /// <summary>The source's Study Instance UID; PNG inputs have none, so one derived from the file (the object stays valid).</summary>
    public static string StudyUid(SpineImage image) => image.StudyInstanceUid ?? DicomUid.FromSeed("spinexr-study/" + SourceKey(image));

    /// <summary>
    /// A dataset with the source's patient and study and a new instance of <paramref name="kind"/> ("sc", "sr", "pr"):
    /// SOP Class, SOP Instance UID and Series Instance UID (derived from the source, the study and
    /// <paramref name="provenanceKey"/>, so the same models give the same UIDs), series and instance number, Manufacturer.
    /// </summary>
    public static DicomDataset Start(SpineImage image, string kind, string sopClassUid, int seriesNumber, string seriesDescription, string provenanceKey)
    {
        var src = image.Header ?? new DicomDataset();
        var ds = new DicomDataset(src.Encoding);
        foreach (var tag in Copied)
            if (src.TryGetElement(tag, out var e) && e.Items == null && e.Fragments == null) ds.Set(e);
        string study = StudyUid(image);
        ds.SetString(DicomTags.StudyInstanceUID, DicomVR.UI, study);
        foreach (var (tag, vr) in Type2)
            if (!ds.Contains(tag)) ds.SetString(tag, vr, "");

        ds.SetString(DicomTags.SOPClassUID, DicomVR.UI, sopClassUid);
        ds.SetString(DicomTags.SOPInstanceUID, DicomVR.UI, DicomUid.FromSeed($"spinexr-{kind}/{provenanceKey}/{SourceKey(image)}"));
        ds.SetString(DicomTags.SeriesInstanceUID, DicomVR.UI, DicomUid.FromSeed($"spinexr-{kind}-series/{provenanceKey}/{study}"));
        ds.SetString(DicomTags.Manufacturer, DicomVR.LO, AlgorithmName);
        ds.SetString(DicomTags.SeriesDescription, DicomVR.LO, seriesDescription);
        ds.SetInts(DicomTags.SeriesNumber, DicomVR.IS, seriesNumber);
        ds.SetInts(DicomTags.InstanceNumber, DicomVR.IS, 1);
        return ds;
    }

    /// <summary>
    /// Contributing Equipment Sequence naming the algorithm and its version, with the purpose IHE AI Results asks for
    /// ("Processing Algorithm"), and the models (<paramref name="provenanceKey"/>) in the description.
    /// </summary>
    public static DicomDataset ContributingEquipment(string provenanceKey, DateTime now) => new DicomDataset()
        .SetSequence(DicomTags.PurposeOfReferenceCodeSequence, FindingCodes.ProcessingAlgorithm.ToItem())
        .SetString(DicomTags.Manufacturer, DicomVR.LO, AlgorithmName)
        .SetString(DicomTags.ManufacturerModelName, DicomVR.LO, AlgorithmName)
        .SetString(DicomTags.SoftwareVersions, DicomVR.LO, AlgorithmVersion)
        .SetString(DicomTags.ContributionDateTime, DicomVR.DT, now.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture))
        .SetString(DicomTags.ContributionDescription, DicomVR.ST, $"SpineXR lesion detection, models {provenanceKey}; research software, not for diagnostic use");

    /// <summary>Sets Content/Instance Creation Date and Time.</summary>
    public static void SetDates(DicomDataset ds, DateTime now, DicomTag date, DicomTag time)
    {
        ds.SetString(date, DicomVR.DA, now.ToString("yyyyMMdd", CultureInfo.InvariantCulture));
        ds.SetString(time, DicomVR.TM, now.ToString("HHmmss", CultureInfo.InvariantCulture));
    }

    /// <summary>A reference to the source image (class and instance), or null when the source is not a DICOM image.</summary>
    public static DicomDataset? SourceReference(SpineImage image) =>
        image.Header?.GetString(DicomTags.SOPClassUID) is { Length: > 0 } cls && image.SopInstanceUid != null
            ? ContentItem.SopReference(cls, image.SopInstanceUid)
            : null;

    private static string Trim64(string s) => s.Length <= 64 ? s : s[..64];
}
