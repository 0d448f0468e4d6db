using SpineXR.Diagnostics;
using SpineXR.Dicom;
using SpineXR.Dicom.Imaging;
using SpineXR.Dicom.Rendering;
using SpineXR.Inference;

namespace SpineXR.Web.Uploads;

/// <summary>
/// DICOM uploads: Part 10 read from memory by SpineXR.Dicom; the models get the reference 8-bit conversion
/// (VOI LUT as pydicom's apply_voi_lut, MONOCHROME1 inverted, min-max), exactly as `spinexr predict` feeds them;
/// the viewer gets modality values (Rescale Slope/Intercept or Modality LUT applied), the file's first window
/// and whether the image is MONOCHROME1.
/// </summary>
public static class DicomUpload
{
    /// <summary>Part 10 files carry "DICM" after a 128-byte preamble.</summary>
    public static bool LooksLikeDicom(ReadOnlySpan<byte> bytes) => bytes.Length >= 132 && bytes.Slice(128, 4).SequenceEqual("DICM"u8);

    public static DecodedUpload Decode(ReadOnlyMemory<byte> bytes, string fileName, int viewMaxSide)
    {
        DicomFile file;
        StoredFrame frame;
        byte[] gray8;
        try
        {
            file = DicomFile.Read(bytes, DicomReadOptions.Default, fileName);
            frame = PixelDecoder.DecodeGray(file);
            gray8 = GrayscaleRenderer.ToGray8(frame, file.Dataset, RenderOptions.Reference);
        }
        catch (DicomException e)
        {
            throw new UnreadableUploadException(ErrorText.WithoutName(e.Message, fileName), e);
        }

        var ds = file.Dataset;
        int width = frame.Columns, height = frame.Rows;
        string? sop = ds.GetString(DicomTags.SOPInstanceUID)?.Trim();
        string id = string.IsNullOrEmpty(sop) ? UploadIds.FromContent(bytes.Span) : sop;
        string resultId = UploadIds.IsSafe(sop) ? sop! : UploadIds.FromContent(bytes.Span);
        var image = new SpineImage(fileName, id, gray8, width, height,
            ds.GetString(DicomTags.StudyInstanceUID)?.Trim(), ds.GetString(DicomTags.SeriesInstanceUID)?.Trim(), sop,
            SpineXR.Reports.DerivedInstance.SourceHeader(ds)); // for the SR and presentation state asked of the result

        var window = GrayscaleRenderer.SelectVoi(ds, RenderOptions.Reference, []).Window;
        bool invert = frame.Photometric == "MONOCHROME1";
        var modality = ModalityLut.FromDataset(ds);
        int[] stored = frame.Values;
        return new DecodedUpload(image, () =>
        {
            if (modality.IsIdentity)
                return ImageView.Create<int>(stored, gray8, width, height, viewMaxSide, 1, 0, window?.Center, window?.Width, invert);
            var values = new float[stored.Length];
            for (int i = 0; i < values.Length; i++) values[i] = (float)modality.Apply(stored[i]);
            return ImageView.Create<float>(values, gray8, width, height, viewMaxSide, 1, 0, window?.Center, window?.Width, invert);
        }, resultId);
    }
}
