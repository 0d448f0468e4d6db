namespace SpineXR.Data;

/// <summary>
/// The VinDr-SpineXR finding taxonomy. The seven detected classes are in the paper's class-index order;
/// <c>No finding</c> marks a normal image; other names from the paper are recognised and counted, not trained.
/// </summary>
public static class LesionTaxonomy
{
    /// <summary>The detected lesion classes; index = class id used by models and prediction files.</summary>
    public static readonly IReadOnlyList<string> Classes =
    [
        "Osteophytes", "Surgical implant", "Spondylolysthesis", "Foraminal stenosis",
        "Disc space narrowing", "Vertebral collapse", "Other lesions",
    ];

    public const string NoFinding = "No finding";

    /// <summary>Other findings named in the paper's annotation protocol (kept in counts, not trained).</summary>
    public static readonly IReadOnlyList<string> OtherCategories =
    [
        "Sclerotic lesion", "Fracture", "Ankylosing spondylitis", "Enthesophytes", "Subchondral sclerosis",
        "Scoliosis", "Spinal tumor",
    ];

    private static readonly Dictionary<string, int> Index = BuildIndex();

    private static Dictionary<string, int> BuildIndex()
    {
        var d = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < Classes.Count; i++) d[Classes[i]] = i;
        d["Spondylolisthesis"] = 2; // the correct spelling, accepted as an alias of the CSV's
        return d;
    }

    /// <summary>Class index of a lesion name (CSV spelling or alias), or -1 when it is not one of the seven.</summary>
    public static int ClassIndex(string name) => Index.TryGetValue(name.Trim(), out int i) ? i : -1;

    public static bool IsNoFinding(string name) => string.Equals(name.Trim(), NoFinding, StringComparison.OrdinalIgnoreCase);
}
