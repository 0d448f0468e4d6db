namespace SpineXR.Dicom;

/// <summary>
/// The header of a grayscale radiograph to write (VinDr-SpineXR style: minimal patient and image modules).
/// Missing UIDs are generated (random, or from <see cref="UidSeed"/> for reproducible files).
/// </summary>
public sealed record GrayscaleImageHeader
{
    public required int Rows { get; init; }
    public required int Columns { get; init; }

    /// <summary>Significant bits, 1 to 16 (default 12, as VinDr-SpineXR); 8 or fewer are written 8-bit allocated.</summary>
    public int BitsStored { get; init; } = 12;

    /// <summary>MONOCHROME2 (default, higher = brighter) or MONOCHROME1.</summary>
    public string Photometric { get; init; } = "MONOCHROME2";

    /// <summary>SOP Class UID; default Digital X-Ray Image Storage - For Presentation.</summary>
    public string SopClassUid { get; init; } = DicomUid.DigitalXRayImageStorageForPresentation;

    public string? SopInstanceUid { get; init; }
    public string? StudyInstanceUid { get; init; }
    public string? SeriesInstanceUid { get; init; }

    /// <summary>When set, missing UIDs derive from this seed (same seed, same UIDs).</summary>
    public string? UidSeed { get; init; }

    /// <summary>Modality (default DX; VinDr-SpineXR has CR and DX).</summary>
    public string Modality { get; init; } = "DX";

    public string? BodyPartExamined { get; init; }
    public string? PatientId { get; init; }
    public string? PatientName { get; init; }

    /// <summary>M, F or O.</summary>
    public string? PatientSex { get; init; }

    /// <summary>Age string such as 045Y.</summary>
    public string? PatientAge { get; init; }

    public string? StudyDate { get; init; }
    public string? Manufacturer { get; init; }

    /// <summary>Row and column spacing in mm, written to Pixel Spacing and Imager Pixel Spacing.</summary>
    public double[]? PixelSpacing { get; init; }

    public double? WindowCenter { get; init; }
    public double? WindowWidth { get; init; }

    public GrayscaleImageHeader Validate()
    {
        if (Rows is < 1 or > 65535) throw new ArgumentException("must be 1 to 65535", nameof(Rows));
        if (Columns is < 1 or > 65535) throw new ArgumentException("must be 1 to 65535", nameof(Columns));
        if (BitsStored is < 1 or > 16) throw new ArgumentException("must be 1 to 16", nameof(BitsStored));
        if (Photometric is not ("MONOCHROME1" or "MONOCHROME2")) throw new ArgumentException("must be MONOCHROME1 or MONOCHROME2", nameof(Photometric));
        if (PixelSpacing is { Length: not 2 } || PixelSpacing?.Any(s => !(s > 0)) == true) throw new ArgumentException("must be two positive numbers", nameof(PixelSpacing));
        if (WindowWidth is { } w && !(w > 0)) throw new ArgumentException("must be positive", nameof(WindowWidth));
        if (WindowCenter.HasValue != WindowWidth.HasValue) throw new ArgumentException("window center and width go together", nameof(WindowWidth));
        foreach (var (uid, name) in new[] { (SopInstanceUid, nameof(SopInstanceUid)), (StudyInstanceUid, nameof(StudyInstanceUid)), (SeriesInstanceUid, nameof(SeriesInstanceUid)), (SopClassUid, nameof(SopClassUid)) })
            if (uid != null && !DicomUid.IsValid(uid)) throw new ArgumentException($"'{uid}' is not a valid UID", name);
        return this;
    }
}
