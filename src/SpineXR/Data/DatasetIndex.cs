using System.Collections.Concurrent;
using SpineXR.Boxes;
using SpineXR.IO;

namespace SpineXR.Data;

/// <summary>
/// A dataset in the VinDr-SpineXR layout, read the way the official code reads it: <c>annotations/{split}.csv</c>
/// rows grouped per image (and study), images at <c>{split}_images/&lt;image_id&gt;.dicom</c>, image sizes from the
/// DICOM headers (cached in <c>{split}_meta.csv</c>, the <c>dicom info</c> format). Boxes of the seven classes are
/// clipped to the image and zero-area ones dropped; other findings count towards the abnormal label only.
/// Problems never abort loading: each goes to <see cref="Issues"/> with its file and reason, and the rest loads.
/// </summary>
public sealed class DatasetIndex
{
    private readonly Dictionary<string, IReadOnlyList<DatasetImage>> _splits;

    private DatasetIndex(string root, Dictionary<string, IReadOnlyList<DatasetImage>> splits, DatasetIssues issues,
        Dictionary<string, int> findingCounts)
    {
        Root = root;
        _splits = splits;
        Issues = issues;
        FindingCounts = findingCounts;
    }

    /// <summary>The dataset folder.</summary>
    public string Root { get; }

    /// <summary>Everything that went wrong while reading, with file and reason.</summary>
    public DatasetIssues Issues { get; }

    /// <summary>Rows per finding name over all splits (seven classes, other categories and unknown types; not <c>No finding</c>).</summary>
    public IReadOnlyDictionary<string, int> FindingCounts { get; }

    /// <summary>Split names that were read (some may be empty).</summary>
    public IReadOnlyCollection<string> SplitNames => _splits.Keys;

    /// <summary>The images of a split ("train", "test"), in annotation-file order; empty when the split is absent.</summary>
    public IReadOnlyList<DatasetImage> Get(string split) => _splits.TryGetValue(split, out var l) ? l : [];

    /// <summary>Default folder for the preprocessed-image cache of this dataset.</summary>
    public string CacheDirectory => Path.Combine(Root, ".cache");

