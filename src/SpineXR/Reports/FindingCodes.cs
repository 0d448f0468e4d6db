// The coded vocabulary of SpineXR's DICOM results (SR and presentation states). Codes of standard terminologies
// where one exists for the finding, a private scheme (99SPINEXR) for the rest; the table is in docs/dicom-results.md.
// Codes never change meaning once published: a reader of an old SR must map it back to the same class.
using SpineXR.Data;
using SpineXR.Dicom;
using SpineXR.Dicom.StructuredReporting;

namespace SpineXR.Reports;

/// <summary>Coded concepts for the seven lesion classes, "abnormal", and the DCM/SCT concepts the results use.</summary>
public static class FindingCodes
{
    /// <summary>Designator of SpineXR's private coding scheme (PS3.16 8.2: "99" prefix for private schemes).</summary>
    public const string PrivateScheme = "99SPINEXR";

    /// <summary>Designator under which IHE AI Results (trial implementation) issued its not-yet-standard codes.</summary>
    public const string IheScheme = "99IHE";

    /// <summary>The concept of each class, in class-index order (<see cref="LesionTaxonomy.Classes"/>).</summary>
    public static readonly IReadOnlyList<CodedConcept> Classes =
    [
        new("88998003", "SCT", "Osteophyte"),
        new("40388003", "SCT", "Implant"),
        new("274152003", "SCT", "Spondylolisthesis"),
        new("SPX0003", PrivateScheme, "Foraminal stenosis"),
        new("SPX0004", PrivateScheme, "Disc space narrowing"),
        new("SPX0005", PrivateScheme, "Vertebral collapse"),
        new("SPX0006", PrivateScheme, "Other lesion"),
    ];

    public static readonly CodedConcept Abnormal = new("263654008", "SCT", "Abnormal");
    public static readonly CodedConcept Yes = new("373066001", "SCT", "Yes");
    public static readonly CodedConcept No = new("373067005", "SCT", "No");
    public static readonly CodedConcept Spine = new("421060004", "SCT", "Spine");
    public static readonly CodedConcept FindingSite = new("363698007", "SCT", "Finding Site");
    public static readonly CodedConcept ImagingProcedure = new("363679005", "SCT", "Imaging procedure");

    public static readonly CodedConcept ImagingMeasurementReport = new("126000", "DCM", "Imaging Measurement Report");
    public static readonly CodedConcept LanguageOfContent = new("121049", "DCM", "Language of Content Item and Descendants");
    public static readonly CodedConcept EnglishUS = new("en-US", "RFC5646", "English (United States)");
    public static readonly CodedConcept ObserverType = new("121005", "DCM", "Observer Type");
    public static readonly CodedConcept Device = new("121007", "DCM", "Device");
    public static readonly CodedConcept DeviceObserverUid = new("121012", "DCM", "Device Observer UID");
    public static readonly CodedConcept DeviceObserverName = new("121013", "DCM", "Device Observer Name");
    public static readonly CodedConcept DeviceObserverManufacturer = new("121014", "DCM", "Device Observer Manufacturer");
    public static readonly CodedConcept DeviceObserverModelName = new("121015", "DCM", "Device Observer Model Name");
    public static readonly CodedConcept ProcedureReported = new("121058", "DCM", "Procedure reported");
    public static readonly CodedConcept ImageLibrary = new("111028", "DCM", "Image Library");
    public static readonly CodedConcept ImageLibraryGroup = new("126200", "DCM", "Image Library Group");
    public static readonly CodedConcept ImagingMeasurements = new("126010", "DCM", "Imaging Measurements");
    public static readonly CodedConcept MeasurementGroup = new("125007", "DCM", "Measurement Group");
    public static readonly CodedConcept TrackingIdentifier = new("112039", "DCM", "Tracking Identifier");
    public static readonly CodedConcept TrackingUid = new("112040", "DCM", "Tracking Unique Identifier");
    public static readonly CodedConcept Finding = new("121071", "DCM", "Finding");
    public static readonly CodedConcept ImageRegion = new("111030", "DCM", "Image Region");
    public static readonly CodedConcept Probability = new("122157", "DCM", "Probability");
    public static readonly CodedConcept AlgorithmName = new("111001", "DCM", "Algorithm Name");
    public static readonly CodedConcept AlgorithmVersion = new("111003", "DCM", "Algorithm Version");
    public static readonly CodedConcept NoUnits = new("1", "UCUM", "no units");

    /// <summary>Contributing Equipment purpose for an AI algorithm, as IHE AIR names it (a placeholder code there).</summary>
    public static readonly CodedConcept ProcessingAlgorithm = new("Newcode1", IheScheme, "Processing Algorithm");

    /// <summary>The class index of a finding code (by value and scheme), or -1 when it is none of the seven.</summary>
    public static int ClassOf(CodedConcept? code)
    {
        if (code == null) return -1;
        for (int i = 0; i < Classes.Count; i++)
            if (Classes[i].Matches(code)) return i;
        return -1;
    }

    /// <summary>Coding Scheme Identification items for the private schemes a result uses (PS3.3 C.12.1.1.3).</summary>
    public static DicomDataset[] PrivateSchemeIdentification() =>
    [
        new DicomDataset()
            .SetString(DicomTags.CodingSchemeDesignator, DicomVR.SH, PrivateScheme)
            .SetString(DicomTags.CodingSchemeName, DicomVR.ST, "SpineXR findings")
            .SetString(DicomTags.CodingSchemeResponsibleOrganization, DicomVR.ST, "SpineXR project"),
        new DicomDataset()
            .SetString(DicomTags.CodingSchemeDesignator, DicomVR.SH, IheScheme)
            .SetString(DicomTags.CodingSchemeName, DicomVR.ST, "IHE AI Results trial implementation codes")
            .SetString(DicomTags.CodingSchemeResponsibleOrganization, DicomVR.ST, "IHE Radiology"),
    ];
}
