namespace SpineXR.Dicom;

/// <summary>How much of a file to read and the bounds applied while parsing.</summary>
public sealed record DicomReadOptions
{
    /// <summary>Stop at Pixel Data (header only): reads only the start of the file, for `dicom info` and indexing. Default false.</summary>
    public bool StopBeforePixelData { get; init; }

    /// <summary>Deepest sequence nesting accepted (default 32, at most 256); deeper is a <see cref="DicomException"/>.</summary>
    public int MaxSequenceDepth { get; init; } = 32;

    /// <summary>Largest inflated size of a deflated dataset (default 1 GiB), against deflate bombs.</summary>
    public long MaxInflatedBytes { get; init; } = 1L << 30;

    /// <summary>Reads the whole file (default).</summary>
    public static DicomReadOptions Default { get; } = new();

    /// <summary>Header only, stopping before Pixel Data.</summary>
    public static DicomReadOptions HeaderOnly { get; } = new() { StopBeforePixelData = true };

    public DicomReadOptions Validate()
    {
        if (MaxSequenceDepth is < 1 or > 256) throw new ArgumentException("must be 1 to 256", nameof(MaxSequenceDepth));
        if (MaxInflatedBytes < 1) throw new ArgumentException("must be positive", nameof(MaxInflatedBytes));
        return this;
    }
}