    /// <summary>Reads a dataset; never throws for bad content (see <see cref="Issues"/>), only for a missing root folder.</summary>
    public static DatasetIndex Load(string root, DatasetOptions? options = null)
    {
        options ??= new DatasetOptions();
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"{root}: dataset folder not found");
        root = Path.GetFullPath(root); // image paths (and so cache keys) are absolute
        var issues = new DatasetIssues();
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var splits = new Dictionary<string, IReadOnlyList<DatasetImage>>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string split in options.Splits)
        {
            var images = LoadSplit(root, split, options, issues, counts);
            var kept = new List<DatasetImage>(images.Count);
            foreach (var im in images)
            {
                if (seen.Add(im.ImageId)) kept.Add(im);
                else issues.Add(DatasetIssueKind.DuplicateImage, AnnotationPath(root, split), im.ImageId, "image already listed in an earlier split; skipped here");
            }
            splits[split] = kept;
        }
        return new DatasetIndex(root, splits, issues, counts);
    }

    /// <summary>Path of a split's annotation file.</summary>
    public static string AnnotationPath(string root, string split) => Path.Combine(root, "annotations", split + ".csv");

    /// <summary>Path of a split's header cache.</summary>
    public static string MetaPath(string root, string split) => Path.Combine(root, split + "_meta.csv");

    private static List<DatasetImage> LoadSplit(string root, string split, DatasetOptions options, DatasetIssues issues, Dictionary<string, int> counts)
    {
        string csvPath = AnnotationPath(root, split);
        List<AnnotationRow> rows;
        try
        {
            rows = AnnotationFile.Read(csvPath, issues);
        }
        catch (MissingColumnException e)
        {
            issues.Add(DatasetIssueKind.MissingColumn, csvPath, null, e.Message);
            return [];
        }
        catch (Exception e) when (e is IOException or InvalidDataException or FormatException or UnauthorizedAccessException)
        {
            issues.Add(DatasetIssueKind.UnreadableAnnotations, csvPath, null, e is FileNotFoundException ? "file not found" : e.Message);
            return [];
        }

        // Group rows per image, keeping first-appearance order.
        var order = new List<string>();
        var byImage = new Dictionary<string, List<AnnotationRow>>(StringComparer.Ordinal);
        foreach (var r in rows)
        {
            if (!byImage.TryGetValue(r.ImageId, out var list))
            {
                byImage[r.ImageId] = list = [];
                order.Add(r.ImageId);
            }
            list.Add(r);
        }

        // Locate files.
        string imageDir = Path.Combine(root, split + "_images");
        var paths = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string id in order)
        {
            string? found = options.Extensions.Select(ext => Path.Combine(imageDir, id + ext)).FirstOrDefault(File.Exists);
            if (found == null)
                issues.Add(DatasetIssueKind.MissingImage, Path.Combine(imageDir, id + options.Extensions[0]), id, "image file not found; its rows are skipped");
            else paths[id] = found;
        }

        var metas = ReadMetas(root, split, paths, options, issues);

        var result = new List<DatasetImage>(order.Count);
        var unknownReported = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (string id in order)
        {
            if (!paths.TryGetValue(id, out string? path) || !metas.TryGetValue(id, out var meta)) continue;
            var imageRows = byImage[id];
            var boxes = new List<LesionBox>();
            var findings = new List<string>();
            int w = meta.Columns, h = meta.Rows;
            foreach (var r in imageRows)
            {
                if (LesionTaxonomy.IsNoFinding(r.LesionType)) continue;
                string type = r.LesionType;
                findings.Add(type);
                lock (counts) counts[type] = counts.GetValueOrDefault(type) + 1;
                int cls = LesionTaxonomy.ClassIndex(type);
                if (cls < 0)
                {
                    bool known = LesionTaxonomy.OtherCategories.Contains(type, StringComparer.OrdinalIgnoreCase);
                    if (!known && unknownReported.Add(type))
                        issues.Add(DatasetIssueKind.UnknownLesionType, csvPath, id, $"lesion type '{type}' is not a known category; counted, not trained");
                    continue;
                }
                if (r.Box is not BoxF b)
                {
                    issues.Add(DatasetIssueKind.ZeroAreaBox, csvPath, id, $"'{type}' row has no box; kept as an image label only");
                    continue;
                }
                if (b.Width <= 0 || b.Height <= 0)
                {
                    issues.Add(DatasetIssueKind.ZeroAreaBox, csvPath, id, $"'{type}' box {Fmt(b)} has zero area; dropped");
                    continue;
                }
                var c = new BoxF(Math.Clamp(b.X1, 0, w), Math.Clamp(b.Y1, 0, h), Math.Clamp(b.X2, 0, w), Math.Clamp(b.Y2, 0, h));
                if (c.Width <= 0 || c.Height <= 0)
                {
                    issues.Add(DatasetIssueKind.ZeroAreaBox, csvPath, id, $"'{type}' box {Fmt(b)} lies outside the {w}x{h} image; dropped");
                    continue;
                }
                if (c != b) issues.Add(DatasetIssueKind.BoxClipped, csvPath, id, $"'{type}' box {Fmt(b)} clipped to the {w}x{h} image");
                boxes.Add(new LesionBox(cls, type, c, r.RadId));
            }
            var first = imageRows[0];
            result.Add(new DatasetImage(id, first.StudyId, first.SeriesId, split, path, w, h, boxes, findings));
        }
        return result;
    }

    private static string Fmt(BoxF b) => FormattableString.Invariant($"[{b.X1:0.##}, {b.Y1:0.##}, {b.X2:0.##}, {b.Y2:0.##}]");

    /// <summary>Header facts for every located image: from the meta cache when fresh, else read (in parallel) and cached.</summary>
    private static Dictionary<string, ImageMeta> ReadMetas(string root, string split, Dictionary<string, string> paths, DatasetOptions options, DatasetIssues issues)
    {
        string metaPath = MetaPath(root, split);
        Dictionary<string, ImageMeta> cached = [];
        if (File.Exists(metaPath))
        {
            try { cached = ImageMetaFile.Read(metaPath); }
            catch (Exception e) when (e is IOException or InvalidDataException) { cached = []; } // a stale or broken cache is rebuilt
        }
        var result = new ConcurrentDictionary<string, ImageMeta>(StringComparer.Ordinal);
        var todo = new List<KeyValuePair<string, string>>();
        foreach (var (id, path) in paths)
        {
            if (cached.TryGetValue(id, out var m) && m.Rows > 0 && m.Columns > 0 && (m.FileSize < 0 || m.FileSize == new FileInfo(path).Length))
                result[id] = m;
            else todo.Add(new(id, path));
        }
        if (todo.Count > 0)
        {
            var reader = options.HeaderReader ?? DicomImageMeta.Read;
            int workers = options.Workers > 0 ? options.Workers : Environment.ProcessorCount;
            Parallel.ForEach(todo, new ParallelOptions { MaxDegreeOfParallelism = workers }, kv =>
            {
                try
                {
                    var m = reader(kv.Value);
                    if (m.Rows <= 0 || m.Columns <= 0) throw new InvalidDataException($"image size {m.Columns}x{m.Rows} in header");
                    result[kv.Key] = m;
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    issues.Add(DatasetIssueKind.UnreadableImage, kv.Value, kv.Key, e.Message.Replace('\n', ' '));
                }
            });
            if (options.WriteMetaCache)
            {
                try
                {
                    var all = new Dictionary<string, ImageMeta>(cached, StringComparer.Ordinal);
                    foreach (var (k, v) in result) all[k] = v;
                    ImageMetaFile.Write(metaPath, all.Values);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // read-only dataset: fine, just slower next time
            }
        }
        return new Dictionary<string, ImageMeta>(result, StringComparer.Ordinal);
    }

    /// <summary>Images grouped by study id (studies in first-appearance order).</summary>
    public static IReadOnlyList<IGrouping<string, DatasetImage>> GroupByStudy(IEnumerable<DatasetImage> images) =>
        images.GroupBy(i => i.StudyId, StringComparer.Ordinal).ToList();

    /// <summary>The train/validation split by study of every trainer (<see cref="StudySplit"/>); image order within each part follows the input.</summary>
    public static (IReadOnlyList<DatasetImage> Train, IReadOnlyList<DatasetImage> Validation) SplitByStudy(
        IReadOnlyList<DatasetImage> images, double validationFraction, int seed) =>
        StudySplit.Split(images, i => i.StudyId, validationFraction, seed);
}

