using SpineXR.Diagnostics;
using SpineXR.Dicom;
using SpineXR.Dicom.Imaging;
using SpineXR.Dicom.Rendering;
using SpineXR.Inference;
using SpineXR.Web.Guards;

namespace SpineXR.Web.Uploads;

/// <summary>
/// DICOM uploads: Part 10 read from memory by SpineXR.Dicom, then `predict`'s own loader
/// (<see cref="SpineImageLoader.Decode"/>: JPEG 2000 at the wavelet level the consumers need, the reference 8-bit
/// conversion); the viewer gets modality values (Rescale Slope/Intercept or Modality LUT applied), the file's
/// first window and whether the image is MONOCHROME1. Before any pixel is decoded the declared size is checked
/// against the pixel limit and the decode's memory reserved from the budget.
/// </summary>
public static class DicomUpload
{
    /// <summary>Part 10 files carry "DICM" after a 128-byte preamble.</summary>
    public static bool LooksLikeDicom(ReadOnlySpan<byte> bytes) => bytes.Length >= 132 && bytes.Slice(128, 4).SequenceEqual("DICM"u8);

    public static DecodedUpload Decode(ReadOnlyMemory<byte> bytes, string fileName, UploadLimits limits)
    {
        IDisposable? reservation = null;
        try
        {
            var file = DicomFile.Read(bytes, DicomReadOptions.Default with { MaxInflatedBytes = limits.MaxInflatedBytes }, fileName);
            var pixels = DicomPixelData.Create(file, limits.Decode);
            var format = pixels.Format;
            limits.CheckPixels(format.Columns, format.Rows);
            int reduction = pixels.PlannedReduction(0, SpineImageLoader.MaxReduction(pixels, limits.Allowance));
            long decodedPixels = (long)(((format.Columns + (1 << reduction) - 1) >> reduction) * (long)((format.Rows + (1 << reduction) - 1) >> reduction));
            reservation = limits.Reserve?.Invoke(DecodeBudget.Estimate(decodedPixels, format.SamplesPerPixel, format.BytesPerSample, pixels.IsEncapsulated));

            var ds = file.Dataset;
            string? sop = ds.GetString(DicomTags.SOPInstanceUID)?.Trim();
            string id = string.IsNullOrEmpty(sop) ? UploadIds.FromContent(bytes.Span) : sop;
            var (image, frame) = SpineImageLoader.Decode(file, pixels, fileName, id, reduction);
            var window = GrayscaleRenderer.SelectVoi(ds, RenderOptions.Reference, []).Window;
            bool invert = frame.Photometric == "MONOCHROME1";
            var modality = ModalityLut.FromDataset(ds);
            int[] stored = frame.Values;
            byte[] gray8 = image.Gray8;
            int width = frame.Columns, height = frame.Rows, ow = image.OriginalWidth, oh = image.OriginalHeight;
            return new DecodedUpload(image, () =>
            {
                if (modality.IsIdentity)
                    return ImageView.Create<int>(stored, gray8, width, height, limits.ViewMaxSide, 1, 0, window?.Center, window?.Width, invert, ow, oh);
                var values = new float[stored.Length];
                for (int i = 0; i < values.Length; i++) values[i] = (float)modality.Apply(stored[i]);
                return ImageView.Create<float>(values, gray8, width, height, limits.ViewMaxSide, 1, 0, window?.Center, window?.Width, invert, ow, oh);
            }) { Reservation = reservation };
        }
        catch (DicomException e)
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
