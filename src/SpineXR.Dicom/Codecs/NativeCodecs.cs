namespace SpineXR.Dicom.Codecs;

/// <summary>Checks that the native codec libraries load (for `spinexr doctor`).</summary>
public static class NativeCodecs
{
    /// <summary>Loads OpenJPEG and returns its version; throws <see cref="DicomException"/> naming the Debian package when missing.</summary>
    public static string OpenJpegVersion() => OpenJpeg.EnsureLoaded();

    /// <summary>Loads CharLS and returns its version; throws <see cref="DicomException"/> naming the Debian package when missing.</summary>
    public static string CharLsVersion() => CharLs.EnsureLoaded();
}
