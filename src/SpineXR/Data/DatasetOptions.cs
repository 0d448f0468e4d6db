namespace SpineXR.Data;

/// <summary>How <see cref="DatasetIndex.Load"/> reads a dataset.</summary>
public sealed record DatasetOptions
{
    /// <summary>Splits to read, each from <c>annotations/NAME.csv</c> and <c>NAME_images/</c>. Default train and test.</summary>
    public IReadOnlyList<string> Splits { get; init; } = ["train", "test"];

    /// <summary>Reads one image file's header (size); null = the DICOM header reader (<see cref="DicomImageMeta.Read"/>).</summary>
    public Func<string, ImageMeta>? HeaderReader { get; init; }

    /// <summary>Write <c>NAME_meta.csv</c> after reading headers that were not in it (default true; failures to write are ignored).</summary>
    public bool WriteMetaCache { get; init; } = true;

    /// <summary>Parallel header reads; 0 = processor count.</summary>
    public int Workers { get; init; }

    /// <summary>Image file extensions tried, in order, for <c>NAME_images/&lt;image_id&gt;EXT</c>.</summary>
    public IReadOnlyList<string> Extensions { get; init; } = [".dicom", ".dcm"];
}
