namespace SpineXR.Data;

/// <summary>What went wrong with one input of a dataset.</summary>
public enum DatasetIssueKind
{
    /// <summary>An annotation file lacks a required column; the file is skipped.</summary>
    MissingColumn,
    /// <summary>An annotation file is absent or cannot be parsed.</summary>
    UnreadableAnnotations,
    /// <summary>A CSV row cannot be used (bad number, empty image id); the row is skipped.</summary>
    BadRow,
    /// <summary>A CSV row names an image whose file does not exist; the image is skipped.</summary>
    MissingImage,
    /// <summary>An image file exists but its header cannot be read; the image is skipped.</summary>
    UnreadableImage,
    /// <summary>A box with zero (or negative) area, before or after clipping; the box is dropped.</summary>
    ZeroAreaBox,
    /// <summary>A box reaching outside the image; it is clipped to the image.</summary>
    BoxClipped,
    /// <summary>A lesion type that is neither one of the seven classes, <c>No finding</c>, nor a known other category; counted, not trained.</summary>
    UnknownLesionType,
    /// <summary>An image listed in more than one split; only its first split keeps it.</summary>
    DuplicateImage,
}

/// <summary>One problem found while reading a dataset: which file, which image, why.</summary>
public sealed record DatasetIssue(DatasetIssueKind Kind, string File, string? ImageId, string Reason)
{
    /// <summary>True for problems that lose data (a file, image, row or box); false for notes (clipping, unknown types).</summary>
    public bool IsError => Kind is not (DatasetIssueKind.BoxClipped or DatasetIssueKind.UnknownLesionType or DatasetIssueKind.ZeroAreaBox);

    public override string ToString() => $"{Kind}: {File}{(ImageId != null ? " [" + ImageId + "]" : "")}: {Reason}";
}

/// <summary>The problems found while reading a dataset, thread-safe to add to; commands print them.</summary>
public sealed class DatasetIssues
{
    private readonly List<DatasetIssue> _items = [];

    public void Add(DatasetIssue issue) { lock (_items) _items.Add(issue); }

    public void Add(DatasetIssueKind kind, string file, string? imageId, string reason) => Add(new DatasetIssue(kind, file, imageId, reason));

    public IReadOnlyList<DatasetIssue> Items { get { lock (_items) return _items.ToArray(); } }

    public int Count { get { lock (_items) return _items.Count; } }

    /// <summary>Number of issues of one kind.</summary>
    public int CountOf(DatasetIssueKind kind) { lock (_items) return _items.Count(i => i.Kind == kind); }

    /// <summary>True when some input was lost (a file, image, row or box skipped).</summary>
    public bool HasErrors { get { lock (_items) return _items.Any(i => i.IsError); } }

    /// <summary>Writes a per-kind summary and the first <paramref name="maxLines"/> issues, one line each.</summary>
    public void Print(TextWriter w, int maxLines = 20)
    {
        var items = Items;
        if (items.Count == 0) return;
        foreach (var g in items.GroupBy(i => i.Kind).OrderBy(g => g.Key))
            w.WriteLine($"dataset: {g.Count()} x {g.Key}");
        foreach (var i in items.Take(maxLines)) w.WriteLine("  " + i);
        if (items.Count > maxLines) w.WriteLine($"  ... {items.Count - maxLines} more");
    }
}
