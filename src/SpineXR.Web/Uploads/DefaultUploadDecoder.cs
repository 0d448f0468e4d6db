namespace SpineXR.Web.Uploads;

/// <summary>DICOM through SpineXR.Dicom, PNG through SkiaSharp.</summary>
public sealed class DefaultUploadDecoder : IUploadDecoder
{
    public static readonly DefaultUploadDecoder Instance = new();

    public DecodedUpload Decode(ReadOnlyMemory<byte> bytes, UploadKind kind, string fileName, int viewMaxSide) => kind switch
    {
        UploadKind.Dicom => DicomUpload.Decode(bytes, fileName, viewMaxSide),
        UploadKind.Png => PngUpload.Decode(bytes, fileName, viewMaxSide),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };
}
