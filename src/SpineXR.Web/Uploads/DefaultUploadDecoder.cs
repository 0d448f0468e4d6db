namespace SpineXR.Web.Uploads;

/// <summary>DICOM through SpineXR.Dicom, PNG through SkiaSharp.</summary>
public sealed class DefaultUploadDecoder : IUploadDecoder
{
    public static readonly DefaultUploadDecoder Instance = new();

    public DecodedUpload Decode(ReadOnlyMemory<byte> bytes, UploadKind kind, string fileName, UploadLimits limits) => kind switch
    {
        UploadKind.Dicom => DicomUpload.Decode(bytes, fileName, limits),
        UploadKind.Png => PngUpload.Decode(bytes, fileName, limits),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };
}
