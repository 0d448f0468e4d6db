namespace SpineXR.Dicom.Rendering;

/// <summary>Whether to apply the dataset's VOI LUT or window.</summary>
public enum VoiMode
{
    /// <summary>As pydicom's apply_voi_lut with its defaults (VOI LUT Sequence first, then the first window).</summary>
    Auto,

    /// <summary>No VOI: min-max of the stored (or modality) values.</summary>
    None,
}

/// <summary>
/// How stored values become display values. The defaults give the VinDr-SpineXR reference conversion:
/// pydicom apply_voi_lut on the stored values, MONOCHROME1 inverted, min-max to the output range.
/// </summary>
public sealed record RenderOptions
{
    /// <summary>VOI handling (default <see cref="VoiMode.Auto"/>).</summary>
    public VoiMode Voi { get; init; } = VoiMode.Auto;

    /// <summary>Which window / VOI LUT view to use (default 0, the first).</summary>
    public int VoiIndex { get; init; }

    /// <summary>Prefer the VOI LUT Sequence over Window Center/Width when both exist (default true, as pydicom).</summary>
    public bool PreferVoiLut { get; init; } = true;

    /// <summary>
    /// Apply the Modality LUT / rescale before VOI (default false: the reference applies the window to stored values,
    /// which is what pydicom's apply_voi_lut on pixel_array does; identical for CR/DX without rescale).
    /// </summary>
    public bool ApplyModalityLut { get; init; }

    /// <summary>Invert MONOCHROME1 so that higher is brighter (default true).</summary>
    public bool InvertMonochrome1 { get; init; } = true;

    /// <summary>
    /// Leave Pixel Padding Value (and the range to Pixel Padding Range Limit) out of the min-max and paint it black
    /// (default false, so the output equals the reference).
    /// </summary>
    public bool ExcludePixelPadding { get; init; }

    /// <summary>When the VOI attributes are invalid (where pydicom raises), render without VOI and warn (default true); false throws.</summary>
    public bool FallbackOnVoiError { get; init; } = true;

    public static RenderOptions Reference { get; } = new();

    public RenderOptions Validate()
    {
        if (VoiIndex < 0) throw new ArgumentException("must not be negative", nameof(VoiIndex));
        return this;
    }
}

/// <summary>What a rendering did: the VOI applied, whether it inverted, the value range mapped to the output, warnings.</summary>
public sealed record RenderInfo(string Voi, bool Inverted, double Min, double Max, IReadOnlyList<string> Warnings);