/// <summary>
/// The one train/validation split of every trainer (docs/training.md "Validation split"): the distinct study ids,
/// sorted ordinally, shuffled with <c>new Random(seed)</c>; the first ceil(fraction x studies) are held out. A study's
/// images never straddle the split, and the classifier and the detectors trained with the same seed and fraction
/// validate on the same studies.
/// </summary>
public static class StudySplit
{
    public static (List<T> Train, List<T> Validation) Split<T>(IReadOnlyList<T> items, Func<T, string> studyOf, double validationFraction, int seed)
    {
        if (validationFraction is < 0 or > 1 || double.IsNaN(validationFraction))
            throw new ArgumentException("validation fraction must be in [0, 1]", nameof(validationFraction));
        if (validationFraction == 0) return (items.ToList(), []);
        var studies = items.Select(studyOf).Distinct(StringComparer.Ordinal).OrderBy(s => s, StringComparer.Ordinal).ToArray();
        new Random(seed).Shuffle(studies);
        int nVal = (int)Math.Ceiling(studies.Length * validationFraction);
        var val = new HashSet<string>(studies.Take(nVal), StringComparer.Ordinal);
        return (items.Where(i => !val.Contains(studyOf(i))).ToList(), items.Where(i => val.Contains(studyOf(i))).ToList());
    }
}

/// <summary>A 64-bit FNV-1a hash mixed with a seed: stable across processes and .NET versions (unlike string.GetHashCode).</summary>
public static class StableHash
{
    public static ulong Of(long seed, string text)
    {
        ulong h = 14695981039346656037UL ^ (ulong)seed * 0x9E3779B97F4A7C15UL;
        foreach (char c in text)
        {
            h ^= c;
            h *= 1099511628211UL;
        }
        // final avalanche (splitmix64)
        h ^= h >> 30; h *= 0xBF58476D1CE4E5B9UL; h ^= h >> 27; h *= 0x94D049BB133111EBUL; h ^= h >> 31;
        return h;
    }

    /// <summary>
    /// A non-negative <see cref="Random"/> seed for the stream named <paramref name="what"/> at (<paramref name="a"/>,
    /// <paramref name="b"/>), the same in every process (HashCode.Combine is randomised per process: a seeded run would
    /// not repeat, nor would a resumed one see the batches an uninterrupted one saw).
    /// </summary>
    public static int Seed(long seed, string what, long a, long b = 0) =>
        (int)(Of(seed, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{what}/{a}/{b}")) & 0x7fffffff);
}
