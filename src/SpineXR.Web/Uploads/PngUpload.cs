using SpineXR.Diagnostics;
using SpineXR.Inference;

namespace SpineXR.Web.Uploads;

/// <summary>
/// PNG uploads through `predict`'s own loader (<see cref="SpineImageLoader.DecodePng"/>: 8-bit grey as is, 16-bit
/// grey min-max scaled as the reference conversion and kept at 16 bits for windowing, colour as luma), after the
/// declared size is checked against the pixel limit and the decode's memory reserved from the budget.
/// </summary>
public static class PngUpload
{
    public static bool LooksLikePng(ReadOnlySpan<byte> bytes) => bytes.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);

    public static DecodedUpload Decode(ReadOnlyMemory<byte> bytes, string fileName, UploadLimits limits)
    {
        var span = bytes.Span;
        IDisposable? reservation = null;
        try
        {
            var (width, height, bitDepth, colorType) = SpineImageLoader.PngHeader(span);
            limits.CheckPixels(width, height);
            bool grey16 = bitDepth == 16 && colorType is 0 or 4;
            // 16-bit grey: the values (2) and the 8-bit copy (1); otherwise Skia's RGBA bitmap (4) and the 8-bit copy.
            reservation = limits.Reserve?.Invoke((long)width * height * (grey16 ? 3 : 5));
            var image = SpineImageLoader.DecodePng(fileName, span, UploadIds.FromContent(span), limits.MaxPixels, out var values);
            byte[] gray8 = image.Gray8;
            int viewMaxSide = limits.ViewMaxSide;
            Func<ImageView> view = values is not null
                ? () => ImageView.Create<ushort>(values, gray8, width, height, viewMaxSide)
                : () => ImageView.Create<byte>(gray8, gray8, width, height, viewMaxSide, windowCenter: 127.5, windowWidth: 256);
            return new DecodedUpload(image, view) { Reservation = reservation };
        }
        catch (InvalidDataException e)
        {
            reservation?.Dispose();
            throw new UnreadableUploadException(ErrorText.WithoutName(e.Message, fileName), e);
        }
        catch
        {
            reservation?.Dispose();
            throw;
        }
    }
}
