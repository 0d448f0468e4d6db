namespace SpineXR.Dicom.Codecs;

/// <summary>Checks shared by every codec: a pixel format a codec can fill, and stream dimensions that match it.</summary>
internal static class FrameChecks
{
    /// <summary>Largest decoded frame any codec will allocate (about 2 GiB, the .NET array limit).</summary>
    public const long MaxFrameBytes = int.MaxValue - 64;

    /// <summary>Throws <see cref="DicomException"/> when <paramref name="f"/> cannot describe a decodable frame.</summary>
    public static void Validate(PixelFormat f, string codec)
    {
        if (f.Rows <= 0 || f.Columns <= 0)
            throw new DicomException($"{codec}: image size {f.Rows}x{f.Columns} is empty");
        if (f.SamplesPerPixel is not (1 or 3 or 4))
            throw new DicomException($"{codec}: {f.SamplesPerPixel} samples per pixel is not supported");
        if (f.BitsAllocated is not (8 or 16 or 32))
            throw new DicomException($"{codec}: Bits Allocated {f.BitsAllocated} is not supported");
        if (f.BitsStored < 1 || f.BitsStored > f.BitsAllocated)
            throw new DicomException($"{codec}: Bits Stored {f.BitsStored} does not fit Bits Allocated {f.BitsAllocated}");
        if (f.FrameBytes > MaxFrameBytes)
            throw new DicomException($"{codec}: a {f.Rows}x{f.Columns}x{f.SamplesPerPixel} frame of {f.BitsAllocated}-bit samples is too large");
    }

    /// <summary>Throws when the stream's declared geometry differs from the dataset's.</summary>
    public static void MatchGeometry(PixelFormat f, string codec, long rows, long columns, long components)
    {
        if (rows != f.Rows || columns != f.Columns)
            throw new DicomException($"{codec}: the stream is {columns}x{rows} pixels but the dataset says {f.Columns}x{f.Rows}");
        if (components != f.SamplesPerPixel)
            throw new DicomException($"{codec}: the stream has {components} components but the dataset says {f.SamplesPerPixel} samples per pixel");
    }

    /// <summary>Throws when the stream's sample precision does not fit the dataset's Bits Allocated.</summary>
    public static void MatchPrecision(PixelFormat f, string codec, int precision)
    {
        if (precision < 1 || precision > f.BitsAllocated)
            throw new DicomException($"{codec}: the stream's {precision}-bit samples do not fit Bits Allocated {f.BitsAllocated}");
    }
}
